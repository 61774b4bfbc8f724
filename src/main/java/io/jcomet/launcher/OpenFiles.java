package io.jcomet.launcher;

/**
 * Says when this process's open-file limit ({@link io.jcomet.os.OpenFileLimit}) is too low for the
 * configured {@code max_channels}. The figure is docs/TUNING.md's and
 * bin/check-host-tuning's: one descriptor per connection, +10% and +10,000 for listeners, logs,
 * jars and admin connections (1,110,000 for the default million). Stateless.
 */
final class OpenFiles {
    private OpenFiles() {}

    /** Open files a server for {@code maxChannels} connections needs. */
    static long needed(int maxChannels) {
        return maxChannels + maxChannels / 10 + 10_000L;
    }

    /** The warning to print for this limit, or null when the limit is enough (or unknown). */
    static String warning(long limit, int maxChannels) {
        long needed = needed(maxChannels);
        if (limit <= 0 || limit >= needed) {
            return null;
        }
        return "WARNING: the open-file limit of this process is " + limit + ", so it can hold about "
                + Math.max(0, limit - 10_000) + " connections, fewer than max_channels=" + maxChannels
                + " (which needs " + needed + " open files). Raise it with `ulimit -n " + needed + "` (shell), LimitNOFILE="
                + needed + " (systemd) or /etc/security/limits.conf nofile, with fs.nr_open and fs.file-max above it:"
                + " see docs/TUNING.md.";
    }
}
