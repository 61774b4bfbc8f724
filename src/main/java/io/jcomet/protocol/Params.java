package io.jcomet.protocol;

/**
 * Validation of request parameters, shared by every endpoint. Each check throws
 * {@link BadRequestException} with a reason a client can act on.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Params {
    /** Longest accepted JSONP callback path; longer names are not real callbacks. */
    public static final int MAX_CALLBACK_LENGTH = 64;

    private Params() {}

    /**
     * A channel name, as icomet takes it: any text (Chinese, base64 ids with {@code +/=}, {@code /},
     * spaces) except control characters, 1..maxBytes bytes of UTF-8. Names are JSON-escaped wherever
     * they are written, so the only reasons to refuse one are an empty name, a control character
     * (it would break presence lines and logs) and the memory bound.
     */
    public static String cname(String value, int maxBytes) {
        if (value == null || value.isEmpty()) {
            throw new BadRequestException("missing cname");
        }
        int bytes = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
                throw new BadRequestException("cname must not contain control characters");
            }
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    bytes += 4;
                } else {
                    throw new BadRequestException("cname is not valid UTF-8");
                }
            } else {
                bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            }
            if (bytes > maxBytes) {
                throw new BadRequestException("cname longer than max_cname_length (" + maxBytes + " bytes of UTF-8)");
            }
        }
        return value;
    }

    /** Longest accepted idempotency key. */
    public static final int MAX_IDEMPOTENCY_KEY_LENGTH = 128;

    /**
     * A publish's {@code idempotency_key}: 1..{@value #MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII
     * characters without spaces (a UUID, a request id). Null or empty means "no key".
     */
    public static String idempotencyKey(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > MAX_IDEMPOTENCY_KEY_LENGTH) {
            throw new BadRequestException("idempotency_key longer than " + MAX_IDEMPOTENCY_KEY_LENGTH + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new BadRequestException("idempotency_key must be printable ASCII without spaces");
            }
        }
        return value;
    }

    /**
     * A JSONP callback: a plain function path such as {@code icomet_cb_3} or
     * {@code app.handlers.onMsg}: identifiers joined by dots, at most {@value #MAX_CALLBACK_SEGMENTS}
     * of them, not starting at a browser/JavaScript built-in ({@link #FORBIDDEN_ROOTS}), and with no
     * name that reaches a prototype ({@code __proto__} or any {@code __x}, {@code prototype},
     * {@code constructor}). Null or empty means "no callback". Anything else is refused, because
     * icomet echoed it unchecked into a script (reflected XSS) and a built-in path turns the answer
     * into a call the page never meant (docs/PROTOCOL.md).
     */
    public static String callback(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > MAX_CALLBACK_LENGTH) {
            throw new BadRequestException("cb longer than " + MAX_CALLBACK_LENGTH + " characters");
        }
        boolean start = true;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (start) {
                if (!isIdentStart(c)) {
                    throw new BadRequestException("cb must be a JavaScript identifier path like icomet_cb or app.onMessage");
                }
                start = false;
            } else if (c == '.') {
                start = true;
            } else if (!isIdentStart(c) && !(c >= '0' && c <= '9')) {
                throw new BadRequestException("cb must be a JavaScript identifier path like icomet_cb or app.onMessage");
            }
        }
        if (start) {
            throw new BadRequestException("cb must not end with '.'");
        }
        String[] parts = value.split("\\.");
        if (parts.length > MAX_CALLBACK_SEGMENTS) {
            throw new BadRequestException("cb may have at most " + MAX_CALLBACK_SEGMENTS + " dot-separated names");
        }
        if (FORBIDDEN_ROOTS.contains(parts[0])) {
            throw new BadRequestException("cb must be the application's own function, not the built-in " + parts[0]);
        }
        for (String p : parts) {
            if (p.startsWith("__") || p.equals("prototype") || p.equals("constructor")) {
                throw new BadRequestException("cb must not reach prototypes or constructors (" + p + ")");
            }
        }
        return value;
    }

    /** At most this many dot-separated names in a callback path ({@code app.handlers.onMsg} is 3). */
    public static final int MAX_CALLBACK_SEGMENTS = 4;

    /**
     * Browser and JavaScript built-ins a callback path may not start with: through them a reflected
     * call could navigate, evaluate, post or open (location.assign, eval, Function, window.open ...).
     * A JSONP callback is the application's own function (icomet_cb, jQuery123_456, app.onMessage).
     */
    static final java.util.Set<String> FORBIDDEN_ROOTS = java.util.Set.of(
            "window", "self", "top", "parent", "frames", "opener", "globalThis", "document", "location", "history",
            "navigator", "eval", "Function", "Object", "Array", "Reflect", "Proxy", "Symbol", "Promise", "JSON",
            "setTimeout", "setInterval", "queueMicrotask", "requestAnimationFrame", "alert", "confirm", "prompt",
            "open", "close", "stop", "print", "postMessage", "fetch", "importScripts", "XMLHttpRequest", "WebSocket",
            "EventSource", "Worker", "SharedWorker", "ServiceWorker", "localStorage", "sessionStorage", "indexedDB",
            "caches", "cookieStore", "crypto", "name", "origin", "frameElement", "customElements", "trustedTypes",
            "import", "require", "process", "module", "exports", "define", "this", "arguments", "undefined", "NaN", "Infinity");

    private static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
    }

    /** An optional 32-bit integer (icomet's seq, noop, expires). Absent or empty gives {@code dflt}. */
    public static int integer(String name, String value, int dflt) {
        if (value == null || value.isEmpty()) {
            return dflt;
        }
        try {
            long v = Long.parseLong(value.trim());
            // seq is an unsigned 32-bit counter on the wire; accept both halves and wrap
            if (v < Integer.MIN_VALUE || v > 0xFFFFFFFFL) {
                throw new BadRequestException(name + " out of range: " + abbreviate(value));
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new BadRequestException(name + " must be an integer, got: " + abbreviate(value));
        }
    }

    /**
     * icomet's {@code expires}: a positive number of seconds; anything else (absent, 0, negative,
     * not a number) means "the default", as icomet treats it, never an error.
     */
    public static int positiveOrDefault(String value, int dflt) {
        if (value == null) {
            return dflt;
        }
        try {
            long v = Long.parseLong(value.trim());
            return v > 0 && v <= Integer.MAX_VALUE ? (int) v : dflt;
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    /** Keeps error messages short and printable when echoing what the client sent. */
    public static String abbreviate(String value) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < value.length() && b.length() < 32; i++) {
            char c = value.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (value.length() > 32) {
            b.append("...");
        }
        return b.toString();
    }
}
