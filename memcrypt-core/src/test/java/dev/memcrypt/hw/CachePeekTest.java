package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.memcrypt.hw.cache.Cache;
import org.junit.jupiter.api.Test;

/** CacheSystem.peek: the newest plaintext of a full line, from any cache, without changing state. */
class CachePeekTest {
    @Test
    void peekSeesDirtyPlaintextAndChangesNothing() {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("packages", "1"));
        byte[] data = new byte[64];
        for (int i = 0; i < 64; i++) data[i] = (byte) i;
        long line = m.fullPa(0x200000, 3) >>> 6;
        assertNull(m.caches().peek(line));
        m.pstore(1, 0x200000, 3, data);
        byte state = m.caches().l1State(1, line);
        assertEquals(Cache.M, state);
        assertArrayEquals(data, m.caches().peek(line));
        assertEquals(state, m.caches().l1State(1, line));
        assertNull(m.caches().peek(m.fullPa(0x200000, 4) >>> 6), "another KeyID of the same PA is another line");
        m.wbinvd(0);
        assertNull(m.caches().peek(line));
        m.pload(0, 0x200000, 3, 64);
        assertArrayEquals(data, m.caches().peek(line), "a clean copy in L1/LLC");
    }
}
