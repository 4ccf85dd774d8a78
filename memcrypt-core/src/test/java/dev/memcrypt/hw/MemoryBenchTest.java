package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The bench entry points run (no timing assertions). */
class MemoryBenchTest {
    @Test
    void workloadsRunAndReportTheirMetric() {
        for (String w : new String[] {"mem-stream", "mem-floor", "mem-random-load", "mem-random-load-llc"}) {
            MemoryBench.Workload wl = MemoryBench.workload(w);
            for (int i = 0; i < 3; i++) wl.op().run();
            assertTrue(wl.unitsPerOp() > 0);
        }
        MemoryBench.Result r = MemoryBench.run("mem-random-load", Duration.ofMillis(20));
        assertEquals("ops_per_second", r.metric());
        assertTrue(r.value() > 0);
        assertThrows(IllegalArgumentException.class, () -> MemoryBench.workload("nope"));
    }
}
