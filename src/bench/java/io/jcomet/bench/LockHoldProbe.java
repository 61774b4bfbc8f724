package io.jcomet.bench;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import io.jcomet.protocol.Framing;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;

/**
 * How long one publish keeps its channel locked while it reaches N held streams, in process (no
 * sockets, no JMH): the time from the first stream being offered the message to the last offer
 * returning, which is the part of the lock hold that grows with the subscribers.
 *
 * <p>Two kinds of stream, both framing with the shared frame as the servlet layer does:
 * {@code offer} only queues (what {@code HttpSubscriber} and {@code WsSubscriber} do; the write
 * happens in {@code flush}, after the lock), and {@code write-in-offer} also "writes" under the
 * lock (what streams did before): a busy wait of {@code --write-ns} stands for the socket write.
 *
 * <pre>java -cp target/classes:target/test-classes io.jcomet.bench.LockHoldProbe [streams] [publishes] [write-ns]</pre>
 *
 * CPU figures: noisy on a shared machine; compare the two lines of one run.
 */
public final class LockHoldProbe {
    private LockHoldProbe() {}

    static final class Stream extends SocketlessStream {
        private final boolean writeInOffer;
        private final long writeNanos;
        private final ArrayDeque<byte[]> queue = new ArrayDeque<>(4);
        long bytes;
        static long firstOffer;
        static long lastOfferDone;

        Stream(boolean writeInOffer, long writeNanos) {
            this.writeInOffer = writeInOffer;
            this.writeNanos = writeNanos;
        }

        private void write(byte[] b) {
            long until = System.nanoTime() + writeNanos;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            bytes += b.length;
        }

        @Override
        protected synchronized boolean offer(Message m) {
            if (firstOffer == 0) {
                firstOffer = System.nanoTime();
            }
            byte[] f = Framing.stream().frame(m);
            if (writeInOffer) {
                write(f);
            } else {
                queue.add(f);
            }
            lastOfferDone = System.nanoTime();
            return true;
        }

        @Override
        protected synchronized void flush() {
            for (byte[] b; (b = queue.poll()) != null; ) {
                write(b);
            }
        }
    }

    public static void main(String[] args) {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int publishes = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        long writeNanos = args.length > 2 ? Long.parseLong(args[2]) : 2_000;
        System.out.printf("lock-hold probe: %d streams of one channel, %d publishes, write cost %d ns (busy wait)%n",
                streams, publishes, writeNanos);
        for (boolean writeInOffer : new boolean[] {true, false, true, false}) {
            run(streams, publishes, writeNanos, writeInOffer);
        }
    }

    private static void run(int streams, int publishes, long writeNanos, boolean writeInOffer) {
        try (Broker b = new Broker(JcometConfig.from(Map.of(
                "max_subscribers_per_channel", Integer.toString(streams),
                "polling_timeout", "3600")))) {
            for (int i = 0; i < streams; i++) {
                b.subscribe(new Stream(writeInOffer, writeNanos), new Broker.SubscribeRequest("c", 1, null, null));
            }
            long[] holds = new long[publishes];
            for (int i = 0; i < publishes; i++) {
                Stream.firstOffer = 0;
                b.publish("c", "message number " + i);
                holds[i] = Stream.lastOfferDone - Stream.firstOffer;
            }
            Arrays.sort(holds);
            long median = holds[publishes / 2];
            System.out.printf("%-15s median %,8d us  p99 %,8d us  max %,8d us  (%,d ns per stream under the lock)%n",
                    writeInOffer ? "write-in-offer" : "offer+flush", median / 1000, holds[publishes * 99 / 100] / 1000,
                    holds[publishes - 1] / 1000, median / streams);
        }
    }
}
