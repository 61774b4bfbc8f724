package io.jcomet.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.os.OpenFileLimit;
import org.junit.jupiter.api.Test;

/**
 * The front connectors' connection limit that keeps admin_fd_reserve open files for the admin port.
 *
 * <p>Threads: JUnit's test thread only.
 */
class FrontDoorTest {

    @Test
    void theFrontGetsTheLimitMinusWhatIsOpenMinusTheReserve() {
        assertEquals(1024 - 120 - 256, FrontDoor.frontMaxConnections(1024, 120, 256));
        assertEquals(1_110_000 - 300 - 512, FrontDoor.frontMaxConnections(1_110_000, 300, 512));
    }

    @Test
    void noLimitWithoutAReserveOrAKnownFiniteLimit() {
        assertEquals(-1, FrontDoor.frontMaxConnections(1024, 120, 0));
        assertEquals(-1, FrontDoor.frontMaxConnections(OpenFileLimit.UNKNOWN, 120, 512));
        assertEquals(-1, FrontDoor.frontMaxConnections(OpenFileLimit.UNLIMITED, 120, 512));
        assertEquals(-1, FrontDoor.frontMaxConnections(1024, -1, 512));
    }

    @Test
    void aReserveLargerThanWhatIsLeftStillLetsOneConnectionIn() {
        assertEquals(1, FrontDoor.frontMaxConnections(1024, 900, 512));
    }
}
