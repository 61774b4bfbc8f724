package io.jcomet.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Reading a raw connection in tests until an expected text arrives, with a deadline. Any thread. */
public final class SocketReads {
    private SocketReads() {
    }

    /**
     * What {@code in} delivers until {@code marker} has arrived; fails when the stream ends first or
     * the deadline passes (the socket's read timeout only paces the checks).
     */
    public static String readUntil(InputStream in, String marker, Duration timeout) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[4096];
        while (!b.toString(StandardCharsets.UTF_8).contains(marker)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + marker + " in: " + b.toString(StandardCharsets.UTF_8));
            }
            try {
                int n = in.read(buf);
                if (n < 0) {
                    throw new AssertionError("closed before " + marker + ": " + b.toString(StandardCharsets.UTF_8));
                }
                b.write(buf, 0, n);
            } catch (SocketTimeoutException e) {
                // keep waiting until the deadline
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
