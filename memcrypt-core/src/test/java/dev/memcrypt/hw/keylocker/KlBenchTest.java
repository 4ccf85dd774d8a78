package dev.memcrypt.hw.keylocker;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** KlBench runs and reports every case (no timing assertions). */
class KlBenchTest {
    @Test
    void reportsEveryCaseAndTheRatios() {
        KlBench.Report r = KlBench.run(Duration.ofMillis(3));
        assertEquals(9, r.cases().size());
        for (KlBench.Case c : r.cases()) assertTrue(c.nsPerOp() > 0, c.name());
        assertTrue(r.blockRatio() > 0 && r.wideRatio() > 0 && r.xtsRatio() > 0 && r.vcpuSwitchNs() > 0);
        String text = r.toString();
        assertTrue(text.contains("AES-KL XTS vs XTS engine"), text);
        assertTrue(text.contains("vCPU switch reloading IWKey"), text);
    }
}
