package io.jcomet.servlet;

import io.jcomet.core.Broker;
import io.jcomet.core.Stats;
import io.jcomet.protocol.Transport;

/**
 * The global {@code /info} (admin) and {@code /stats} (front, read-only) documents: icomet's
 * {@code version/channels/subscribers} first, then jcomet's counters as flat fields so that
 * scripts and the benchmark read them without a JSON library. Any thread.
 */
final class InfoJson {
    private InfoJson() {}

    static String global(Broker broker, int psubStreams) {
        return global(broker, psubStreams, true);
    }

    /**
     * @param withFds whether to list the open file descriptors (a scan of /proc/self/fd: a million
     *                entries at C1000K), which the front's /stats leaves out
     */
    static String global(Broker broker, int psubStreams, boolean withFds) {
        Stats s = broker.stats();
        StringBuilder b = new StringBuilder(768);
        b.append("{\"version\":\"").append(Broker.VERSION).append('"')
                .append(",\"channels\":").append(broker.channels())
                .append(",\"subscribers\":").append(broker.subscribers())
                .append(",\"max_channels\":").append(broker.maxChannels())
                .append(",\"max_subscribers_per_channel\":").append(broker.config().maxSubscribersPerChannel());
        for (Transport t : Transport.values()) {
            b.append(",\"held_").append(t.key()).append("\":").append(t == Transport.PSUB ? psubStreams : s.held(t));
        }
        b.append(",\"published\":").append(s.published())
                .append(",\"delivered\":").append(s.delivered())
                .append(",\"noops\":").append(s.noops())
                .append(",\"dropped_slow\":").append(s.droppedSlow())
                .append(",\"disconnected\":").append(s.disconnected())
                .append(",\"evicted_ghosts\":").append(s.evictedGhosts())
                .append(",\"rejected\":{");
        boolean first = true;
        for (Stats.Reject r : Stats.Reject.values()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append('"').append(r.key()).append("\":").append(s.rejected(r));
        }
        b.append('}')
                .append(",\"heap_used_bytes\":").append(ProcessInfo.heapUsed())
                .append(",\"heap_max_bytes\":").append(ProcessInfo.heapMax())
                .append(",\"rss_bytes\":").append(ProcessInfo.rssBytes())
                .append(",\"process_cpu_ns\":").append(ProcessInfo.cpuNanos())
                .append(",\"uptime_ms\":").append(broker.uptimeMillis());
        if (withFds) {
            b.append(",\"open_fds\":").append(ProcessInfo.openFds())
                    .append(",\"max_fds\":").append(ProcessInfo.maxFds());
        }
        return b.append('}').toString();
    }
}
