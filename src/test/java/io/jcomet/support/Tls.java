package io.jcomet.support;

import io.jcomet.launcher.DevCertificate;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Clients for the https front in tests, trusting exactly the test's certificate (the keystore the
 * server serves, used as trust store): no trust-all, host names checked as a browser would
 * (the generated certificates name localhost and 127.0.0.1).
 *
 * <p>Threads: stateless static functions; the clients they return are thread-safe.
 */
public final class Tls {
    private Tls() {
    }

    /** An SSLContext that trusts the certificates in this PKCS12 keystore. */
    public static SSLContext trusting(Path keystore, String password) {
        try (InputStream in = Files.newInputStream(keystore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("cannot trust " + keystore, e);
        }
    }

    /** An SSLContext that trusts the certificate in this PEM file (nginx's, in tests). */
    public static SSLContext trustingPem(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("server", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("cannot trust " + pem, e);
        }
    }

    /** Trusts the launcher's development certificate ({@link DevCertificate#DEFAULT}). */
    public static SSLContext trustingDevCertificate() {
        return trusting(DevCertificate.DEFAULT, DevCertificate.PASSWORD);
    }

    /** An HttpClient that asks for h2 by ALPN (falls back to http/1.1 if the server refuses it). */
    public static HttpClient h2(SSLContext ctx) {
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** An HttpClient that speaks HTTP/1.1 over TLS (WebSocket handshakes always do). */
    public static HttpClient http11(SSLContext ctx) {
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A connected, handshaken TLS socket to 127.0.0.1:port offering only http/1.1 by ALPN. */
    public static SSLSocket http11Socket(SSLContext ctx, int port) throws java.io.IOException {
        return http11Socket(ctx, port, null);
    }

    /** The same from a chosen local address (127.0.0.2, ...: another client as the server sees it); null: any. */
    public static SSLSocket http11Socket(SSLContext ctx, int port, java.net.InetAddress from) throws java.io.IOException {
        SSLSocket s = (SSLSocket) (from == null ? ctx.getSocketFactory().createSocket("127.0.0.1", port)
                : ctx.getSocketFactory().createSocket(java.net.InetAddress.getByName("127.0.0.1"), port, from, 0));
        SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(new String[] {"http/1.1"});
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setServerNames(java.util.List.<javax.net.ssl.SNIServerName>of());
        s.setSSLParameters(p);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }
}
