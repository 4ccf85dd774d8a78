package dev.memcrypt.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The interleaved-ratio helper's shape (no timing is asserted). */
class ThroughputTest {
    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Throughput.median(new double[] {1, 2, 9}));
        assertEquals(2.5, Throughput.median(new double[] {1, 2, 3, 9}));
    }

    @Test
    void interleavedRatiosGivesOneSortedPositiveRatioPerRound() {
        int[] calls = {0, 0};
        double[] r = Throughput.interleavedRatios(() -> calls[0]++, 1, () -> calls[1]++, 1, 5, 0.002, Throughput.Clock.wall);
        assertEquals(5, r.length);
        for (int i = 0; i < r.length; i++) {
            assertTrue(r[i] > 0);
            if (i > 0) assertTrue(r[i - 1] <= r[i]);
        }
        assertTrue(calls[0] > 0 && calls[1] > 0);
    }

    @Test
    void zeroRoundsIsACallerBug() {
        assertThrows(IllegalArgumentException.class, () -> Throughput.interleavedRatios(() -> {}, 1, () -> {}, 1, 0, 0.01, Throughput.Clock.wall));
    }
}
