package io.jcomet.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A process's open-file limit (RLIMIT_NOFILE), as Linux reports it in {@code /proc/PID/limits}: the
 * one reader for the launcher's start-up warning, /info's {@code max_fds} and the load client's
 * connection cap (for itself and for a server it watches by pid). Each connection costs a
 * descriptor, so the soft limit is what caps the connections a process can hold.
 *
 * <p>{@link #UNLIMITED} stands for "unlimited"; both figures are {@link #UNKNOWN} where there is no
 * /proc (not Linux) or the file cannot be read. Immutable; any thread. Reads the file on each call.
 */
public record OpenFileLimit(long soft, long hard) {
    /** The figure when the limit cannot be read. */
    public static final long UNKNOWN = -1;
    /** The figure for "unlimited". */
    public static final long UNLIMITED = Long.MAX_VALUE;

    private static final String ROW = "Max open files";

    /** This process's limit. */
    public static OpenFileLimit ofThisProcess() {
        return read(Path.of("/proc/self/limits"));
    }

    /** Another process's limit (readable for processes of the same user). */
    public static OpenFileLimit ofProcess(long pid) {
        return read(Path.of("/proc/" + pid + "/limits"));
    }

    static OpenFileLimit read(Path limitsFile) {
        try {
            return parse(Files.readAllLines(limitsFile));
        } catch (IOException | RuntimeException e) {
            return new OpenFileLimit(UNKNOWN, UNKNOWN); // not Linux, no such process, or not ours
        }
    }

    /**
     * The "Max open files" row of a {@code limits} file: {@code Max open files  <soft>  <hard>  files}.
     * A missing row or an unreadable figure gives {@link #UNKNOWN}.
     */
    static OpenFileLimit parse(List<String> lines) {
        for (String line : lines) {
            if (line.startsWith(ROW)) {
                String[] f = line.substring(ROW.length()).trim().split("\\s+");
                return new OpenFileLimit(figure(f, 0), figure(f, 1));
            }
        }
        return new OpenFileLimit(UNKNOWN, UNKNOWN);
    }

    private static long figure(String[] fields, int i) {
        if (i >= fields.length) {
            return UNKNOWN;
        }
        if (fields[i].equals("unlimited")) {
            return UNLIMITED;
        }
        try {
            return Long.parseLong(fields[i]);
        } catch (NumberFormatException e) {
            return UNKNOWN;
        }
    }
}
