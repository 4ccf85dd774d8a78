package dev.memcrypt.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BytesTest {
    static final byte[] HAY = {1, 2, 3, 1, 2, 3, 4};

    @Test
    void findsTheFirstOccurrenceAtOrAfterTheStart() {
        assertEquals(0, Bytes.indexOf(HAY, new byte[] {1, 2}));
        assertEquals(3, Bytes.indexOf(HAY, new byte[] {1, 2}, 1));
        assertEquals(4, Bytes.indexOf(HAY, new byte[] {2, 3, 4}));
        assertEquals(-1, Bytes.indexOf(HAY, new byte[] {3, 4, 5}), "runs past the end");
        assertEquals(-1, Bytes.indexOf(HAY, new byte[] {1, 2}, 5));
        assertTrue(Bytes.contains(HAY, new byte[] {3, 1}));
        assertFalse(Bytes.contains(new byte[0], new byte[] {1}));
    }

    @Test
    void emptyNeedleIsFoundAtTheStart() {
        assertEquals(2, Bytes.indexOf(HAY, new byte[0], 2));
        assertEquals(7, Bytes.indexOf(HAY, new byte[0], 7));
        assertEquals(-1, Bytes.indexOf(HAY, new byte[0], 8));
    }

    @Test
    void negativeStartIsACallerBug() {
        assertThrows(IllegalArgumentException.class, () -> Bytes.indexOf(HAY, new byte[] {1}, -1));
    }
}
