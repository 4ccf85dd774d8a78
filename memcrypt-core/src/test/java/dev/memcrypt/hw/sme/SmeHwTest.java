package dev.memcrypt.hw.sme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cache.Cache;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** SME conformance: CPUID 0x8000001F, SYSCFG/HWCR, and C-bit semantics through MMU, caches and controller. */
class SmeHwTest {
    static final long C = 1L << 47;

    static MachineConfig cfg(String... opts) {
        MachineConfig c = SmePlatform.config(64L << 20).with("l1", "4K").with("llc", "64K");
        for (String o : opts) c = c.with(o.substring(0, o.indexOf('=')), o.substring(o.indexOf('=') + 1));
        return c;
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (seed * 13 + i * 7 + 3);
        return b;
    }

    @Test
    void cpuid8000001fEnumeratesSmeCbitAndPhysBitsLost() {
        Machine m = Machine.powerOn(cfg());
        CpuidResult r = m.core(0).cpuid(SmeCpuid.LEAF, 0);
        assertEquals(1, r.eax() & 1, "EAX[0] SME");
        assertEquals(0, r.eax() & 2, "EAX[1] SEV");
        assertEquals(47, r.ebx() & 0x3f, "EBX[5:0] C-bit");
        assertEquals(5, (r.ebx() >>> 6) & 0x3f, "EBX[11:6] phys bits lost");
        assertEquals(0, r.ecx());
        assertEquals(0, r.edx());
        assertTrue(Integer.compareUnsigned(m.core(0).cpuid(0x80000000, 0).eax(), SmeCpuid.LEAF) >= 0, "max extended leaf covers 0x8000001F");
        CpuidResult v = m.core(1).cpuid(0, 0);
        assertEquals("AuthenticAMD", vendor(v));
    }

    static String vendor(CpuidResult v) {
        byte[] b = new byte[12];
        int[] regs = {v.ebx(), v.edx(), v.ecx()};
        for (int i = 0; i < 12; i++) b[i] = (byte) (regs[i / 4] >>> (8 * (i % 4)));
        return new String(b, java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Test
    void cpuid8000001fIsZeroWithoutSme() {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("dram", "64M"));
        assertEquals(CpuidResult.ZERO, m.core(0).cpuid(SmeCpuid.LEAF, 0));
        assertEquals(0, m.core(0).cpuid(1, 0).ecx() & SmeCpuid.CPUID1_ECX_HYPERVISOR);
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).rdmsr(SmeMsrs.SYSCFG), "no SYSCFG on the MKTME machine");
    }

    @Test
    void hypervisorBitIsCpuid1Ecx31() {
        Machine m = Machine.powerOn(cfg("hypervisor=on"));
        assertEquals(SmeCpuid.CPUID1_ECX_HYPERVISOR, m.core(0).cpuid(1, 0).ecx() & SmeCpuid.CPUID1_ECX_HYPERVISOR);
    }

    @Test
    void firmwareEnablesMemEncryptionModEnAndLocksIt() {
        Machine m = Machine.powerOn(cfg());
        assertEquals(SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN, m.core(0).rdmsr(SmeMsrs.SYSCFG) & SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN);
        assertEquals(SmeMsrs.HWCR_SMM_LOCK, m.core(1).rdmsr(SmeMsrs.HWCR));
        assertTrue(m.sme().enabled());
        assertTrue(m.sme().locked());
    }

    @Test
    void wrmsrSyscfgClearMemEncryptionAfterLockGp() {
        Machine m = Machine.powerOn(cfg());
        long v = m.core(0).rdmsr(SmeMsrs.SYSCFG);
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).wrmsr(SmeMsrs.SYSCFG, v & ~SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN));
        assertTrue(m.sme().enabled());
        m.core(0).wrmsr(SmeMsrs.SYSCFG, v | SmeMsrs.SYSCFG_MTRR_VAR_DRAM_EN); // other fields stay writable
        assertEquals(v | SmeMsrs.SYSCFG_MTRR_VAR_DRAM_EN, m.core(1).rdmsr(SmeMsrs.SYSCFG));
    }

    @Test
    void wrmsrSyscfgReservedBitGp() {
        Machine m = Machine.powerOn(cfg("activate=off"));
        for (int bit : new int[] {0, 16, 22, 24, 31, 63}) {
            assertThrows(GeneralProtectionFault.class, () -> m.core(0).wrmsr(SmeMsrs.SYSCFG, 1L << bit), "bit " + bit);
        }
        assertEquals(0, m.core(0).rdmsr(SmeMsrs.SYSCFG));
    }

    @Test
    void wrmsrSyscfgUnlockedTogglesAndHwcrLockIsWriteOnce() {
        Machine m = Machine.powerOn(cfg("activate=off"));
        assertFalse(m.sme().enabled());
        m.core(0).wrmsr(SmeMsrs.SYSCFG, SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN);
        assertTrue(m.sme().enabled());
        m.core(0).wrmsr(SmeMsrs.SYSCFG, 0);
        assertFalse(m.sme().enabled());
        m.core(0).wrmsr(SmeMsrs.SYSCFG, SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN);
        m.core(0).wrmsr(SmeMsrs.HWCR, SmeMsrs.HWCR_SMM_LOCK);
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).wrmsr(SmeMsrs.HWCR, 0));
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).wrmsr(SmeMsrs.SYSCFG, 0));
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).wrmsr(SmeMsrs.HWCR, 2));
    }

    @Test
    void wrmsrSyscfgAtCpl3Gp() {
        Machine m = Machine.powerOn(cfg());
        m.core(0).setCpl(3);
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).rdmsr(SmeMsrs.SYSCFG));
    }

    @Test
    void smeRequiresNoKeyIdBits() {
        assertThrows(IllegalArgumentException.class, () -> Machine.powerOn(MachineConfig.defaults().with("dram", "64M").with("maxphyaddr", "48").with("sme", "on")));
    }

    /** One physical page mapped twice: with the C-bit (encrypted) and without it (plaintext). */
    @Test
    void onePhysicalPageMappedWithAndWithoutCbit() {
        Machine m = Machine.powerOn(cfg());
        FrameAllocator fa = m.frameAllocator();
        PageTableBuilder pt = new PageTableBuilder(m, 0, fa, 0);
        long frame = 8L << 20;
        long vaEnc = 0x40000000L, vaDec = 0x50000000L;
        pt.map(vaEnc, frame | C, 0, Pte.RW);
        pt.map(vaDec, frame, 0, Pte.RW);
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        assertEquals(C, mmu.translate(vaEnc, Mmu.Access.READ) & C, "the leaf's C-bit rides into the full physical address");
        assertEquals(0, mmu.translate(vaDec, Mmu.Access.READ) & C);

        byte[] secret = pattern(4096, 1);
        mmu.store(vaEnc, secret);
        m.wbinvd(0);
        byte[] dram = m.dram().read(frame, 4096);
        assertFalse(Arrays.equals(secret, dram), "C-bit set: DRAM holds ciphertext");
        assertArrayEquals(secret, mmu.load(vaEnc, 4096), "read through the encrypted mapping decrypts");
        assertArrayEquals(dram, mmu.load(vaDec, 4096), "read through the plaintext mapping sees the ciphertext");

        byte[] plain = pattern(4096, 2);
        mmu.store(vaDec, plain);
        m.wbinvd(0);
        assertArrayEquals(plain, m.dram().read(frame, 4096), "C-bit clear: DRAM holds plaintext");
        assertFalse(Arrays.equals(plain, mmu.load(vaEnc, 4096)), "the encrypted mapping decrypts plaintext into garbage");
    }

    @Test
    void cachesTagLinesByCbit() {
        Machine m = Machine.powerOn(cfg());
        long pa = 8L << 20;
        m.pstore(0, pa | C, 0, pattern(64, 3));
        m.pstore(0, pa, 0, pattern(64, 4));
        assertEquals(Cache.M, m.caches().l1State(0, (pa | C) >>> 6), "C=1 alias is its own line");
        assertEquals(Cache.M, m.caches().l1State(0, pa >>> 6), "C=0 alias is another line");
        assertArrayEquals(pattern(64, 3), m.pload(0, pa | C, 0, 64), "aliases are not coherent with each other");
        assertArrayEquals(pattern(64, 4), m.pload(0, pa, 0, 64));
        m.clflush(0, pa | C, 0);
        m.clflush(0, pa, 0); // last write-back wins in DRAM: the plaintext alias
        assertArrayEquals(pattern(64, 4), m.dram().read(pa, 64));
    }

    @Test
    void smeDisabledStoresBothAliasesAsPlaintext() {
        Machine m = Machine.powerOn(cfg("activate=off"));
        long pa = 8L << 20;
        m.pstore(0, pa | C, 0, pattern(128, 5));
        m.wbinvdAll();
        assertArrayEquals(pattern(128, 5), m.dram().read(pa, 128));
    }

    @Test
    void tweakIsThePhysicalAddress() {
        Machine m = Machine.powerOn(cfg());
        byte[] same = pattern(64, 6);
        m.pstore(0, (8L << 20) | C, 0, same);
        m.pstore(0, (8L << 20) + 64 | C, 0, same);
        m.wbinvdAll();
        assertFalse(Arrays.equals(m.dram().read(8L << 20, 64), m.dram().read((8L << 20) + 64, 64)), "same plaintext, different PA: different ciphertext");
    }

    @Test
    void encryptedPageTablesViaCbitInCr3AndTablePointers() {
        Machine m = Machine.powerOn(cfg());
        long root = 4L << 20;
        // hand-built tables, all under the C-bit: PML4 -> PDPT -> PD with one 2 MiB leaf
        long pdpt = root + 4096, pd = root + 8192;
        for (long t : new long[] {root, pdpt, pd}) m.pstore(0, t | C, 0, new byte[4096]);
        long va = 0x40000000L;
        m.pstore64(0, (root | C) + 8L * Pte.index(va, 4), 0, Pte.entry(pdpt | C, Pte.P | Pte.RW));
        m.pstore64(0, (pdpt | C) + 8L * Pte.index(va, 3), 0, Pte.entry(pd | C, Pte.P | Pte.RW));
        m.pstore64(0, (pd | C) + 8L * Pte.index(va, 2), 0, Pte.entry((16L << 20) | C, Pte.P | Pte.RW | Pte.PS));
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(root | C);
        mmu.store(va + 4096, pattern(64, 7));
        assertArrayEquals(pattern(64, 7), mmu.load(va + 4096, 64));
        m.wbinvdAll();
        assertNotEquals(0, m.dram().read(root + 8L * Pte.index(va, 4), 8)[0] ^ (byte) (pdpt | Pte.P | Pte.RW | Pte.A), "the PML4 is ciphertext in DRAM");
        mmu.writeCr3(root); // without the C-bit the walker reads ciphertext as entries
        assertThrows(PageFault.class, () -> mmu.load(va, 8));
    }

    @Test
    void streamingLoadsAndStoresEqualOrdinaryOnes() {
        Machine m = Machine.powerOn(cfg());
        PageTableBuilder pt = new PageTableBuilder(m, 0, m.frameAllocator(), 0);
        long va = 0x40000000L;
        for (int p = 0; p < 8; p++) pt.map(va + p * 4096L, ((16L << 20) + p * 4096L) | C, 0, Pte.RW);
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        byte[] a = pattern(8 * 4096, 8);
        mmu.store(va, Arrays.copyOfRange(a, 0, 100)); // some lines dirty in the cache
        mmu.storeStream(va + 100, a, 100, a.length - 100 - 7);
        mmu.store(va + a.length - 7, Arrays.copyOfRange(a, a.length - 7, a.length));
        byte[] s = new byte[a.length];
        mmu.loadStream(va, s, 0, s.length);
        assertArrayEquals(a, s);
        m.wbinvdAll();
        assertArrayEquals(a, mmu.load(va, a.length));
        assertFalse(Arrays.equals(a, m.dram().read(16L << 20, a.length)));
    }

    @Test
    void bulkCopyEqualsLoadThenStoreAcrossAliases() {
        Machine m = Machine.powerOn(cfg());
        PageTableBuilder pt = new PageTableBuilder(m, 0, m.frameAllocator(), 0);
        long src = 0x40000000L, dst = 0x50000000L, dst2 = 0x60000000L;
        for (int p = 0; p < 4; p++) {
            pt.map(src + p * 4096L, (16L << 20) + p * 4096L, 0, Pte.RW); // plaintext source
            pt.map(dst + p * 4096L, ((16L << 20) + p * 4096L) | C, 0, Pte.RW); // same frames, encrypted
            pt.map(dst2 + p * 4096L, ((20L << 20) + p * 4096L) | C, 0, Pte.RW); // other frames, encrypted
        }
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        byte[] a = pattern(4 * 4096, 9);
        mmu.storeStream(src, a, 0, a.length);
        mmu.store(src + 5000, pattern(64, 10)); // one page partly cached and dirty
        byte[] want = a.clone();
        System.arraycopy(pattern(64, 10), 0, want, 5000, 64);
        mmu.copyStream(src, dst2, a.length); // plaintext -> encrypted elsewhere
        mmu.copyStream(dst2, dst2, a.length); // encrypted in place through one alias: identity
        assertArrayEquals(want, mmu.load(dst2, a.length));
        m.wbinvdAll();
        mmu.copyStream(src, dst, a.length); // in place, plaintext alias -> encrypted alias
        assertArrayEquals(want, mmu.load(dst, a.length));
        m.wbinvdAll();
        assertFalse(Arrays.equals(want, m.dram().read(16L << 20, a.length)), "encrypted in DRAM");
        PageTableBuilder ro = pt;
        ro.map(dst + 8 * 4096L, (16L << 20) | C, 0, 0); // read-only page
        assertThrows(PageFault.class, () -> mmu.copyStream(src, dst + 8 * 4096L, 4096));
    }
}
