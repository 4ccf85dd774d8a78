package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memcrypt.cli.bench.XtsBench;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void benchXtsJsonPrintsOneObjectPerWorkload() throws Exception {
        Cli.Run r = Cli.run("bench", "xts", "--json", "--seconds", "0.05", "--warmup", "0", "--engine", "java");
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().strip().split("\\R");
        assertEquals(2, lines.length, r.out());
        ObjectMapper m = new ObjectMapper();
        JsonNode a = m.readTree(lines[0]);
        JsonNode b = m.readTree(lines[1]);
        assertEquals("xts-4k", a.get("name").asText());
        assertEquals("xts-lines", b.get("name").asText());
        assertEquals("java", b.get("engine").asText());
        assertTrue(b.get("bytes_per_second").asLong() > 0);
    }

    @Test
    void benchXtsTableNamesEachWorkload() {
        Cli.Run r = Cli.run("bench", "xts", "--seconds", "0.05", "--warmup", "0", "--workload", "xts-lines");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("xts-lines"), r.out());
        assertTrue(r.out().contains("/s"), r.out());
    }

    @Test
    void badBenchInputExitsTwo() {
        assertEquals(2, Cli.run("bench", "xts", "--seconds", "0").exit());
        assertEquals(2, Cli.run("bench", "xts", "--workload", "xts-8k", "--seconds", "0.01").exit());
        assertEquals(2, Cli.run("bench").exit());
    }

    @Test
    void parsesOpensslSpeedFigures() {
        assertEquals(5558828320.0, XtsBench.parseOpensslFigureForTest("AES-128-XTS    5558828.32k"), 1.0);
    }
}
