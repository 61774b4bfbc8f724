package io.jcomet.protocol;

import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Requests the container cannot decode (bad percent-encoding, invalid UTF-8 in a query or form
 * body): recognising the container's exceptions, and logging them at most once a minute, without
 * the URI (an attacker must not be able to write kilobytes of log per request).
 *
 * <p>Threads: any; the log throttle is a pair of atomics.
 */
public final class MalformedRequests {
    private static final Logger LOG = Logger.getLogger("io.jcomet");
    static final long LOG_INTERVAL_NANOS = 60_000_000_000L;
    private static final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private static final AtomicLong sinceLastLog = new AtomicLong();

    private MalformedRequests() {}

    /**
     * True for what containers throw while decoding parameters: {@code IllegalArgumentException},
     * {@code IllegalStateException} and Jetty's {@code BadMessageException} (matched by name: the WAR
     * does not see Jetty's classes).
     */
    public static boolean isDecodeFailure(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().endsWith("BadMessageException")) {
                return true; // Jetty's own word for a request it cannot read
            }
            if ((t instanceof IllegalArgumentException || t instanceof IllegalStateException) && thrownByContainer(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the first frame outside the JDK that threw {@code t} is the container's (decoding a
     * parameter for us) rather than jcomet's: an IllegalStateException jcomet throws itself is a
     * bug, answered 500 and logged, never passed off as the client's bad request.
     */
    static boolean thrownByContainer(Throwable t) {
        for (StackTraceElement f : t.getStackTrace()) {
            String c = f.getClassName();
            if (c.startsWith("io.jcomet.")) {
                return false;
            }
            if (c.startsWith("org.eclipse.jetty.") || c.startsWith("org.apache.catalina.")
                    || c.startsWith("org.apache.tomcat.") || c.startsWith("org.apache.coyote.")) {
                return true;
            }
        }
        return false;
    }

    /** Counts one malformed request and logs a one-line summary at most once per interval. */
    public static void note(String what) {
        long n = sinceLastLog.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLog.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLog.compareAndSet(last, now)) {
            sinceLastLog.addAndGet(-n);
            LOG.warning("jcomet: " + n + " malformed request(s) answered 400 since the last note (latest: "
                    + Params.abbreviate(what == null ? "?" : what) + "); the next note in a minute at the earliest");
        }
    }
}
