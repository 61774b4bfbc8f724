package io.jcomet.protocol;

/** A request parameter was wrong; answered with 400 and {@code {"type":"error","reason":...}}. */
public final class BadRequestException extends RuntimeException {
    public BadRequestException(String reason) {
        super(reason, null, false, false); // no stack trace: this is an expected, frequent event
    }
}
