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
    void benchMemoryFloorPrintsItsRatio() throws Exception {
        Cli.Run r = Cli.run("bench", "memory", "--json", "--seconds", "0.05", "--warmup", "0", "--workload", "mem-floor");
        assertEquals(0, r.exit(), r.err());
        ObjectMapper m = new ObjectMapper();
        JsonNode last = null;
        for (String line : r.out().strip().split("\\R")) last = m.readTree(line);
        assertEquals("mem-floor/xts-lines", last.get("name").asText(), r.out());
        assertTrue(last.get("ratio").asDouble() > 0, r.out());
    }

    @Test
    void benchXtsTableNamesEachWorkload() {
        Cli.Run r = Cli.run("bench", "xts", "--seconds", "0.05", "--warmup", "0", "--workload", "xts-lines");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("xts-lines"), r.out());
        assertTrue(r.out().contains("/s"), r.out());
    }

    @Test
    void benchMemoryJsonHasEachWorkloadAndTheRatio() throws Exception {
        Cli.Run r = Cli.run("bench", "memory", "--json", "--seconds", "0.05", "--warmup", "0");
        assertEquals(0, r.exit(), r.err());
        ObjectMapper m = new ObjectMapper();
        java.util.Map<String, JsonNode> byName = new java.util.HashMap<>();
        for (String line : r.out().strip().split("\\R")) {
            JsonNode n = m.readTree(line);
            byName.put(n.get("name").asText(), n);
        }
        assertTrue(byName.get("mem-stream").get("bytes_per_second").asLong() > 0, r.out());
        assertTrue(byName.get("mem-random-load").get("ops_per_second").asLong() > 0, r.out());
        assertTrue(byName.get("xts-lines").get("bytes_per_second").asLong() > 0, r.out());
        JsonNode ratio = byName.get("mem-stream/xts-lines");
        assertTrue(ratio.get("ratio").asDouble() > 0, r.out());
        assertEquals(7, ratio.get("rounds").asInt(), r.out());
        assertTrue(ratio.get("ratio_min").asDouble() <= ratio.get("ratio").asDouble() && ratio.get("ratio").asDouble() <= ratio.get("ratio_max").asDouble(), r.out());
    }

    @Test
    void benchMemoryTableGivesTheInterleavedRatioWithItsRange() {
        Cli.Run r = Cli.run("bench", "memory", "--seconds", "0.05", "--warmup", "0", "--workload", "mem-stream", "--rounds", "3");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().matches("(?s).*mem-stream / xts-lines = \\d\\.\\d\\d \\(median of 3 interleaved rounds, \\d\\.\\d\\d to \\d\\.\\d\\d; target >= 0\\.50\\).*"), r.out());
    }

    @Test
    void benchKlJsonReportsSlowdownsAndTheVcpuSwitch() throws Exception {
        Cli.Run r = Cli.run("bench", "kl", "--json", "--seconds", "0.01");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"name\":\"aes-kl-xts/xts-engine\""), r.out());
        assertTrue(r.out().contains("\"name\":\"vcpu-switch-iwkey-reload\""), r.out());
        for (String line : r.out().strip().split("\\R")) new ObjectMapper().readTree(line);
    }

    @Test
    void benchSmeReportsTheRatio() {
        Cli.Run r = Cli.run("bench", "sme", "--kernel-size", "1M", "--initrd-size", "512K", "--reps", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("ratio"), r.out());
    }

    @Test
    void badBenchAreaInputExitsTwo() {
        assertEquals(2, Cli.run("bench", "memory", "--workload", "mem-nope", "--seconds", "0.01").exit());
        assertEquals(2, Cli.run("bench", "memory", "--rounds", "0", "--seconds", "0.01").exit());
        assertEquals(2, Cli.run("bench", "mm", "--touch", "1").exit());
        assertEquals(2, Cli.run("bench", "mm", "--iterations", "5").exit());
        assertEquals(2, Cli.run("bench", "sme", "--reps", "0").exit());
        assertEquals(2, Cli.run("bench", "sme", "--kernel-size", "lots").exit());
        assertEquals(2, Cli.run("bench", "kl", "--seconds", "-1").exit());
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
