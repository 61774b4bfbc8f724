package io.jcomet.core;

/**
 * A request the broker refuses: carries the HTTP status and a reason for the JSON error body.
 * Expected and frequent (limits), so it has no stack trace.
 */
public final class CometException extends RuntimeException {
    private final int status;
    private final Stats.Reject reject;

    public CometException(int status, Stats.Reject reject, String reason) {
        super(reason, null, false, false);
        this.status = status;
        this.reject = reject;
    }

    public int status() { return status; }
    public String reason() { return getMessage(); }
    public Stats.Reject reject() { return reject; }
}
