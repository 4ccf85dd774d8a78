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
    void defaultDemoRunsTheRfcMktmeDemoAfterTheEngine() {
        Cli.Run r = Cli.run("demo");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("encrypt_mprotect("), r.out());
        assertTrue(r.out().contains("KeyID:          1"), r.out());
        assertTrue(r.out().contains("demo OK"), r.out());
    }

    @Test
    void demoJsonIsOneRecordPerStep() throws Exception {
        Cli.Run r = Cli.run("demo", "--json");
        assertEquals(0, r.exit(), r.err());
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        int records = 0;
        for (String line : r.out().strip().split("\n")) {
            assertTrue(mapper.readTree(line).isObject(), line);
            records++;
        }
        assertTrue(records >= 10, r.out());
    }

    @Test
    void smeDemoNarratesInPlaceEncryption() {
        Cli.Run r = Cli.run("demo", "--sme", "--kernel-size", "1M", "--initrd-size", "512K");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().toLowerCase(java.util.Locale.ROOT).contains("checksum"), r.out());
    }

    @Test
    void demoJsonWithSmeIsAUsageError() {
        Cli.Run r = Cli.run("demo", "--sme", "--json");
        assertEquals(2, r.exit(), r.out());
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
