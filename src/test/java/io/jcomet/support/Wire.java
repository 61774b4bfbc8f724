package io.jcomet.support;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.core.Broker;
import io.jcomet.protocol.Transport;
import java.util.List;

/**
 * One client of one transport, held by the real subscriber class of that transport
 * ({@code HttpSubscriber}, or a WebSocket's {@code WsSubscriber}) over a scripted output: no
 * sockets, and the test decides when a write happens, fails, or makes something else happen. Race
 * tests run the same scenario over every kind of wire.
 */
public interface Wire extends AutoCloseable {
    Transport transport();

    /** Subscribes the way the endpoint does for a request ({@code /sub?cname=..&seq=..}, a ws {@code sub}). */
    void subscribe(Broker broker, String cname, int seq);

    /** Runs {@code r} inside the next write of the response (after its bytes were taken), once. */
    void duringNextWrite(Runnable r);

    /** From now on every write fails, as on a connection the client reset. */
    void failWrites();

    /** The container tells us the client went away (the request's error, or the socket's close). */
    void clientLeaves();

    /** Every message the client received, parsed from the transport's framing. */
    List<JsonNode> received();

    /** Subscriptions this client still holds open (a held request: 0 or 1). */
    int open();

    /** How many times the response was completed or the socket closed by the server: never more than once. */
    int completions();

    /** Whether the client saw the end of its request/subscription (a completed response, an ended subscription). */
    boolean finished();

    @Override
    default void close() {
    }

    /** Messages of the given type, in order. */
    default List<JsonNode> received(String type) {
        return received().stream().filter(m -> type.equals(JsonFrames.type(m))).toList();
    }
}
