package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** The demo's "never on a public server" warning is a WARNING once per JVM, then INFO (tests start many demo servers). */
class DemoWarningTest {

    @Test
    void onlyTheFirstDemoStartInAJvmWarns() {
        JcometBootstrap.demoWarningLevel(); // WARNING unless a demo server started earlier in this JVM
        assertEquals(Level.INFO, JcometBootstrap.demoWarningLevel());
        assertEquals(Level.INFO, JcometBootstrap.demoWarningLevel());
    }
}
