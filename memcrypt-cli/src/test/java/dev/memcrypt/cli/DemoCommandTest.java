package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.crypto.XtsEngine;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class DemoCommandTest {
    @Test
    void demoShowsTwoCiphertextsThatDecryptBack() {
        Cli.Run r = Cli.run("demo");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("two ciphertexts differ:      yes"), r.out());
        assertTrue(r.out().contains("each decrypts back at its PA: yes"), r.out());
    }

    @Test
    void engineDemoGivesTheSameOutputOnEveryEngineButTheName() {
        String first = null;
        for (XtsEngine e : XtsEngine.available()) {
            StringWriter w = new StringWriter();
            assertTrue(EngineDemo.show(new PrintWriter(w), e), e.name());
            String body = w.toString().replace(e.name(), "ENGINE");
            if (first == null) first = body;
            assertEquals(first, body, e.name());
        }
    }
}
