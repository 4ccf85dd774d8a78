package dev.memcrypt.kernel.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bench's shape (no timing assertions: the 3x bound is checked by `memcrypt bench sme`). */
class SmeBenchTest {
    @Test
    void reportsBothRatesAndTheirRatio() {
        SmeBench.Result r = SmeBench.run(4L << 20, 2L << 20, 1);
        assertEquals(6L << 20, r.bytes());
        assertTrue(r.smeBootBytesPerSecond() > 0 && r.xtsLinesBytesPerSecond() > 0 && r.ratio() > 0);
        assertEquals(r.xtsLinesBytesPerSecond() / r.smeBootBytesPerSecond(), r.ratio(), 1e-9 * r.ratio());
        assertTrue(r.json().startsWith("{\"workload\":\"sme\",\"bytes\":6291456,"), r.json());
        assertTrue(r.format().contains("ratio"), r.format());
        assertEquals(SmeBootStatus.ENCRYPTED, r.boot().status());
    }
}
