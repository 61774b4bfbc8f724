# jcomet: the https front. One TLS port (jetty.ssl.port, 8443) whose ALPN offers h2 and http/1.1;
# the same web app answers it as the plain front ports (a front port: no admin API there).
# Off unless enabled: bin/jetty-dist --tls, or uncomment --module=jcomet-tls in start.d/jcomet-tls.ini.
# Its settings are in start.d/jcomet-tls*.ini and start.d/jcomet-h2.ini (generated blocks: reasons there).

[description]
jcomet https front: a TLS connector (jetty.ssl.port) with ALPN h2 + http/1.1, TLS 1.2/1.3 only,
session resumption on, and the keystore reloaded when its file changes (no restart).

[tags]
connector
jcomet

[depend]
ssl
alpn
http2
https
ssl-reload
