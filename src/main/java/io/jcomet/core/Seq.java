package io.jcomet.core;

/**
 * 32-bit sequence arithmetic. Sequence numbers wrap, so they are compared by signed difference
 * ({@code a - b > 0} means a is after b), as icomet does; valid while the two are within 2^31.
 */
public final class Seq {
    private Seq() {}

    /** Positive when {@code a} comes after {@code b}. */
    public static int diff(int a, int b) {
        return a - b;
    }

    public static boolean after(int a, int b) {
        return a - b > 0;
    }
}
