package dev.memcrypt.hw.sme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.util.Hex;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * DRAM under the C-bit against XTS-AES-128 computed here from JDK AES/ECB alone (IEEE 1619-2007
 * §5.3, no memcrypt crypto code): line mode, one 64-byte line per data unit, tweak = the physical
 * address with the C-bit stripped as a 128-bit little-endian integer, XOR the salt if one is on
 * (SmeState's documented rule), key = the per-boot platform key (32 bytes from the power-on
 * entropy: key1 = data key, key2 = tweak key). The platform key is made known without a test hook
 * by powering on with an entropy source that always returns the same bytes.
 */
class SmePlatformKeyTest {
    static final long C = 1L << 47;

    static MachineConfig cfg(String... opts) {
        MachineConfig c = SmePlatform.config(64L << 20).with("l1", "4K").with("llc", "64K");
        for (String o : opts) c = c.with(o.substring(0, o.indexOf('=')), o.substring(o.indexOf('=') + 1));
        return c;
    }

    /** Every fill returns base, base+1, ...: the platform key is then bytes base..base+31. */
    static Entropy constant(int base) {
        return dst -> {
            for (int i = 0; i < dst.length; i++) dst[i] = (byte) (base + i);
            return true;
        };
    }

    static byte[] counting(int n, int base) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (base + i);
        return b;
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (seed * 29 + i * 11 + 5);
        return b;
    }

    static Cipher aes(byte[] key, int off, int mode) throws Exception {
        Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
        c.init(mode, new SecretKeySpec(key, off, 16, "AES"));
        return c;
    }

    /** XTS-AES-128 encryption of one 64-byte line (four whole blocks, no ciphertext stealing). */
    static byte[] xtsLine(byte[] key32, byte[] tweak16, byte[] line) throws Exception {
        Cipher k1 = aes(key32, 0, Cipher.ENCRYPT_MODE), k2 = aes(key32, 16, Cipher.ENCRYPT_MODE);
        byte[] t = k2.doFinal(tweak16);
        byte[] out = new byte[64];
        for (int j = 0; j < 4; j++) {
            byte[] x = new byte[16];
            for (int i = 0; i < 16; i++) x[i] = (byte) (line[16 * j + i] ^ t[i]);
            byte[] y = k1.doFinal(x);
            for (int i = 0; i < 16; i++) out[16 * j + i] = (byte) (y[i] ^ t[i]);
            int carry = 0; // t *= alpha in GF(2^128), little-endian
            for (int i = 0; i < 16; i++) {
                int b = t[i] & 0xff;
                t[i] = (byte) ((b << 1) | carry);
                carry = b >>> 7;
            }
            if (carry != 0) t[0] ^= (byte) 0x87;
        }
        return out;
    }

    /** The tweak of the line at DRAM address {@code pa}: (pa XOR saltLo) || saltHi, little-endian. */
    static byte[] tweak(long pa, byte[] salt16) {
        byte[] t = salt16 == null ? new byte[16] : salt16.clone();
        for (int i = 0; i < 8; i++) t[i] ^= (byte) (pa >>> (8 * i));
        return t;
    }

    static final long[] LINES = {8L << 20, (8L << 20) + 64, (33L << 20) + 0x7c0, (64L << 20) - 64};

    /** Stores a distinct line at each address through the C-bit alias and returns the DRAM bytes. */
    static byte[][] dramAfterStores(Machine m, byte[][] data) {
        for (int i = 0; i < LINES.length; i++) m.pstore(0, LINES[i] | C, 0, data[i]);
        m.wbinvdAll();
        byte[][] d = new byte[LINES.length][];
        for (int i = 0; i < LINES.length; i++) d[i] = m.dram().read(LINES[i], 64);
        return d;
    }

    static byte[][] lines() {
        byte[][] d = new byte[LINES.length][];
        for (int i = 0; i < LINES.length; i++) d[i] = pattern(64, i + 1);
        return d;
    }

    @Test
    void dramUnderCbitIsXtsAes128OfThePlatformKeyWithPhysicalAddressTweak() throws Exception {
        Machine m = Machine.powerOn(cfg(), constant(0x40));
        byte[] key = counting(32, 0x40);
        byte[][] data = lines();
        byte[][] dram = dramAfterStores(m, data);
        for (int i = 0; i < LINES.length; i++) {
            assertEquals(Hex.of(xtsLine(key, tweak(LINES[i], null), data[i])), Hex.of(dram[i]), String.format("line at 0x%x", LINES[i]));
        }
        // the tweak is the address without the C-bit: the C-bit alias is not part of it
        assertFalse(Arrays.equals(xtsLine(key, tweak(LINES[0] | C, null), data[0]), dram[0]));
        // and the C=0 alias of the same line stores plaintext
        m.pstore(0, LINES[1], 0, data[1]);
        m.wbinvdAll();
        assertArrayEquals(data[1], m.dram().read(LINES[1], 64));
    }

    @Test
    void saltedTweakXorsTheSaltIntoThePhysicalAddress() throws Exception {
        Machine m = Machine.powerOn(cfg("salted_tweak=on"), constant(0x90));
        byte[] key = counting(32, 0x90), salt = counting(16, 0x90);
        byte[][] data = lines();
        byte[][] dram = dramAfterStores(m, data);
        for (int i = 0; i < LINES.length; i++) {
            assertEquals(Hex.of(xtsLine(key, tweak(LINES[i], salt), data[i])), Hex.of(dram[i]), String.format("line at 0x%x", LINES[i]));
        }
    }

    @Test
    void platformKeyIsNewOnEveryPowerOn() {
        byte[][] data = lines();
        byte[][] a = dramAfterStores(Machine.powerOn(cfg(), Entropy.seeded(1)), data);
        byte[][] b = dramAfterStores(Machine.powerOn(cfg(), Entropy.seeded(2)), data);
        byte[][] a2 = dramAfterStores(Machine.powerOn(cfg(), Entropy.seeded(1)), data);
        for (int i = 0; i < LINES.length; i++) {
            assertFalse(Arrays.equals(data[i], a[i]), "ciphertext");
            assertFalse(Arrays.equals(a[i], b[i]), "other entropy at power-on: another platform key, other ciphertext");
            assertArrayEquals(a[i], a2[i], "same entropy: same platform key, same ciphertext");
        }
        // a warm reboot keeps DRAM but not the key: the old ciphertext no longer decrypts
        Machine first = Machine.powerOn(cfg(), Entropy.seeded(3));
        for (int i = 0; i < LINES.length; i++) first.pstore(0, LINES[i] | C, 0, data[i]);
        first.wbinvdAll();
        Machine second = Machine.powerOn(cfg(), Entropy.seeded(4), first.dram());
        assertFalse(Arrays.equals(data[0], second.pload(0, LINES[0] | C, 0, 64)), "the previous boot's ciphertext is garbage under the new key");
    }
}
