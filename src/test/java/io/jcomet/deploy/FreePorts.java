package io.jcomet.deploy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Finds TCP ports the container ITs may listen on. The shipped defaults (admin 8000, front 8100-8199)
 * are used only when {@code -Dit.ports=default} is given AND every one of them is free; by
 * default a random free block in 20000-32767 is used (below Linux's default ephemeral range
 * 32768-60999, so outgoing connections do not grab them), because on a shared machine another
 * {@code mvn verify} or a developer's {@code mvn jetty:run} may take the defaults between our check
 * and the container's bind.
 *
 * <p>Threads: stateless; called from the test thread.
 */
public final class FreePorts {

    private static final int LOW = 20000;
    private static final int HIGH = 32767;

    private FreePorts() {
    }

    /** Ports for one container: {@code admin} and {@code count} consecutive front ports from {@code front}. */
    public record Plan(int admin, int front, int count) {
        public int lastFront() {
            return front + count - 1;
        }

        public List<Integer> frontPorts() {
            List<Integer> l = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                l.add(front + i);
            }
            return l;
        }
    }

    /** Admin port + {@code count} consecutive front ports, all free right now. */
    public static Plan plan(int count) {
        if ("default".equals(System.getProperty("it.ports")) && allFree(8000, 1) && allFree(8100, count)) {
            return new Plan(8000, 8100, count);
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 200; attempt++) {
            // admin right below the front block: count + 1 consecutive free ports
            int first = LOW + rnd.nextInt(HIGH - LOW - count - 1);
            if (allFree(first, count + 1)) {
                return new Plan(first, first + 1, count);
            }
        }
        throw new IllegalStateException("no block of " + (count + 1) + " free ports in " + LOW + "-" + HIGH);
    }

    /** True when every port first..first+count-1 can be bound on all interfaces and on loopback. */
    static boolean allFree(int first, int count) {
        for (int p = first; p < first + count; p++) {
            if (!free(p)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Bound the way the containers bind (SO_REUSEADDR on, Java's and Jetty's/Tomcat's default on
     * Linux): a port whose previous server left connections in TIME_WAIT is free for them, and must
     * be for us, or {@code -Dit.ports=default} would give the defaults only to the first
     * container test of a run. A port someone listens on is still refused.
     */
    private static boolean free(int port) {
        try (ServerSocket any = new ServerSocket()) {
            any.setReuseAddress(true);
            any.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            return false;
        }
        try (ServerSocket lo = new ServerSocket()) {
            lo.setReuseAddress(true);
            lo.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
