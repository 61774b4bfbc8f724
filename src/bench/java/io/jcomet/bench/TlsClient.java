package io.jcomet.bench;

import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for the load client ({@code --tls resume|full}): one JDK client context for the whole run,
 * which accepts any server certificate (a load client on loopback, against a server with a
 * self-signed or development certificate; it checks nothing and must not be used for anything else).
 *
 * <p>{@code resume}: each subscriber has its own entry in the client's session cache (its engine is
 * named {@code subN.bench}), as each browser keeps its own tickets, so a reconnecting subscriber
 * resumes its session (TLS 1.3: a ticket the server sent after the first handshake). {@code full}:
 * engines have no peer name, so nothing is ever resumed and every connection is a full handshake.
 * No SNI is sent either way: the name is only the cache key.
 *
 * <p>Threads: created once by the pool; engines are made and used on their reactor's thread.
 */
final class TlsClient {
    private final SSLContext context;
    private final boolean resume;

    TlsClient(boolean resume) {
        this.resume = resume;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("no TLS client context: " + e, e);
        }
        context.getClientSessionContext().setSessionCacheSize(0); // unbounded: one entry per subscriber
    }

    /** A client engine for subscriber {@code id} to {@code port}, its handshake not begun. */
    SSLEngine engine(int id, int port) {
        SSLEngine e = resume ? context.createSSLEngine("sub" + id + ".bench", port) : context.createSSLEngine();
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setServerNames(List.of());
        p.setApplicationProtocols(new String[] {"http/1.1"});
        e.setSSLParameters(p);
        return e;
    }
}
