# jcomet: the front (subscriber) connectors. The admin connector is jetty-home's `http` module
# (start.d/http.ini); this module adds jcomet.front.count more, on consecutive ports from
# jcomet.front.port, built by etc/jcomet-front-connectors.xml (generated, see its header).

[description]
jcomet front connectors: jcomet.front.count HTTP connectors on ports jcomet.front.port and up,
sharing the http-config of the admin connector. Also tells the web app which port is admin.

[tags]
connector
jcomet

[depend]
http

[lib]
## the connection-level front door (io.jcomet.jetty.FrontDoor): request-head deadline, connections
## per client address, open files kept for the admin port; built by `mvn package` next to the WAR
${jcomet.jetty.jar}

[xml]
etc/jcomet-front-connectors.xml

[ini]
jcomet.jetty.jar?=${jetty.base}/../target/jcomet-jetty.jar

[ini-template]
## First front port; the front ports are jcomet.front.port .. jcomet.front.port + count - 1.
# jcomet.front.port=8100
## Number of front connectors, 0..100 (100 = what the generated XML holds).
# jcomet.front.count=100
## Interface to bind; unset = all interfaces (front ports face the subscribers).
# jcomet.front.host=
## Acceptor threads per connector (0 = the selector thread accepts).
# jcomet.front.acceptors=0
## Selector threads per connector; each is leased from the server thread pool for good.
# jcomet.front.selectors=1
## Idle timeout of a front connection, ms.
# jcomet.front.idleTimeout=60000
## listen() backlog per port (capped by net.core.somaxconn; 0 = platform default).
# jcomet.front.acceptQueueSize=4096
## SO_REUSEADDR, TCP_NODELAY, SO_RCVBUF / SO_SNDBUF (-1 = kernel default, autotuned).
# jcomet.front.reuseAddress=true
# jcomet.front.acceptedTcpNoDelay=true
# jcomet.front.acceptedReceiveBufferSize=-1
# jcomet.front.acceptedSendBufferSize=-1
