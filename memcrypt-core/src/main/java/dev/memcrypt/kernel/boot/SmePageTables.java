package dev.memcrypt.kernel.boot;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.Pte;

/**
 * Builds and edits 4-level page tables in modelled memory the way sme_populate_pgd does
 * (arch/x86/mm/mem_encrypt_identity.c): 2 MiB leaves only, missing PUD/PMD tables taken from a
 * bump-allocated table area, every access a physical 8-byte load/store through core {@code cpu}'s
 * caches. Table pointers written by this builder carry {@code tableCbit} (0 for the decrypted
 * tables of the workarea, the C-bit for the kernel's own encrypted tables); existing entries are
 * followed with whatever C-bit they carry, as the hardware walker does.
 */
final class SmePageTables {
    /** _KERNPG_TABLE_NOENC: P | RW | A | D (a table pointer; the C-bit is added separately). */
    static final long TABLE_FLAGS = Pte.P | Pte.RW | Pte.A | Pte.D;
    /** __PAGE_KERNEL_LARGE_EXEC: P | RW | A | D | PS | G (a 2 MiB kernel page). */
    static final long PMD_FLAGS = Pte.P | Pte.RW | Pte.A | Pte.D | Pte.PS | Pte.G;
    /**
     * The decrypted mapping: PMD_FLAGS with the cache bits replaced by PAT | PWT (Linux: PAT entry
     * 5, write-protect) and, as a model choice, R/W cleared: the model has no PAT memory types, so
     * the write protection is made architectural (#PF on a write).
     */
    static final long PMD_FLAGS_DEC_WP = (PMD_FLAGS & ~(Pte.PWT | Pte.PCD | Pte.RW)) | Pte.PAT_LARGE | Pte.PWT;

    private final Machine m;
    private final int cpu;
    private final long tableCbit;
    private final long start;
    private final long end;
    private long next;
    private final long addrMask;
    private static final byte[] ZERO = new byte[4096];

    SmePageTables(Machine m, int cpu, long areaStart, long areaEnd, long tableCbit) {
        this.m = m;
        this.cpu = cpu;
        this.start = areaStart;
        this.end = areaEnd;
        this.next = areaStart;
        this.tableCbit = tableCbit;
        this.addrMask = Pte.addrMask(m.config().maxPhysAddr());
    }

    /** A zeroed table page; its address with {@code tableCbit}. */
    long alloc() {
        if (next + 4096 > end) throw new IllegalStateException(String.format("page-table area 0x%x-0x%x exhausted", start, end));
        long pa = next;
        next += 4096;
        m.pstore(cpu, pa | tableCbit, 0, ZERO);
        return pa | tableCbit;
    }

    int pagesUsed() {
        return (int) ((next - start) / 4096);
    }

    long next() {
        return next;
    }

    private long entryAddr(long table, long va, int level) {
        return table + 8L * Pte.index(va, level);
    }

    /**
     * Maps the 2 MiB page at {@code va} with {@code leaf} under the PGD at full address {@code pgd},
     * creating PUD and PMD tables as needed. An existing large PMD is left alone (as Linux does).
     */
    void map2M(long pgd, long va, long leaf) {
        long table = pgd;
        for (int level = 4; level > 2; level--) {
            long ea = entryAddr(table, va, level);
            long e = m.pload64(cpu, ea, 0);
            if ((e & Pte.P) == 0) {
                long t = alloc();
                e = Pte.entry(t, TABLE_FLAGS);
                m.pstore64(cpu, ea, 0, e);
            }
            table = e & addrMask;
        }
        long ea = entryAddr(table, va, 2);
        long e = m.pload64(cpu, ea, 0);
        if ((e & Pte.P) != 0 && (e & Pte.PS) != 0) return;
        m.pstore64(cpu, ea, 0, leaf);
    }

    /** Maps [pa, pa+len) at va in 2 MiB pages: leaf = pa | cbit | flags. */
    void mapRange(long pgd, long va, long pa, long len, long cbit, long flags) {
        for (long o = 0; o < len; o += SmeBoot.PMD_SIZE) map2M(pgd, va + o, Pte.entry((pa + o) | cbit, flags));
    }

    /** Clears the PGD entry covering {@code va} (sme_clear_pgd). */
    void clearPgd(long pgd, long va) {
        m.pstore64(cpu, entryAddr(pgd, va, 4), 0, 0);
    }

    /** The entry mapping {@code va} and its level (2 = PMD leaf, 1 = PTE), or null if not mapped. */
    static long[] walk(Machine m, int cpu, long cr3, long va) {
        long mask = Pte.addrMask(m.config().maxPhysAddr());
        long table = cr3 & mask;
        for (int level = 4; level >= 1; level--) {
            long ea = table + 8L * Pte.index(va, level);
            long e = m.pload64(cpu, ea, 0);
            if ((e & Pte.P) == 0) return new long[] {level, e, ea};
            if (level == 1 || (level <= 3 && (e & Pte.PS) != 0)) return new long[] {level, e, ea};
            table = e & mask;
        }
        throw new AssertionError();
    }
}
