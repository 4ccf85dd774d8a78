package dev.memcrypt.hw.keylocker;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import java.util.Arrays;
import net.jqwik.api.*;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Properties: AES-KL is AES under the wrapped key; any changed handle bit is refused. */
class KeyLockerProperties {
    private final Machine machine = Hw.machine();

    @Property(tries = 40)
    void aesKlEqualsAes(@ForAll @Size(16) byte[] ik, @ForAll @Size(32) byte[] ek, @ForAll boolean aes256,
            @ForAll @Size(32) byte[] keyBytes, @ForAll @Size(16) byte[] block) throws Exception {
        Core c = KeyLockerTest.klCore(machine, 0, ik, ek);
        byte[] key = aes256 ? keyBytes : Arrays.copyOf(keyBytes, 16);
        byte[] h = aes256 ? KeyLockerTest.encode256(c, key, 0) : KeyLockerTest.encode128(c, key, 0);
        c.xmm().set(7, block);
        assertTrue(aes256 ? c.keyLocker().aesenc256kl(7, h) : c.keyLocker().aesenc128kl(7, h));
        byte[] ct = c.xmm().get(7);
        assertArrayEquals(KeyLockerTest.aes(key, block, true), ct);
        assertTrue(aes256 ? c.keyLocker().aesdec256kl(7, h) : c.keyLocker().aesdec128kl(7, h));
        assertArrayEquals(block, c.xmm().get(7));
    }

    @Property(tries = 60)
    void anyFlippedHandleBitIsRefused(@ForAll @Size(16) byte[] key, @ForAll @IntRange(min = 0, max = 383) int bit, @ForAll @Size(16) byte[] block) {
        Core c = KeyLockerTest.klCore(machine, 1, KeyLockerTest.FIPS_K128, KeyLockerTest.FIPS_K256);
        byte[] h = KeyLockerTest.encode128(c, key, 0);
        h[bit / 8] ^= (byte) (1 << (bit % 8));
        c.xmm().set(3, block);
        assertFalse(c.keyLocker().aesenc128kl(3, h), "bit " + bit);
        assertTrue(c.zf());
        assertArrayEquals(block, c.xmm().get(3));
    }
}
