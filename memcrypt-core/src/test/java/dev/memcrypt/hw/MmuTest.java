package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** x86-64 4-level paging with KeyIDs in CR3 and entries, TLB, faults, crossing accesses. */
class MmuTest {
    static final byte[] K1 = Hw.key16(31), K2 = Hw.key16(32);
    static final long VA = 0x0000_7f00_0000_0000L;

    Machine m = Hw.machine();
    PageTableBuilder pt;
    Mmu mmu;

    void setup(int tableKeyId) {
        Hw.directAll(m, 1, K1, K2);
        pt = new PageTableBuilder(m, 0, m.frameAllocator(), tableKeyId);
        mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
    }

    static PageFault pf(Runnable r) {
        return assertThrows(PageFault.class, r::run);
    }

    @Test
    void walkTranslatesThroughFourLevelsWithLeafKeyId() {
        setup(0);
        pt.map(VA, 0x40_0000, 1, Pte.RW);
        assertEquals(m.fullPa(0x40_0123, 1), mmu.translate(VA + 0x123, Mmu.Access.READ));
        mmu.store64(VA + 8, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, m.pload64(1, 0x40_0008, 1), "data lives at the PA under the leaf's KeyID");
    }

    @Test
    void cr3CarriesTableKeyIdAndTablesAreEncryptedInDram() {
        setup(1);
        assertEquals(1, mmu.cr3KeyId());
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.store64(VA, 42);
        m.wbinvdAll();
        long pml4 = m.paOf(pt.cr3());
        byte[] raw = m.dram().read(pml4, 4096);
        byte[] plain = m.pload(0, pml4, 1, 4096);
        long e = 0;
        int idx = Pte.index(VA, 4);
        for (int i = 7; i >= 0; i--) e = e << 8 | (plain[idx * 8 + i] & 0xff);
        assertEquals(Pte.P, e & Pte.P);
        assertEquals(1, m.keyIdOf(e & Pte.addrMask(46)), "intermediate entry carries the tables' KeyID");
        assertFalse(Arrays.equals(plain, raw), "page tables are ciphertext in DRAM");
        assertEquals(42, mmu.load64(VA));
    }

    @Test
    void walkerReadsTablesUnderParentKeyIdSoWrongCr3KeyIdFaultsOrMisreads() {
        setup(1);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.store64(VA, 7);
        m.wbinvdAll();
        mmu.writeCr3(m.fullPa(m.paOf(pt.cr3()), 0)); // same PML4 frame, wrong KeyID
        assertThrows(RuntimeException.class, () -> mmu.load64(VA), "tables decrypt to garbage: #PF (or a bogus address)");
    }

    @Test
    void notPresentFaultHasErrorCodeAndCr2() {
        setup(0);
        PageFault f = pf(() -> mmu.load64(VA + 0x10));
        assertEquals(VA + 0x10, f.cr2());
        assertEquals(0, f.errorCode());
        m.core(0).setCpl(3);
        PageFault w = pf(() -> mmu.store64(VA, 1));
        assertEquals(PageFault.W | PageFault.U, w.errorCode());
        assertEquals("#PF", w.outcomeName());
    }

    @Test
    void writeToReadOnlyPageFaultsWithProtectionBit() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, 0);
        mmu.load64(VA);
        assertEquals(PageFault.P | PageFault.W, pf(() -> mmu.store64(VA, 1)).errorCode());
    }

    @Test
    void userAccessToSupervisorPageFaults() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.load64(VA);
        m.core(0).setCpl(3);
        assertEquals(PageFault.P | PageFault.U, pf(() -> mmu.load64(VA)).errorCode());
        pt.map(VA + 4096, 0x40_1000, 0, Pte.RW | Pte.US);
        mmu.store64(VA + 4096, 5);
    }

    @Test
    void fetchFromExecuteDisablePageFaultsWithIBit() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.XD);
        mmu.load(VA, 4);
        assertEquals(PageFault.P | PageFault.I, pf(() -> mmu.fetch(VA, 4)).errorCode());
        pt.map(VA + 4096, 0x40_1000, 0, 0);
        mmu.fetch(VA + 4096, 4);
    }

    @Test
    void reservedBitInEntryFaultsWithRsvd() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        long e = pt.entry(VA, 1);
        pt.setEntry(VA, 1, e | 1L << 50); // above MAXPHYADDR 46
        assertEquals(PageFault.P | PageFault.RSVD, pf(() -> mmu.load64(VA)).errorCode());
    }

    @Test
    void psBitInPml4eIsReserved() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        pt.setEntry(VA, 4, pt.entry(VA, 4) | Pte.PS);
        assertEquals(PageFault.P | PageFault.RSVD, pf(() -> mmu.load64(VA)).errorCode() & (PageFault.P | PageFault.RSVD));
    }

    @Test
    void nonCanonicalAddressGp() {
        setup(0);
        assertThrows(GeneralProtectionFault.class, () -> mmu.load64(0x0000_8000_0000_0000L));
    }

    @Test
    void accessedAndDirtyBitsSetByWalker() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.load64(VA);
        assertEquals(Pte.A, pt.entry(VA, 1) & (Pte.A | Pte.D));
        mmu.store64(VA, 3);
        assertEquals(Pte.A | Pte.D, pt.entry(VA, 1) & (Pte.A | Pte.D));
        assertEquals(Pte.A, pt.entry(VA, 4) & Pte.A);
    }

    @Test
    void tlbKeepsStaleTranslationUntilInvlpg() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        pt.map(VA + 4096, 0x50_0000, 0, Pte.RW);
        mmu.store64(VA, 1);
        mmu.store64(VA + 4096, 2);
        pt.map(VA, 0x41_0000, 0, Pte.RW);
        pt.map(VA + 4096, 0x51_0000, 0, Pte.RW);
        assertEquals(m.fullPa(0x40_0000, 0), mmu.translate(VA, Mmu.Access.READ), "stale TLB entry");
        mmu.invlpg(VA);
        assertEquals(m.fullPa(0x41_0000, 0), mmu.translate(VA, Mmu.Access.READ));
        assertEquals(m.fullPa(0x50_0000, 0), mmu.translate(VA + 4096, Mmu.Access.READ), "INVLPG is per page");
        mmu.writeCr3(mmu.cr3());
        assertEquals(m.fullPa(0x51_0000, 0), mmu.translate(VA + 4096, Mmu.Access.READ), "CR3 reload flushes");
    }

    /** SDM Vol. 3A §4.10.3: a PDE cache may keep a present PDE after it changed, until INVLPG (which drops every entry, §4.10.4.1) or a CR3 load. */
    @Test
    void pagingStructureCacheKeepsStalePdeUntilInvlpgOrCr3Load() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        pt.map(VA + 4096, 0x50_0000, 0, Pte.RW); // same page table, never accessed below before the PDE changes
        long pde = pt.entry(VA, 2);
        mmu.load64(VA); // walk: caches the PDE
        pt.setEntry(VA, 2, pde & ~Pte.P);
        assertEquals(m.fullPa(0x50_0000, 0), mmu.translate(VA + 4096, Mmu.Access.READ), "a TLB miss walks from the cached PDE");
        mmu.invlpg(VA + 0x20_0000); // any address: INVLPG drops the whole paging-structure cache
        PageFault f = pf(() -> mmu.translate(VA + 2 * 4096, Mmu.Access.READ));
        assertTrue(f.getMessage().contains("level 2"), f.getMessage());
        pt.setEntry(VA, 2, pde);
        mmu.invlpg(VA);
        mmu.load64(VA); // walks again: the PDE is cached again
        pt.setEntry(VA, 2, pde & ~Pte.P);
        mmu.writeCr3(mmu.cr3()); // drops it, and the TLB
        assertTrue(pf(() -> mmu.load64(VA + 4096)).getMessage().contains("level 2"));
    }

    @Test
    void unmapNeedsInvlpgToFault() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.load64(VA);
        pt.unmap(VA);
        mmu.load64(VA);
        mmu.invlpg(VA);
        pf(() -> mmu.load64(VA));
    }

    @Test
    void changingLeafKeyIdSwitchesDataKeyId() {
        setup(0);
        pt.map(VA, 0x40_0000, 1, Pte.RW);
        mmu.store64(VA, 0x55);
        m.clflush(0, 0x40_0000, 1);               // flush the old KeyID's line
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.invlpg(VA);
        assertNotEquals(0x55, mmu.load64(VA), "same frame through another KeyID: garbage");
    }

    @Test
    void largePagesTwoMegAndOneGig() {
        m = Hw.machine("dram=4G");
        setup(0);
        pt.map(0x4000_0000L, 0x20_0000, 1, Pte.RW, PageTableBuilder.PAGE_2M);
        assertEquals(m.fullPa(0x20_0000 + 0x12_3456, 1), mmu.translate(0x4000_0000L + 0x12_3456, Mmu.Access.WRITE));
        pt.map(0x80_0000_0000L, 0x4000_0000L, 0, Pte.RW, PageTableBuilder.PAGE_1G);
        Machine big = m;
        assertEquals(big.fullPa(0x4000_0000L + 0x3ff_f000L, 0) & ~0xfffL, mmu.translate(0x80_0000_0000L + 0x3ff_f123L, Mmu.Access.READ) & ~0xfffL);
    }

    @Test
    void invlpgDropsWholeLargePage() {
        setup(0);
        pt.map(0x4000_0000L, 0x20_0000, 0, Pte.RW, PageTableBuilder.PAGE_2M);
        mmu.load64(0x4000_0000L + 0x5000);
        mmu.load64(0x4000_0000L + 0x9000);
        pt.map(0x4000_0000L, 0x40_0000, 0, Pte.RW, PageTableBuilder.PAGE_2M);
        mmu.invlpg(0x4000_0000L);
        assertEquals(m.fullPa(0x40_9000, 0), mmu.translate(0x4000_0000L + 0x9000, Mmu.Access.READ));
    }

    @Test
    void loadsAndStoresOfAnyWidthCrossLinesAndPages() {
        setup(0);
        pt.map(VA, 0x40_0000, 1, Pte.RW);
        pt.map(VA + 4096, 0x90_0000, 0, Pte.RW); // discontiguous frame, other KeyID
        byte[] d = Hw.bytes(5000, 3);
        mmu.store(VA + 100, d, 0, 4500);
        assertArrayEquals(Arrays.copyOf(d, 4500), mmu.load(VA + 100, 4500));
        mmu.store64(VA + 4093, 0x0102030405060708L); // crosses the page boundary
        assertEquals(0x0102030405060708L, mmu.load64(VA + 4093));
        assertEquals(0x08, m.pload(0, 0x40_0000 + 4093, 1, 1)[0]);
        assertEquals(0x01, m.pload(0, 0x90_0000 + 4, 0, 1)[0]);
        mmu.store64(VA + 61, -1L); // crosses a line
        assertEquals(-1L, mmu.load64(VA + 61));
    }

    @Test
    void crossPageStoreFaultingOnSecondPageWritesNothing() {
        setup(0);
        pt.map(VA, 0x40_0000, 0, Pte.RW);
        mmu.store64(VA + 4088, 0);
        pf(() -> mmu.store64(VA + 4092, -1L));
        assertEquals(0, mmu.load64(VA + 4088));
    }

    @Test
    void cr3WithBitsAboveMaxPhysAddrGp() {
        setup(0);
        assertThrows(GeneralProtectionFault.class, () -> mmu.writeCr3(1L << 50));
    }

    @Test
    void builderRejectsBadArguments() {
        setup(0);
        assertThrows(IllegalArgumentException.class, () -> pt.map(VA + 1, 0x40_0000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> pt.map(VA, 0x40_0000, 99, 0));
        assertThrows(IllegalArgumentException.class, () -> pt.map(VA, 0x40_0000, 0, 1L << 20));
        assertThrows(IllegalArgumentException.class, () -> pt.map(VA, 0x40_0000, 0, 0, 8192));
    }
}
