package dev.memcrypt.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memcrypt.hw.MemoryBench;
import org.junit.jupiter.api.Test;

/** {@code bench mm --json} lines (the full command takes seconds: its formatting is tested alone). */
class MmBenchJsonTest {
    @Test
    void throughputsAreWholeNumbersAndRatiosHaveThreeDecimals() throws Exception {
        ObjectMapper m = new ObjectMapper();
        String bytes = MmBenchCommand.json(new MemoryBench.Result("mm-touch", "bytes_per_second", 4.0866339974e9, 1, 1));
        assertEquals("{\"name\":\"mm-touch\",\"bytes_per_second\":4086633997}", bytes);
        JsonNode ratio = m.readTree(MmBenchCommand.json(new MemoryBench.Result("mm-floor", "ratio_to_xts_lines", 0.48567, 0, 1)));
        assertEquals(0.486, ratio.get("ratio_to_xts_lines").asDouble());
        JsonNode ns = m.readTree(MmBenchCommand.json(new MemoryBench.Result("vma-scale", "munmap_ns_100", 1301.4, 100, 0)));
        assertTrue(ns.get("munmap_ns_100").isIntegralNumber(), ns.toString());
    }
}
