package io.jcomet.bench;

/** The subscribe requests of the HTTP transports. Stateless; any thread. */
final class HttpRequests {

    private HttpRequests() {
    }

    /** {@code GET path?cname=..&seq=..&noop=..&epoch=} on a keep-alive HTTP/1.1 connection. */
    static String subscribe(String path, String cname, int seq, int noop, String host) {
        return "GET " + path + "?cname=" + cname + "&seq=" + seq + "&noop=" + noop
                // an empty epoch marks a jcomet-aware client: jcomet then reports lost messages as gap
                // (icomet ignores the parameter); without it jcomet answers as icomet does
                + "&epoch="
                + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }
}
