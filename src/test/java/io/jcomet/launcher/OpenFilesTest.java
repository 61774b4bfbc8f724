package io.jcomet.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OpenFilesTest {

    @Test
    void neededFilesAreTheTuningDocsFigure() {
        // docs/TUNING.md: nofile >= 1,110,000 for the default million
        assertEquals(1_110_000, OpenFiles.needed(1_000_000));
        assertEquals(120_000, OpenFiles.needed(100_000));
    }

    @Test
    void warningNamesTheConfiguredMaxChannelsAndWhatItNeeds() {
        String w = OpenFiles.warning(20_000, 50_000);
        assertTrue(w.contains("max_channels=50000") && w.contains("ulimit -n 65000") && w.contains("LimitNOFILE=65000"), w);
        assertNull(OpenFiles.warning(20_000, 5_000), "10,000 + 10% + 10,000 fit in 20,000");
        assertNull(OpenFiles.warning(-1, 1_000_000), "unknown limit: no warning");
    }
}
