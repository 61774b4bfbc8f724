package io.jcomet.launcher;

import java.nio.file.Files;
import java.nio.file.Path;

/** Reads this process's soft open-file limit from /proc/self/limits (-1 when unknown). */
final class OpenFiles {
    private OpenFiles() {}

    static long limit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return -1;
    }
}
