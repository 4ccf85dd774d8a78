package dev.memcrypt.hw;

import static dev.memcrypt.hw.cpu.KeyProgram.ALG_AES_XTS_128;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.TmeMsrs;
import dev.memcrypt.hw.memory.Dram;
import dev.memcrypt.util.Hex;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Memory controller: what DRAM holds under each kind of KeyID (SPEC-FACTS §1). */
class ControllerTest {
    static final byte[] K1 = Hw.key16(11), K2 = Hw.key16(12);

    static byte[] expectedXts(byte[] k1, byte[] k2, long pa, byte[] plain) {
        XtsKey k = XtsKey.of(k1, k2);
        byte[] out = new byte[plain.length];
        for (int i = 0; i < plain.length; i += 64) Hw.ref().encrypt(k, Hw.specTweak(pa + i), plain, i, 64, out, i);
        k.destroy();
        return out;
    }

    @Test
    void dramUnderSetKeyDirectEqualsIndependentXtsCiphertext() {
        Machine m = Hw.machine();
        Hw.directAll(m, 5, K1, K2);
        long pa = 0x12340;
        byte[] plain = Hw.bytes(256, 4);
        m.pstore(1, pa, 5, plain);
        m.clflushRange(1, pa, 5, plain.length);
        assertEquals(Hex.of(expectedXts(K1, K2, pa, plain)), Hex.of(m.dram().read(pa, plain.length)));
        assertArrayEquals(plain, m.pload(3, pa, 5, plain.length));
    }

    @Test
    void dramUnderDirectKeyAtHighAddressUsesPaWithoutKeyIdBits() {
        Machine m = Hw.machine("dram=1T", "maxphyaddr=46", "keyid_bits=6");
        Hw.directAll(m, 63, K1, K2);
        long pa = (1L << 39) + 0x1000; // above 512 GiB: tweak has high bits, KeyID bits (45:40) excluded
        byte[] plain = Hw.bytes(64, 8);
        m.pstore(0, pa, 63, plain);
        m.clflush(0, pa, 63);
        assertArrayEquals(expectedXts(K1, K2, pa, plain), m.dram().read(pa, 64));
    }

    @Test
    void keyIdZeroUsesRandomPerBootTmeKey() {
        byte[] plain = Hw.bytes(64, 1);
        byte[][] ct = new byte[2][];
        for (int seed = 0; seed < 2; seed++) {
            Machine m = Hw.machine("seed=" + (100 + seed));
            m.pstore(0, 0x8000, 0, plain);
            m.clflush(0, 0x8000, 0);
            ct[seed] = m.dram().read(0x8000, 64);
            assertFalse(Arrays.equals(plain, ct[seed]), "KeyID 0 is encrypted with the TME key");
            assertArrayEquals(plain, m.pload(2, 0x8000, 0, 64));
        }
        assertFalse(Arrays.equals(ct[0], ct[1]), "a new TME key each boot");
    }

    @Test
    void samePlaintextAtTwoAddressesGivesDifferentCiphertext() {
        Machine m = Hw.machine();
        Hw.directAll(m, 2, K1, K2);
        byte[] plain = Hw.bytes(64, 3);
        m.pstore(0, 0x1000, 2, plain);
        m.pstore(0, 0x2000, 2, plain);
        m.wbinvd(0);
        assertFalse(Arrays.equals(m.dram().read(0x1000, 64), m.dram().read(0x2000, 64)));
    }

    @Test
    void movedCiphertextDecryptsToGarbage() {
        Machine m = Hw.machine();
        Hw.directAll(m, 2, K1, K2);
        byte[] plain = Hw.bytes(64, 3);
        m.pstore(0, 0x1000, 2, plain);
        m.clflush(0, 0x1000, 2);
        m.dram().write(0x3000, m.dram().read(0x1000, 64));
        byte[] got = m.pload(0, 0x3000, 2, 64);
        assertFalse(Arrays.equals(plain, got));
    }

    @Test
    void unprogrammedKeyIdFallsBackToTmeKey() {
        Machine m = Hw.machine();
        byte[] plain = Hw.bytes(64, 5);
        m.pstore(0, 0x4000, 0, plain);
        m.clflush(0, 0x4000, 0);
        byte[] asZero = m.dram().read(0x4000, 64);
        m.pstore(0, 0x4000, 9, plain);
        m.clflush(0, 0x4000, 9);
        assertArrayEquals(asZero, m.dram().read(0x4000, 64));
    }

    @Test
    void clearedKeyIdFallsBackToTmeKey() {
        Machine m = Hw.machine();
        byte[] plain = Hw.bytes(64, 6);
        m.pstore(0, 0x4000, 0, plain);
        m.clflush(0, 0x4000, 0);
        byte[] asZero = m.dram().read(0x4000, 64);
        Hw.directAll(m, 7, K1, K2);
        for (var p : m.packages()) assertTrue(p.cores().get(0).pconfig(7, PconfigCommand.CLEAR_KEY, ALG_AES_XTS_128, null, null).ok());
        m.pstore(0, 0x4000, 7, plain);
        m.clflush(0, 0x4000, 7);
        assertArrayEquals(asZero, m.dram().read(0x4000, 64));
    }

    @Test
    void clearedKeyIdUnderBypassIsPlaintext() {
        Machine m = Hw.machine("bypass=true");
        Hw.directAll(m, 7, K1, K2);
        m.core(0).pconfig(7, PconfigCommand.CLEAR_KEY, ALG_AES_XTS_128, null, null);
        m.pstore(0, 0x4000, 7, Hw.bytes(64, 1));
        m.clflush(0, 0x4000, 7);
        assertArrayEquals(Hw.bytes(64, 1), m.dram().read(0x4000, 64));
    }

    @Test
    void noEncryptKeyIdStoresPlaintext() {
        Machine m = Hw.machine();
        for (var p : m.packages()) p.cores().get(0).pconfig(4, PconfigCommand.NO_ENCRYPT, ALG_AES_XTS_128, null, null);
        byte[] plain = Hw.bytes(192, 7);
        m.pstore(3, 0x6020, 4, plain);
        m.wbinvdAll();
        assertArrayEquals(plain, m.dram().read(0x6020, 192));
    }

    @Test
    void exclusionRangeAppliesToKeyIdZeroOnly() {
        Machine m = Hw.machine("activate=false");
        var c = m.core(0);
        c.wrmsr(TmeMsrs.IA32_TME_EXCLUDE_MASK, (((1L << 46) - 1) & ~0xfffffL) | TmeMsrs.EXCL_ENABLE); // 1 MiB range
        c.wrmsr(TmeMsrs.IA32_TME_EXCLUDE_BASE, 0x100000);
        c.wrmsr(TmeMsrs.IA32_TME_ACTIVATE, TmeMsrs.ACT_ENABLE | 6L << TmeMsrs.ACT_KEYID_BITS_SHIFT | 1L << TmeMsrs.ACT_ALGS_SHIFT);
        Hw.directAll(m, 3, K1, K2);
        byte[] plain = Hw.bytes(64, 9);
        m.pstore(0, 0x100040, 0, plain); // KeyID 0 inside: plaintext
        m.pstore(0, 0x200040, 0, plain); // KeyID 0 outside: TME key
        m.pstore(0, 0x180000, 3, plain); // KeyID 3 inside: its own key
        m.pstore(0, 0x1c0000, 9, plain); // unprogrammed KeyID inside: TME key, not excluded
        m.wbinvdAll();
        assertArrayEquals(plain, m.dram().read(0x100040, 64));
        assertFalse(Arrays.equals(plain, m.dram().read(0x200040, 64)));
        assertArrayEquals(expectedXts(K1, K2, 0x180000, plain), m.dram().read(0x180000, 64));
        assertFalse(Arrays.equals(plain, m.dram().read(0x1c0000, 64)));
        for (long pa : new long[] {0x100040, 0x200040}) assertArrayEquals(plain, m.pload(1, pa, 0, 64));
    }

    /**
     * TME policy 2 (AES-XTS-256): firmware draws a 64-byte TME key (two 256-bit halves) and DRAM
     * under KeyID 0 is XTS-AES-256 of the line with the same tweak rule; policy 0 stays XTS-AES-128.
     */
    @Test
    void tmePolicy2EncryptsKeyIdZeroWithXtsAes256() {
        java.util.List<byte[]> drawn = new java.util.ArrayList<>();
        Entropy counting = dst -> {
            for (int i = 0; i < dst.length; i++) dst[i] = (byte) (0x31 + 7 * i);
            drawn.add(dst.clone());
            return true;
        };
        Machine m = Machine.powerOn(MachineConfig.defaults().with("algorithms", "5").with("tme_policy", "2"), counting);
        assertEquals(2, (m.core(0).rdmsr(TmeMsrs.IA32_TME_ACTIVATE) >>> TmeMsrs.ACT_POLICY_SHIFT) & 0xf);
        byte[] key = drawn.stream().filter(b -> b.length == 64).findFirst().orElseThrow(() -> new AssertionError("no 64-byte TME key drawn"));
        byte[] plain = Hw.bytes(128, 12);
        m.pstore(0, 0x7000, 0, plain);
        m.wbinvdAll();
        byte[] k1 = Arrays.copyOfRange(key, 0, 32), k2 = Arrays.copyOfRange(key, 32, 64);
        assertEquals(Hex.of(expectedXts(k1, k2, 0x7000, plain)), Hex.of(m.dram().read(0x7000, 128)));
        assertArrayEquals(plain, m.pload(1, 0x7000, 0, 128));
        Machine p0 = Machine.powerOn(MachineConfig.defaults().with("algorithms", "5"), counting);
        assertEquals(0, (p0.core(0).rdmsr(TmeMsrs.IA32_TME_ACTIVATE) >>> TmeMsrs.ACT_POLICY_SHIFT) & 0xf);
        assertEquals(32, drawn.get(drawn.size() - 1).length, "policy 0 draws a 32-byte TME key");
    }

    /** The integrity variants (capability bits 1 and 3, policies 1 and 3) are not modelled: refused when the machine is configured. */
    @Test
    void integrityAlgorithmsAreRefusedAtConfiguration() {
        for (String a : new String[] {"2", "3", "8", "15"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MachineConfig.defaults().with("algorithms", a));
            assertTrue(e.getMessage().contains("integrity"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Machine.powerOn(MachineConfig.defaults().with("tme_policy", "2")));
        assertTrue(e.getMessage().contains("policy"), e.getMessage());
    }

    /** Mask and base without the enable bit (bit 11) exclude nothing: KeyID 0 there is TME ciphertext. */
    @Test
    void exclusionRangeWithoutEnableBitExcludesNothing() {
        Machine m = Hw.machine("activate=false");
        var c = m.core(0);
        c.wrmsr(TmeMsrs.IA32_TME_EXCLUDE_MASK, ((1L << 46) - 1) & ~0xfffffL); // the 1 MiB range, bit 11 clear
        c.wrmsr(TmeMsrs.IA32_TME_EXCLUDE_BASE, 0x100000);
        c.wrmsr(TmeMsrs.IA32_TME_ACTIVATE, TmeMsrs.ACT_ENABLE | 6L << TmeMsrs.ACT_KEYID_BITS_SHIFT | 1L << TmeMsrs.ACT_ALGS_SHIFT);
        byte[] plain = Hw.bytes(64, 10);
        m.pstore(0, 0x100040, 0, plain);
        m.wbinvdAll();
        assertFalse(Arrays.equals(plain, m.dram().read(0x100040, 64)));
        assertArrayEquals(plain, m.pload(1, 0x100040, 0, 64));
    }

    @Test
    void beforeActivationEverythingIsPlaintext() {
        Machine m = Hw.machine("activate=false");
        m.pstore(0, 0x9000, 0, Hw.bytes(64, 2));
        m.clflush(0, 0x9000, 0);
        assertArrayEquals(Hw.bytes(64, 2), m.dram().read(0x9000, 64));
    }

    @Test
    void saltedTweakChangesCiphertextPerBoot() {
        Machine m = Hw.machine("salted_tweak=true");
        Hw.directAll(m, 5, K1, K2);
        byte[] plain = Hw.bytes(64, 4);
        m.pstore(0, 0x5000, 5, plain);
        m.clflush(0, 0x5000, 5);
        assertFalse(Arrays.equals(expectedXts(K1, K2, 0x5000, plain), m.dram().read(0x5000, 64)));
        assertArrayEquals(plain, m.pload(0, 0x5000, 5, 64));
    }

    @Test
    void dramHoldsNoPlaintextAfterWriteBack() {
        Machine m = Hw.machine();
        Hw.directAll(m, 1, K1, K2);
        byte[] marker = "SECRET-MARKER-0123456789abcdef!!".getBytes();
        byte[] page = new byte[4096];
        for (int i = 0; i + marker.length <= page.length; i += marker.length) System.arraycopy(marker, 0, page, i, marker.length);
        for (int p = 0; p < 64; p++) m.pstore(p % 4, 0x40000 + p * 4096L, p % 2, page);
        m.wbinvdAll();
        String dram = new String(m.dram().read(0x40000, 64 * 4096), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(dram.contains("SECRET-MARKER"));
    }

    @Test
    void userKeyDataSurvivesPowerCycleWhenReprogrammed() {
        MachineConfig cfg = MachineConfig.defaults().with("dram", "64M").with("l1", "4K").with("llc", "64K");
        Machine m = Machine.powerOn(cfg);
        Hw.directAll(m, 5, K1, K2);
        m.pstore(0, 0x7000, 5, Hw.bytes(64, 1));
        m.pstore(0, 0x7040, 0, Hw.bytes(64, 2));
        m.wbinvdAll();
        Dram dram = m.dram();
        Machine again = Machine.powerOn(cfg.with("seed", "77"), Entropy.seeded(77), dram);
        Hw.directAll(again, 5, K1, K2);
        assertArrayEquals(Hw.bytes(64, 1), again.pload(0, 0x7000, 5, 64), "same key, same tweak: decrypts again");
        assertFalse(Arrays.equals(Hw.bytes(64, 2), again.pload(0, 0x7040, 0, 64)), "TME key is new each boot");
    }

    @Test
    void homePackageKeyTableServesTheFill() {
        Machine m = Hw.machine(); // 64 MiB: package 0 homes [0, 32M), package 1 [32M, 64M)
        Hw.direct(m, 0, 5, K1, K2); // package 0 only
        m.pstore(0, 0x7000, 5, Hw.bytes(64, 1));
        m.clflush(0, 0x7000, 5);
        assertArrayEquals(Hw.bytes(64, 1), m.pload(2, 0x7000, 5, 64), "package 0's controller serves its range for a core of package 1");
        long far = (32L << 20) + 0x7000;
        m.pstore(0, far, 5, Hw.bytes(64, 3));
        m.clflush(0, far, 5);
        assertFalse(Arrays.equals(ControllerTest.expectedXts(K1, K2, far, Hw.bytes(64, 3)), m.dram().read(far, 64)),
                "package 1 (the home of this range) has no key for KeyID 5");
        assertTrue(m.checkInvariants().stream().anyMatch(s -> s.contains("disagree on KeyID 5")));
    }

    @Test
    void fifteenKeyIdBitsAndHighestKeyIdWork() {
        Machine m = Hw.machine("maxphyaddr=52", "max_keyid_bits=15", "keyid_bits=15", "max_keys=32767");
        assertEquals(32767, m.maxKeyId());
        assertEquals(37, m.tme().keyIdShift(), "KeyID bits 51:37");
        Hw.directAll(m, 32767, K1, K2);
        m.pstore(0, 0x1000, 32767, Hw.bytes(64, 1));
        m.clflush(0, 0x1000, 32767);
        assertArrayEquals(expectedXts(K1, K2, 0x1000, Hw.bytes(64, 1)), m.dram().read(0x1000, 64));
        assertArrayEquals(Hw.bytes(64, 1), m.pload(3, 0x1000, 32767, 64));
        assertEquals(32767L << 37 | 0x1000, m.fullPa(0x1000, 32767));
    }
}
