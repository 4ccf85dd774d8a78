package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Issue 3 "Speed": a 1 TiB machine with 1 GiB touched runs in a JVM limited to 1.3 GiB of heap. */
@Tag("slow")
class FootprintSlowTest {
    @Test
    void oneTebibyteMachineWithOneGibTouchedFitsIn1300MibHeap() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx1300m", "-cp", System.getProperty("java.class.path"), "dev.memcrypt.hw.MemoryBench", "0", "footprint")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("mem-footprint"), out);
        long heap = Long.parseLong(out.replaceAll("(?s).*heap_bytes\\s+([0-9,]+).*", "$1").replace(",", ""));
        assertTrue(heap < 1300L << 20, "heap " + heap);
    }
}
