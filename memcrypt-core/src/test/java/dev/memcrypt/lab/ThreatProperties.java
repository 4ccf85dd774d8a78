package dev.memcrypt.lab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.memcrypt.hw.Machine;
import java.util.Arrays;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The experiments' central facts for arbitrary data, addresses and KeyIDs (not just the lab's
 * chosen values): same-address replay always returns the old value; ciphertext moved to another
 * line never decrypts to the data; another KeyID never reads the data; DRAM never holds an
 * encrypted line's plaintext.
 */
class ThreatProperties {
    private static final Machine M = LabRun.defaults().powerOn(LabRun.defaultConfig(), 0);

    static {
        AliasWithoutFlush.program(M, 1, "k1-k1-k1-k1-k1-k".getBytes(), "t1-t1-t1-t1-t1-t".getBytes());
        AliasWithoutFlush.program(M, 2, "k2-k2-k2-k2-k2-k".getBytes(), "t2-t2-t2-t2-t2-t".getBytes());
    }

    private static long pa(int line) {
        return 0x100000L + 64L * line;
    }

    @Property(tries = 40)
    void sameAddressReplayReturnsTheOldValue(@ForAll @Size(64) byte[] v1, @ForAll @Size(64) byte[] v2, @ForAll @IntRange(min = 0, max = 4095) int line,
            @ForAll @IntRange(min = 0, max = 1) int keyId) {
        Assume.that(!Arrays.equals(v1, v2));
        long p = pa(line);
        M.pstore(0, p, keyId, v1);
        M.clflush(0, p, keyId);
        byte[] c1 = M.dram().read(p, 64);
        M.pstore(0, p, keyId, v2);
        M.clflush(0, p, keyId);
        M.dram().write(p, c1);
        assertArrayEquals(v1, M.pload(1, p, keyId, 64));
        M.clflush(0, p, keyId);
    }

    @Property(tries = 40)
    void movedCiphertextNeverDecryptsAndOtherKeyIdsNeverRead(@ForAll @Size(64) byte[] v, @ForAll @IntRange(min = 0, max = 4095) int x,
            @ForAll @IntRange(min = 0, max = 4095) int y) {
        Assume.that(x != y);
        M.pstore(0, pa(x), 1, v);
        M.clflush(0, pa(x), 1);
        byte[] c = M.dram().read(pa(x), 64);
        assertFalse(Arrays.equals(c, v), "DRAM holds plaintext");
        M.dram().write(pa(y), c);
        M.clflush(0, pa(y), 1);
        assertFalse(Arrays.equals(M.pload(0, pa(y), 1, 64), v), "moved ciphertext decrypted");
        assertFalse(Arrays.equals(M.pload(0, pa(x), 2, 64), v), "another KeyID read the data");
        assertFalse(Arrays.equals(M.pload(0, pa(x), 0, 64), v), "KeyID 0 read the data");
        assertArrayEquals(v, M.pload(0, pa(x), 1, 64));
        M.wbinvdAll();
    }
}
