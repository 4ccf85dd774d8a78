package dev.memcrypt.kernel.mm;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The bench entry points run (no timing assertions). */
class MmBenchSmokeTest {
    @Test
    void workloadsRun() throws Exception {
        assertTrue(MmBench.mmTouch(1L << 20).value() > 0);
        assertTrue(MmBench.mmFloor(1L << 20).value() > 0);
        double[] r = MmBench.vmaOps(200, 50, true);
        assertTrue(r[0] > 0 && r[1] > 0);
    }
}
