package dev.memcrypt.kvm;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.FrameAllocator;

/**
 * Extended page tables in modelled memory (Intel SDM Vol. 3C §29.3): four levels of 512 8-byte
 * entries in host frames under KeyID 0, written and walked through a core's caches like any other
 * memory. Guest-physical addresses map to 4 KiB host frames; the KeyID of the guest page rides in
 * the entry's physical-address field (SPEC-FACTS §1 "The KeyID rides in every paging level's
 * entries, CR3, EPT entries and EPTP").
 *
 * <pre>
 * EPT entry (SDM Vol. 3C Table 29-1..29-6):
 *   bit 0        read access
 *   bit 1        write access
 *   bit 2        execute access (supervisor)
 *   bits 5:3     memory type, leaf only (6 = write-back)
 *   bit 6        ignore PAT, leaf only
 *   bit 7        page size (0: the model maps 4 KiB pages only)
 *   bits N-1:12  physical address of the next table or the page; KeyID in its top KEYID_BITS bits
 * EPTP (SDM Vol. 3C Table 25-9):
 *   bits 2:0     memory type of the walk (6 = write-back)
 *   bits 5:3     page-walk length minus 1 (3 = four levels)
 *   bits N-1:12  physical address of the EPT PML4 table (KeyID bits: the tables' KeyID, 0 here)
 * </pre>
 *
 * The walk itself is the processor's job; hw has no VMX memory virtualization, so the model's
 * walker lives here with the tables and is what guest accesses in {@link GuestCpu} go through.
 */
public final class Ept {
    public static final long R = 1L;
    public static final long W = 1L << 1;
    public static final long X = 1L << 2;
    /** Leaf memory type write-back (bits 5:3 = 6). */
    public static final long MT_WB = 6L << 3;
    public static final long LARGE = 1L << 7;
    /** EPTP: write-back walk, 4 levels. */
    public static final long EPTP_FLAGS = 6 | 3 << 3;
    public static final long RWX = R | W | X;

    private final Machine machine;
    private final FrameAllocator frames;
    private final long pml4;
    private int tableFrames = 1;

    Ept(Machine machine, FrameAllocator frames, int cpu) {
        this.machine = machine;
        this.frames = frames;
        this.pml4 = frames.alloc();
        machine.pstore(cpu, pml4, 0, new byte[4096]);
    }

    /** The EPTP value (VMCS field). */
    public long eptp() {
        return pml4 | EPTP_FLAGS;
    }

    private long addrMask() {
        return ((1L << machine.config().maxPhysAddr()) - 1) & ~0xfffL;
    }

    /** Maps guest page {@code gpa} to host frame {@code hpa} under {@code keyId}, writing the tables as core {@code cpu}. */
    void map(int cpu, long gpa, long hpa, int keyId, long perms) {
        long table = pml4;
        for (int level = 4; level > 1; level--) {
            long ea = table + 8L * index(gpa, level);
            long e = machine.pload64(cpu, ea, 0);
            if ((e & RWX) == 0) {
                long t = frames.alloc();
                tableFrames++;
                machine.pstore(cpu, t, 0, new byte[4096]);
                e = t | RWX;
                machine.pstore64(cpu, ea, 0, e);
            }
            table = e & addrMask();
        }
        machine.pstore64(cpu, table + 8L * index(gpa, 1), 0, machine.fullPa(hpa, keyId) | perms | MT_WB);
    }

    /** Removes the mapping of guest page {@code gpa} (no TLB in the model's EPT walk to invalidate). */
    void unmap(int cpu, long gpa) {
        long leaf = leafAddress(cpu, gpa);
        if (leaf >= 0) machine.pstore64(cpu, leaf, 0, 0);
    }

    /** The walk: the leaf entry of {@code gpa} as read from memory by core {@code cpu}, or 0 if not present. */
    long walk(int cpu, long gpa) {
        long leaf = leafAddress(cpu, gpa);
        return leaf < 0 ? 0 : machine.pload64(cpu, leaf, 0);
    }

    private long leafAddress(int cpu, long gpa) {
        long table = pml4;
        for (int level = 4; level > 1; level--) {
            long e = machine.pload64(cpu, table + 8L * index(gpa, level), 0);
            if ((e & RWX) == 0) return -1;
            table = e & addrMask();
        }
        return table + 8L * index(gpa, 1);
    }

    /** Host physical address (KeyID bits stripped) of a leaf entry. */
    long hpaOf(long leaf) {
        return machine.paOf(leaf & addrMask());
    }

    /** KeyID of a leaf entry. */
    int keyIdOf(long leaf) {
        return machine.keyIdOf(leaf & addrMask());
    }

    int tableFrames() {
        return tableFrames;
    }

    static int index(long gpa, int level) {
        return (int) (gpa >>> (12 + 9 * (level - 1))) & 0x1ff;
    }
}
