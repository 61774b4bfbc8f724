package io.jcomet.bench;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import java.util.Arrays;
import java.util.Map;

/**
 * The in-process publish path of the memory engine, without sockets: nanoseconds per
 * {@link Broker#publish(String, String)} on one thread, for two cases: channels with no subscriber
 * (seq, buffer, presence) and channels with one held stream each (plus the offer under the lock and
 * the flush after it). Uses only the broker's public API, so the same file compiles against an
 * older build and the two can be compared (A/B) on one machine.
 *
 * <pre>java -cp target/classes:target/test-classes io.jcomet.bench.PublishPathAB [channels] [publishes per round] [rounds]</pre>
 *
 * Prints each round's ns per publish and the best and median round; compare medians of runs made
 * back to back (a shared machine is noisy).
 */
public final class PublishPathAB {
    private PublishPathAB() {}

    /** A stream that only counts what it is offered (no framing, no socket). */
    static final class CountingStream extends SocketlessStream {
        long offered;

        @Override
        protected boolean offer(Message m) {
            offered++;
            return true;
        }

        @Override
        protected void flush() {}
    }

    public static void main(String[] args) {
        int channels = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        System.out.printf("publish path: %d channels, %,d publishes per round, %d rounds (first 3 are warm-up)%n",
                channels, perRound, rounds);
        run(channels, perRound, rounds, false);
        run(channels, perRound, rounds, true);
    }

    private static void run(int channels, int perRound, int rounds, boolean withStream) {
        try (Broker b = new Broker(JcometConfig.from(Map.of(
                "max_channels", Integer.toString(Math.max(channels * 2, 1000)),
                "polling_timeout", "3600",
                "channel_timeout", "3600")))) {
            String[] names = new String[channels];
            for (int i = 0; i < channels; i++) {
                names[i] = "ch" + i;
                b.publish(names[i], "first");
                if (withStream) {
                    b.subscribe(new CountingStream(), new Broker.SubscribeRequest(names[i], 2, null, null));
                }
            }
            String content = "a message of about forty bytes, plain";
            long[] ns = new long[rounds];
            long sink = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    sink += b.publish(names[i % channels], content);
                }
                ns[r] = (System.nanoTime() - t0) / perRound;
                System.out.printf("  %s round %d: %d ns/publish%n", withStream ? "1 stream  " : "no subscr.", r, ns[r]);
            }
            long[] kept = Arrays.copyOfRange(ns, Math.min(3, rounds - 1), rounds);
            Arrays.sort(kept);
            System.out.printf("%s best %d ns, median %d ns per publish (sink %d)%n",
                    withStream ? "one stream per channel:" : "no subscriber:         ", kept[0], kept[kept.length / 2], sink & 1);
        }
    }
}
