package dev.memcrypt.hw.keylocker;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.InvalidOpcodeFault;
import dev.memcrypt.util.Hex;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Key Locker instruction conformance (SPEC-FACTS §3; SDM LOADIWKEY, ENCODEKEY*, AES*KL). */
class KeyLockerTest {
    static final byte[] FIPS_PT = Hex.parse("00112233445566778899aabbccddeeff");
    static final byte[] FIPS_K128 = Hex.parse("000102030405060708090a0b0c0d0e0f");
    static final byte[] FIPS_CT128 = Hex.parse("69c4e0d86a7b0430d8cdb78070b4c55a");
    static final byte[] FIPS_K256 = Hex.parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    static final byte[] FIPS_CT256 = Hex.parse("8ea2b7ca516745bfeafc49904b496089");

    static Machine machine() {
        return Hw.machine();
    }

    /** Core 0 with CR4.KL set and IWKey loaded from the given bytes (KeySource 0). */
    static Core klCore(Machine m, int cpu, byte[] integrity, byte[] enc32) {
        Core c = m.core(cpu);
        c.writeCr4(c.cr4() | Core.CR4_KL);
        c.xmm().set(0, integrity);
        c.xmm().set(1, Arrays.copyOfRange(enc32, 0, 16));
        c.xmm().set(2, Arrays.copyOfRange(enc32, 16, 32));
        assertTrue(c.keyLocker().loadiwkey(2, 1, 0));
        return c;
    }

    static Core klCore(Machine m) {
        return klCore(m, 0, Hw.bytes(16, 1), Hw.bytes(32, 2));
    }

    static byte[] handle(Core c, int regs) {
        byte[] h = new byte[16 * regs];
        for (int i = 0; i < regs; i++) System.arraycopy(c.xmm().get(i), 0, h, 16 * i, 16);
        return h;
    }

    static byte[] encode128(Core c, byte[] key, int restrictions) {
        c.xmm().set(0, key);
        c.keyLocker().encodekey128(restrictions);
        return handle(c, 3);
    }

    static byte[] encode256(Core c, byte[] key, int restrictions) {
        c.xmm().set(0, Arrays.copyOfRange(key, 0, 16));
        c.xmm().set(1, Arrays.copyOfRange(key, 16, 32));
        c.keyLocker().encodekey256(restrictions);
        return handle(c, 4);
    }

    static byte[] aes(byte[] key, byte[] block, boolean enc) throws Exception {
        Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
        c.init(enc ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"));
        return c.doFinal(block);
    }

    // ------------------------------------------------------------------ enumeration

    @Test
    void cpuidLeaf7Ecx23EnumeratesKeyLocker() {
        assertNotEquals(0, machine().core(0).cpuid(7, 0).ecx() & (1 << 23));
        assertEquals(0, Hw.machine("keylocker=false").core(0).cpuid(7, 0).ecx() & (1 << 23));
    }

    @Test
    void cpuidLeaf19ReportsFeaturesAndAesKleOnlyWithCr4Kl() {
        Core c = machine().core(1);
        var r = c.cpuid(0x19, 0);
        assertEquals(0x7, r.eax(), "CPL0-only, no-encrypt, no-decrypt supported");
        assertEquals(KeyLockerUnit.EBX_WIDE | KeyLockerUnit.EBX_BACKUP_MSRS, r.ebx(), "AESKLE clear while CR4.KL = 0");
        assertEquals(0x3, r.ecx(), "NoBackup and KeySource 1");
        c.writeCr4(Core.CR4_KL);
        assertEquals(1, c.cpuid(0x19, 0).ebx() & 1, "AESKLE");
        assertEquals(0, c.cpuid(0x19, 1).eax());
        assertEquals(0, Hw.machine("keylocker=false").core(0).cpuid(0x19, 0).ebx());
    }

    @Test
    void cr4KlWithoutKeyLockerGp() {
        Machine m = Hw.machine("keylocker=false");
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).writeCr4(Core.CR4_KL));
    }

    @Test
    void cr4WriteAtCpl3Gp() {
        Core c = machine().core(0);
        c.setCpl(3);
        assertThrows(GeneralProtectionFault.class, () -> c.writeCr4(Core.CR4_KL));
    }

    // ------------------------------------------------------------------ the spec vector and FIPS-197

    @Test
    void zeroIwKeyEncodeKey128MatchesSpecVector() {
        Core c = klCore(machine(), 0, new byte[16], new byte[32]);
        byte[] h = encode128(c, new byte[16], 0);
        assertEquals("00000000000000000000000000000000", Hex.of(h, 0, 16), "AAD: no restrictions, KeyType AES-128");
        // tag 0x8720849214a248ad_898940a278c095dc and ciphertext 0xd3e9d22b334fb3c2_3382228c8474c308, little-endian
        assertEquals("dc95c078a2408989ad48a21492842087", Hex.of(h, 16, 16));
        assertEquals("08c374848c228233c2b34f332bd2e9d3", Hex.of(h, 32, 16));
    }

    @Test
    void aes128klEqualsFips197() throws Exception {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, 0);
        c.xmm().set(3, FIPS_PT);
        assertTrue(c.keyLocker().aesenc128kl(3, h));
        assertArrayEquals(FIPS_CT128, c.xmm().get(3));
        assertFalse(c.zf());
        assertTrue(c.keyLocker().aesdec128kl(3, h));
        assertArrayEquals(FIPS_PT, c.xmm().get(3));
    }

    @Test
    void aes256klEqualsFips197() {
        Core c = klCore(machine());
        byte[] h = encode256(c, FIPS_K256, 0);
        assertEquals(64, h.length);
        assertEquals(1, Handle.keyType(h));
        c.xmm().set(9, FIPS_PT);
        assertTrue(c.keyLocker().aesenc256kl(9, h));
        assertArrayEquals(FIPS_CT256, c.xmm().get(9));
        assertTrue(c.keyLocker().aesdec256kl(9, h));
        assertArrayEquals(FIPS_PT, c.xmm().get(9));
    }

    @Test
    void wideFormsProcessXmm0To7LikeAes() throws Exception {
        for (int bits : new int[] {128, 256}) {
            Core c = klCore(machine());
            byte[] key = bits == 128 ? FIPS_K128 : FIPS_K256;
            byte[] h = bits == 128 ? encode128(c, key, 0) : encode256(c, key, 0);
            byte[][] pt = new byte[8][];
            for (int i = 0; i < 8; i++) c.xmm().set(i, pt[i] = Hw.bytes(16, 40 + i));
            c.xmm().set(8, Hw.bytes(16, 99));
            assertTrue(bits == 128 ? c.keyLocker().aesencwide128kl(h) : c.keyLocker().aesencwide256kl(h));
            for (int i = 0; i < 8; i++) assertArrayEquals(aes(key, pt[i], true), c.xmm().get(i), "XMM" + i);
            assertArrayEquals(Hw.bytes(16, 99), c.xmm().get(8), "XMM8 untouched");
            assertTrue(bits == 128 ? c.keyLocker().aesdecwide128kl(h) : c.keyLocker().aesdecwide256kl(h));
            for (int i = 0; i < 8; i++) assertArrayEquals(pt[i], c.xmm().get(i));
        }
    }

    @Test
    void polyvalMatchesRfc8452Vector() {
        Polyval p = new Polyval(Hex.parse("25629347589242761d31f826ba4b757b"));
        p.update(Hex.parse("4f4f95668c83dfb6401762bb2d01a262"), 0);
        p.update(Hex.parse("d1a24ddd2721d006bbe45f20d3c9f362"), 0);
        assertEquals("f7a3b47b846119fae5b7866cf5e5b77e", Hex.of(p.digest()));
    }

    // ------------------------------------------------------------------ ENCODEKEY

    @Test
    void encodeKey128OutputRegistersAndZeroedXmm4To6() {
        Core c = klCore(machine());
        for (int i = 0; i < 16; i++) c.xmm().set(i, Hw.bytes(16, 200 + i));
        c.xmm().set(0, FIPS_K128);
        c.setRflags(0x8d5); // CF PF AF ZF SF OF all set
        int dest = c.keyLocker().encodekey128(Handle.R_CPL0 | Handle.R_NO_DECRYPT);
        assertEquals(0, dest, "NoBackup 0, KeySource 0");
        assertEquals("05000000000000000000000000000000", c.xmm().hex(0), "AAD restrictions");
        assertArrayEquals(Hw.bytes(16, 203), c.xmm().get(3), "XMM3 untouched by ENCODEKEY128");
        for (int i = 4; i <= 6; i++) assertArrayEquals(new byte[16], c.xmm().get(i), "XMM" + i + " zeroed");
        assertArrayEquals(Hw.bytes(16, 207), c.xmm().get(7));
        assertEquals(0, c.rflags() & Core.RFLAGS_STATUS, "flags cleared");
    }

    @Test
    void encodeKey256OutputsFourRegisters() {
        Core c = klCore(machine());
        c.xmm().set(5, Hw.bytes(16, 5));
        for (int i = 2; i < 16; i++) if (i != 5) c.xmm().set(i, Hw.bytes(16, 200 + i));
        byte[] h = encode256(c, FIPS_K256, 0);
        assertEquals("00000001000000000000000000000000", Hex.of(h, 0, 16), "KeyType 1 in bits 27:24");
        assertArrayEquals(new byte[16], c.xmm().get(5));
        // SDM ENCODEKEY256 Operation: XMM0-3 := Handle[511:0]; XMM4 := 0; XMM5 := 0; XMM6 := 0 (SPEC-FACTS §3)
        assertFalse(Arrays.equals(Hw.bytes(16, 202), c.xmm().get(2)), "XMM2 = wrapped key, low half");
        assertFalse(Arrays.equals(Hw.bytes(16, 203), c.xmm().get(3)), "XMM3 = wrapped key, high half (unlike ENCODEKEY128)");
        for (int i = 4; i <= 6; i++) assertArrayEquals(new byte[16], c.xmm().get(i), "XMM" + i + " zeroed");
        for (int i = 7; i < 16; i++) assertArrayEquals(Hw.bytes(16, 200 + i), c.xmm().get(i), "XMM" + i + " untouched");
    }

    @Test
    void encodeKeyDestReportsNoBackupAndKeySource() {
        Core c = machine().core(0);
        c.writeCr4(Core.CR4_KL);
        assertTrue(c.keyLocker().loadiwkey(2, 1, 1 | 1 << 1)); // NoBackup, KeySource 1
        assertEquals(0b11, c.keyLocker().encodekey128(0));
        assertTrue(c.keyLocker().loadiwkey(2, 1, 1 << 1));
        assertEquals(0b10, c.keyLocker().encodekey256(0));
    }

    @ParameterizedTest
    @ValueSource(ints = {1 << 3, 1 << 4, 1 << 24, 1 << 31})
    void encodeKeyReservedSrcBitsGp(int src) {
        Core c = klCore(machine());
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().encodekey128(src));
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().encodekey256(src));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void encodeKeyRestrictionNotEnumeratedGp(int bit) {
        Core c = klCore(machine());
        c.keyLocker().setEnumeration(0x7 & ~bit, 0x14, 0x3);
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().encodekey128(bit));
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().encodekey256(bit));
        c.keyLocker().encodekey128(0x7 & ~bit);
    }

    @Test
    void encodeKeyWithCr4KlClearUd() {
        Core c = machine().core(0);
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().encodekey128(0));
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().encodekey256(0));
    }

    @Test
    void encodeKeyAllowedAtCpl3() {
        Core c = klCore(machine());
        c.setCpl(3);
        byte[] h = encode128(c, FIPS_K128, 0);
        c.xmm().set(3, FIPS_PT);
        assertTrue(c.keyLocker().aesenc128kl(3, h));
        assertArrayEquals(FIPS_CT128, c.xmm().get(3));
    }

    // ------------------------------------------------------------------ LOADIWKEY

    @Test
    void loadIwKeyWithCr4KlClearUd() {
        Core c = machine().core(0);
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().loadiwkey(2, 1, 0));
    }

    @Test
    void loadIwKeyWithoutKeyLockerUd() {
        Core c = Hw.machine("keylocker=false").core(0);
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().loadiwkey(2, 1, 0));
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().aesenc128kl(0, new byte[48]));
    }

    @Test
    void loadIwKeyAtCpl3Gp() {
        Core c = machine().core(0);
        c.writeCr4(Core.CR4_KL);
        c.setCpl(3);
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().loadiwkey(2, 1, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 7, 15})
    void loadIwKeyReservedKeySourceGp(int ks) {
        Core c = machine().core(0);
        c.writeCr4(Core.CR4_KL);
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().loadiwkey(2, 1, ks << 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {1 << 5, 1 << 8, 1 << 31})
    void loadIwKeyReservedEaxBitsGp(int bit) {
        Core c = machine().core(0);
        c.writeCr4(Core.CR4_KL);
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().loadiwkey(2, 1, bit));
    }

    @Test
    void loadIwKeyNoBackupNotEnumeratedGp() {
        Core c = machine().core(0);
        c.writeCr4(Core.CR4_KL);
        c.keyLocker().setEnumeration(7, 0x14, KeyLockerUnit.ECX_KEYSOURCE1);
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().loadiwkey(2, 1, 1));
        assertTrue(c.keyLocker().loadiwkey(2, 1, 2));
    }

    @Test
    void loadIwKeyKeySource1NotEnumeratedGp() {
        Core c = machine().core(0);
        c.writeCr4(Core.CR4_KL);
        c.keyLocker().setEnumeration(7, 0x14, KeyLockerUnit.ECX_NOBACKUP);
        assertThrows(GeneralProtectionFault.class, () -> c.keyLocker().loadiwkey(2, 1, 2));
        assertTrue(c.keyLocker().loadiwkey(2, 1, 1));
    }

    @Test
    void loadIwKeyKeySource1WithoutEntropySetsZfAndKeepsIwKey() {
        Machine m = machine();
        Core c = klCore(m);
        byte[] h = encode128(c, FIPS_K128, 0);
        long gen = c.keyLocker().iwKeyGeneration();
        m.setEntropy(dst -> false);
        c.setRflags(Core.RFLAGS_CF);
        assertFalse(c.keyLocker().loadiwkey(2, 1, 2));
        assertTrue(c.zf());
        assertEquals(0, c.rflags() & Core.RFLAGS_CF);
        assertEquals(gen, c.keyLocker().iwKeyGeneration(), "IWKey unchanged");
        c.xmm().set(3, FIPS_PT);
        assertTrue(c.keyLocker().aesenc128kl(3, h));
        // KeySource 0 never needs entropy
        assertTrue(c.keyLocker().loadiwkey(2, 1, 0));
        assertFalse(c.zf());
    }

    @Test
    void loadIwKeyKeySource1RandomizesTheKey() {
        Machine m = machine();
        Core a = klCore(m, 0, new byte[16], new byte[32]);
        Core b = m.core(1);
        b.writeCr4(Core.CR4_KL);
        assertTrue(b.keyLocker().loadiwkey(2, 1, 2)); // same all-zero operands, XORed with randomness
        byte[] ha = encode128(a, FIPS_K128, 0);
        byte[] hb = encode128(b, FIPS_K128, 0);
        assertFalse(Arrays.equals(ha, hb));
        a.xmm().set(3, FIPS_PT);
        assertFalse(a.keyLocker().aesenc128kl(3, hb), "a handle from the randomized IWKey fails under the plain one");
    }

    // ------------------------------------------------------------------ handle legality and authentication

    static void assertRefused(Core c, byte[] before, boolean ok, int reg) {
        assertFalse(ok);
        assertTrue(c.zf(), "ZF = 1");
        assertArrayEquals(before, c.xmm().get(reg), "data unchanged");
    }

    @Test
    void reservedAadBitMakesHandleIllegal() {
        Core c = klCore(machine());
        for (int bit : new int[] {3, 10, 23, 28, 31, 32, 64, 127}) {
            byte[] h = encode128(c, FIPS_K128, 0);
            h[bit / 8] |= (byte) (1 << (bit % 8));
            c.xmm().set(3, FIPS_PT);
            assertRefused(c, FIPS_PT, c.keyLocker().aesenc128kl(3, h), 3);
            assertRefused(c, FIPS_PT, c.keyLocker().aesdec128kl(3, h), 3);
        }
    }

    @Test
    void cpl0OnlyHandleRefusedAtCpl3AcceptedAtCpl0() {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, Handle.R_CPL0);
        c.xmm().set(3, FIPS_PT);
        c.setCpl(3);
        assertRefused(c, FIPS_PT, c.keyLocker().aesenc128kl(3, h), 3);
        for (int i = 0; i < 8; i++) c.xmm().set(i, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesencwide128kl(h), 7);
        c.setCpl(0);
        assertTrue(c.keyLocker().aesenc128kl(3, h));
        assertArrayEquals(FIPS_CT128, c.xmm().get(3));
    }

    @Test
    void noEncryptHandleRefusesEncryptOnly() {
        Core c = klCore(machine());
        byte[] h = encode256(c, FIPS_K256, Handle.R_NO_ENCRYPT);
        c.xmm().set(3, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesenc256kl(3, h), 3);
        for (int i = 0; i < 8; i++) c.xmm().set(i, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesencwide256kl(h), 0);
        c.xmm().set(3, FIPS_CT256);
        assertTrue(c.keyLocker().aesdec256kl(3, h));
        assertArrayEquals(FIPS_PT, c.xmm().get(3));
    }

    @Test
    void noDecryptHandleRefusesDecryptOnly() {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, Handle.R_NO_DECRYPT);
        c.xmm().set(3, FIPS_CT128);
        assertRefused(c, FIPS_CT128, c.keyLocker().aesdec128kl(3, h), 3);
        for (int i = 0; i < 8; i++) c.xmm().set(i, FIPS_CT128);
        assertRefused(c, FIPS_CT128, c.keyLocker().aesdecwide128kl(h), 5);
        c.xmm().set(3, FIPS_PT);
        assertTrue(c.keyLocker().aesenc128kl(3, h));
    }

    @Test
    void keyTypeMismatchMakesHandleIllegal() {
        Core c = klCore(machine());
        byte[] h256 = encode256(c, FIPS_K256, 0);
        byte[] h128 = encode128(c, FIPS_K128, 0);
        c.xmm().set(3, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesenc128kl(3, h256), 3);
        byte[] h128padded = Arrays.copyOf(h128, 64);
        assertRefused(c, FIPS_PT, c.keyLocker().aesenc256kl(3, h128padded), 3);
        assertRefused(c, FIPS_PT, c.keyLocker().aesdec256kl(3, h128padded), 3);
        for (int i = 0; i < 8; i++) c.xmm().set(i, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesencwide128kl(h256), 2);
        assertRefused(c, FIPS_PT, c.keyLocker().aesdecwide256kl(h128padded), 2);
    }

    @Test
    void tamperedTagOrWrappedKeyFailsAuthentication() {
        Core c = klCore(machine());
        for (int pos : new int[] {16, 31, 32, 47}) {
            byte[] h = encode128(c, FIPS_K128, 0);
            h[pos] ^= 1;
            c.xmm().set(3, FIPS_PT);
            assertRefused(c, FIPS_PT, c.keyLocker().aesenc128kl(3, h), 3);
        }
        byte[] h = encode256(c, FIPS_K256, 0);
        h[63] ^= (byte) 0x80;
        c.xmm().set(3, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesenc256kl(3, h), 3);
    }

    @Test
    void restrictionBitsAreAuthenticated() {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, Handle.R_NO_ENCRYPT);
        h[0] &= ~Handle.R_NO_ENCRYPT; // strip the restriction: legal-looking but the tag no longer matches
        c.xmm().set(3, FIPS_PT);
        assertRefused(c, FIPS_PT, c.keyLocker().aesenc128kl(3, h), 3);
    }

    @Test
    void handleFromAnotherIwKeyFails() {
        Machine m = machine();
        Core a = klCore(m, 0, Hw.bytes(16, 1), Hw.bytes(32, 2));
        Core b = klCore(m, 1, Hw.bytes(16, 3), Hw.bytes(32, 2));
        byte[] h = encode128(a, FIPS_K128, 0);
        b.xmm().set(3, FIPS_PT);
        assertRefused(b, FIPS_PT, b.keyLocker().aesenc128kl(3, h), 3);
    }

    @Test
    void successClearsAllStatusFlags() {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, 0);
        c.setRflags(Core.RFLAGS_STATUS);
        assertTrue(c.keyLocker().aesenc128kl(3, h));
        assertEquals(0, c.rflags() & Core.RFLAGS_STATUS);
    }

    @Test
    void wideWithoutEnumerationUd() {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, 0);
        c.keyLocker().setEnumeration(7, KeyLockerUnit.EBX_BACKUP_MSRS, 3);
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().aesencwide128kl(h));
        assertTrue(c.keyLocker().aesenc128kl(0, h));
    }

    @Test
    void aesKlWithCr4KlClearUd() {
        Core c = klCore(machine());
        byte[] h = encode128(c, FIPS_K128, 0);
        c.writeCr4(0);
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().aesenc128kl(0, h));
        assertThrows(InvalidOpcodeFault.class, () -> c.keyLocker().aesdecwide128kl(h));
    }

    @Test
    void handleInMemoryOperand() {
        Machine m = machine();
        Core c = klCore(m);
        byte[] h = encode128(c, FIPS_K128, 0);
        m.pstore(0, 0x200000, 0, h);
        c.xmm().set(3, FIPS_PT);
        assertTrue(c.keyLocker().aesenc128kl(3, c.keyLocker().loadHandle(0x200000, Handle.KEYTYPE_AES128)));
        assertArrayEquals(FIPS_CT128, c.xmm().get(3));
    }

    @Test
    void iwKeyNeverInToString() {
        Core c = klCore(machine());
        assertFalse(c.keyLocker().toString().contains(Hex.of(Hw.bytes(16, 1))));
    }

    @Test
    void entropyIsTheMachines() {
        Machine m = Machine.powerOn(Hw.machine().config(), Entropy.seeded(5));
        assertNotNull(m.entropy());
    }
}
