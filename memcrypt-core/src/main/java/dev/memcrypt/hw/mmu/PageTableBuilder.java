package dev.memcrypt.hw.mmu;

import dev.memcrypt.hw.Machine;

/**
 * Builds x86-64 4-level page tables in modelled memory, the way a kernel would: table pages come
 * from a {@link FrameAllocator}, are zeroed and written through core {@code cpu}'s caches under
 * the tables' KeyID (so the tables themselves are encrypted under that KeyID). Intermediate
 * entries are P|RW|US and carry the tables' KeyID; the leaf decides the data page's KeyID and
 * permissions. Does not flush TLBs: callers INVLPG or reload CR3 after changing a live mapping.
 */
public final class PageTableBuilder {
    public static final long PAGE_4K = 1L << 12, PAGE_2M = 1L << 21, PAGE_1G = 1L << 30;

    private final Machine m;
    private final int cpu;
    private final FrameAllocator frames;
    private final int tableKeyId;
    private final long root;

    public PageTableBuilder(Machine m, int cpu, FrameAllocator frames, int tableKeyId) {
        this.m = m;
        this.cpu = cpu;
        this.frames = frames;
        this.tableKeyId = tableKeyId;
        m.fullPa(0, tableKeyId); // validates the KeyID
        this.root = newTable();
    }

    private long newTable() {
        long pa = frames.alloc();
        m.pstore(cpu, pa, tableKeyId, new byte[4096]);
        return pa;
    }

    /** CR3 value: the PML4's physical address with the tables' KeyID in the KeyID bits. */
    public long cr3() {
        return m.fullPa(root, tableKeyId);
    }

    public int tableKeyId() {
        return tableKeyId;
    }

    /** Maps the 4 KiB page at {@code va} to {@code pa} under {@code keyId} with {@code flags} (P is implied). On SME {@code pa} may carry the C-bit. */
    public void map(long va, long pa, int keyId, long flags) {
        map(va, pa, keyId, flags, PAGE_4K);
    }

    /** Maps a page of {@code size} (4 KiB, 2 MiB or 1 GiB). */
    public void map(long va, long pa, int keyId, long flags, long size) {
        int leafLevel = size == PAGE_4K ? 1 : size == PAGE_2M ? 2 : size == PAGE_1G ? 3 : -1;
        if (leafLevel < 0) throw new IllegalArgumentException("page size " + size + " is not 4K, 2M or 1G");
        if ((va & (size - 1)) != 0 || (pa & (size - 1)) != 0) throw new IllegalArgumentException(String.format("va 0x%x / pa 0x%x not aligned to 0x%x", va, pa, size));
        if ((va << 16) >> 16 != va) throw new IllegalArgumentException(String.format("va 0x%x is not canonical", va));
        long full = m.fullPa(pa, keyId);
        if (m.paOf(full) + size > m.physLimit()) throw new IllegalArgumentException(String.format("pa 0x%x+0x%x outside DRAM", pa, size));
        long ea = entryAddress(va, leafLevel, true);
        if ((flags & ~(0xfffL | Pte.XD | Pte.PKEY_MASK)) != 0) throw new IllegalArgumentException(String.format("flags 0x%x have address bits", flags));
        long leaf = Pte.entry(full, (flags | Pte.P) & ~Pte.PS) | (leafLevel > 1 ? Pte.PS : 0);
        m.pstore64(cpu, ea, tableKeyId, leaf);
    }

    /** Clears the leaf entry for {@code va} (4 KiB mapping). Caller flushes the TLB. */
    public void unmap(long va) {
        long ea = entryAddress(va, 1, false);
        if (ea >= 0) m.pstore64(cpu, ea, tableKeyId, 0);
    }

    /** The leaf entry currently mapping {@code va} at {@code level} (1 = PTE), or 0 if a table is missing. */
    public long entry(long va, int level) {
        long ea = entryAddress(va, level, false);
        return ea < 0 ? 0 : m.pload64(cpu, ea, tableKeyId);
    }

    /** Rewrites a leaf entry verbatim (for tests that plant reserved bits or change KeyIDs). */
    public void setEntry(long va, int level, long entry) {
        long ea = entryAddress(va, level, true);
        m.pstore64(cpu, ea, tableKeyId, entry);
    }

    /** Physical address (without KeyID) of the entry for {@code va} at {@code level}; creates tables on the way if asked. */
    private long entryAddress(long va, int level, boolean create) {
        long table = root;
        long addrMask = Pte.addrMask(m.config().maxPhysAddr());
        for (int l = 4; l > level; l--) {
            long ea = table + 8L * Pte.index(va, l);
            long e = m.pload64(cpu, ea, tableKeyId);
            if ((e & Pte.P) == 0) {
                if (!create) return -1;
                long t = newTable();
                e = Pte.entry(m.fullPa(t, tableKeyId), Pte.P | Pte.RW | Pte.US);
                m.pstore64(cpu, ea, tableKeyId, e);
            } else if ((e & Pte.PS) != 0) {
                throw new IllegalArgumentException(String.format("va 0x%x is inside a large page at level %d", va, l));
            }
            table = m.paOf(e & addrMask);
        }
        return table + 8L * Pte.index(va, level);
    }
}
