package io.jcomet.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The open-file limit as read from a Linux {@code limits} file. */
class OpenFileLimitTest {

    private static List<String> limits(String openFilesRow) {
        return List.of(
                "Limit                     Soft Limit           Hard Limit           Units     ",
                "Max cpu time              unlimited            unlimited            seconds   ",
                "Max processes             95653                95653                processes ",
                openFilesRow,
                "Max locked memory         8388608              8388608              bytes     ");
    }

    @Test
    void readsSoftAndHardLimitsOfTheOpenFilesRowNotItsNeighbours() {
        OpenFileLimit l = OpenFileLimit.parse(limits("Max open files            20000                1048576              files     "));
        assertEquals(20_000, l.soft());
        assertEquals(1_048_576, l.hard());
    }

    @Test
    void unlimitedIsTheLargestFigure() {
        OpenFileLimit l = OpenFileLimit.parse(limits("Max open files            1024                 unlimited            files     "));
        assertEquals(1024, l.soft());
        assertEquals(OpenFileLimit.UNLIMITED, l.hard());
        assertEquals(OpenFileLimit.UNLIMITED,
                OpenFileLimit.parse(limits("Max open files            unlimited            unlimited            files")).soft());
    }

    @Test
    void aMissingOrUnreadableRowIsUnknown() {
        assertEquals(new OpenFileLimit(OpenFileLimit.UNKNOWN, OpenFileLimit.UNKNOWN),
                OpenFileLimit.parse(List.of("Limit  Soft Limit  Hard Limit  Units", "Max processes  10  10  processes")));
        assertEquals(new OpenFileLimit(OpenFileLimit.UNKNOWN, OpenFileLimit.UNKNOWN), OpenFileLimit.parse(List.of()));
        OpenFileLimit garbled = OpenFileLimit.parse(List.of("Max open files            lots"));
        assertEquals(OpenFileLimit.UNKNOWN, garbled.soft());
        assertEquals(OpenFileLimit.UNKNOWN, garbled.hard());
        assertEquals(new OpenFileLimit(OpenFileLimit.UNKNOWN, OpenFileLimit.UNKNOWN),
                OpenFileLimit.read(Path.of("/nonexistent/limits")));
    }

    @Test
    void thisProcessAndItsPidReadTheSameLimit() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/limits")), "Linux /proc needed");
        OpenFileLimit self = OpenFileLimit.ofThisProcess();
        assertTrue(self.soft() > 0 && self.soft() <= self.hard(), self.toString());
        assertEquals(self, OpenFileLimit.ofProcess(ProcessHandle.current().pid()));
    }
}
