package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.InvalidOpcodeFault;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import org.junit.jupiter.api.Test;

/** Protection keys for user pages (Intel SDM Vol. 3A §2.7, §4.6.2, §4.7; Vol. 2B RDPKRU/WRPKRU). */
class ProtectionKeysTest {
    static final long VA = 0x0000_7f00_0000_0000L, SUP = 0x0000_7f00_0010_0000L;
    static final int KEY = 3;

    Machine m = Hw.machine();
    Core c = m.core(0);
    PageTableBuilder pt = new PageTableBuilder(m, 0, m.frameAllocator(), 0);
    Mmu mmu = m.mmu(0);

    ProtectionKeysTest() {
        pt.map(VA, 0x40_0000, 0, Pte.RW | Pte.US | Pte.pkeyBits(KEY));
        pt.map(SUP, 0x41_0000, 0, Pte.RW | Pte.pkeyBits(KEY)); // a supervisor page: keys do not apply
        mmu.writeCr3(pt.cr3());
    }

    void pke() {
        c.writeCr4(c.cr4() | Core.CR4_PKE);
    }

    static PageFault pf(Runnable r) {
        return assertThrows(PageFault.class, r::run);
    }

    @Test
    void cpuidEnumeratesPkuAndOspkeFollowsCr4Pke() {
        assertNotEquals(0, c.cpuid(7, 0).ecx() & Core.CPUID7_ECX_PKU);
        assertEquals(0, c.cpuid(7, 0).ecx() & Core.CPUID7_ECX_OSPKE);
        pke();
        assertNotEquals(0, c.cpuid(7, 0).ecx() & Core.CPUID7_ECX_OSPKE);
    }

    @Test
    void rdpkruAndWrpkruAreUndefinedWithoutCr4Pke() {
        assertThrows(InvalidOpcodeFault.class, () -> c.rdpkru(0));
        assertThrows(InvalidOpcodeFault.class, () -> c.wrpkru(0, 0, 0));
    }

    @Test
    void wrpkruNeedsEcxAndEdxZeroAndWorksAtCpl3() {
        pke();
        assertThrows(GeneralProtectionFault.class, () -> c.wrpkru(4, 1, 0));
        assertThrows(GeneralProtectionFault.class, () -> c.wrpkru(4, 0, 1));
        assertThrows(GeneralProtectionFault.class, () -> c.rdpkru(1));
        assertEquals(0, c.rdpkru(0), "PKRU after reset");
        c.setCpl(3);
        c.wrpkru(0x0c, 0, 0);
        assertEquals(0x0c, c.rdpkru(0));
    }

    @Test
    void accessDisableDeniesUserReadsAndWritesWithPkBit() {
        pke();
        c.wrpkru(Core.pkruAd(KEY), 0, 0);
        c.setCpl(3);
        PageFault r = pf(() -> mmu.load64(VA));
        assertEquals(PageFault.P | PageFault.U | PageFault.PK, r.errorCode());
        PageFault w = pf(() -> mmu.store64(VA, 1));
        assertEquals(PageFault.P | PageFault.U | PageFault.W | PageFault.PK, w.errorCode());
    }

    @Test
    void writeDisableDeniesWritesOnly() {
        pke();
        c.setCpl(3);
        mmu.store64(VA, 11);
        c.wrpkru(Core.pkruWd(KEY), 0, 0);
        assertEquals(11, mmu.load64(VA));
        assertEquals(PageFault.P | PageFault.U | PageFault.W | PageFault.PK, pf(() -> mmu.store64(VA, 1)).errorCode());
    }

    @Test
    void supervisorDataAccessesToUserPagesAreCheckedToo() {
        pke();
        c.wrpkru(Core.pkruAd(KEY), 0, 0);
        assertEquals(PageFault.P | PageFault.PK, pf(() -> mmu.load64(VA)).errorCode(), "CPL 0 read of a user page");
        c.wrpkru(Core.pkruWd(KEY), 0, 0);
        assertEquals(PageFault.P | PageFault.W | PageFault.PK, pf(() -> mmu.store64(VA, 1)).errorCode(), "CR0.WP = 1: WD binds supervisor writes");
    }

    @Test
    void supervisorPagesAndFetchesAreNotChecked() {
        pke();
        c.wrpkru(Core.pkruAd(KEY), 0, 0);
        mmu.store64(SUP, 7);
        assertEquals(7, mmu.load64(SUP));
        c.setCpl(3);
        assertEquals(64, mmu.fetch(VA, 64).length, "instruction fetches ignore PKRU");
    }

    @Test
    void keysAreIgnoredWithCr4PkeClear() {
        // PKRU keeps its value but the walker ignores it once CR4.PKE is cleared
        pke();
        c.wrpkru(Core.pkruAd(KEY), 0, 0);
        c.writeCr4(c.cr4() & ~Core.CR4_PKE);
        c.setCpl(3);
        mmu.store64(VA, 5);
        assertEquals(5, mmu.load64(VA));
    }

    @Test
    void pkruChangeTakesEffectOnATlbHitWithoutInvalidation() {
        pke();
        c.setCpl(3);
        mmu.store64(VA, 9); // fills the TLB
        assertEquals(9, mmu.load64(VA));
        c.wrpkru(Core.pkruAd(KEY), 0, 0); // no INVLPG, no CR3 load
        assertEquals(PageFault.P | PageFault.U | PageFault.PK, pf(() -> mmu.load64(VA)).errorCode());
        c.wrpkru(0, 0, 0);
        assertEquals(9, mmu.load64(VA));
    }

    @Test
    void pkIsReportedAlongsideAReadOnlyViolation() {
        pt.map(VA + 0x1000, 0x42_0000, 0, Pte.US | Pte.pkeyBits(KEY)); // read-only user page
        pke();
        c.wrpkru(Core.pkruWd(KEY), 0, 0);
        c.setCpl(3);
        assertEquals(PageFault.P | PageFault.U | PageFault.W | PageFault.PK, pf(() -> mmu.store64(VA + 0x1000, 1)).errorCode());
    }

    @Test
    void powerLossClearsPkru() {
        pke();
        c.wrpkru(0xff, 0, 0);
        c.powerLoss();
        c.writeCr4(Core.CR4_PKE);
        assertEquals(0, c.rdpkru(0));
    }
}
