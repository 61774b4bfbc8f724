[description]
jcomet /ws through Jetty's own WebSocket core (no Jakarta WebSocket layer: less memory per socket,
docs/BENCHMARKS.md "WebSocket (/ws)"). Puts Jetty's WebSocket core and its servlet upgrade filter
on the ee10 class path; the WAR's WEB-INF/jetty-ee10-web.xml lets the web app see them.

[environment]
ee10

[depend]
websocket-core-server
ee10-servlet

[lib]
lib/ee10-websocket/jetty-ee10-websocket-servlet-${jetty.version}.jar
