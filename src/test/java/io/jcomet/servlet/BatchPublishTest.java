package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class BatchPublishTest {

    @Test
    void linesAreSplitOnLfWithAnOptionalCrAndEmptyLinesAreSkipped() {
        assertEquals(List.of("a=1", "b=2", "c=3"), BatchPublish.lines("a=1\r\nb=2\n\n\r\nc=3"));
        assertEquals(List.of(), BatchPublish.lines(""));
        assertEquals(List.of("only"), BatchPublish.lines("only\n"));
        assertEquals(List.of("x\ry"), BatchPublish.lines("x\ry\n"), "a CR inside a line stays (it is the content's)");
    }
}
