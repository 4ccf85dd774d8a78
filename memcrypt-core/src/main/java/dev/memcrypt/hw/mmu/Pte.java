package dev.memcrypt.hw.mmu;

/**
 * x86-64 4-level paging entry and CR3 bit layout (Intel SDM Vol. 3A §4.5, Tables 4-14..4-20), with
 * MKTME KeyID bits: the top KEYID_BITS bits of the address field, just below MAXPHYADDR
 * (SPEC-FACTS §1: "the KeyID rides in every paging level's entries, CR3"). The one place that
 * knows the layout.
 */
public final class Pte {
    private Pte() {}

    /** bit 0 P: present. */
    public static final long P = 1L;
    /** bit 1 R/W: writes allowed. */
    public static final long RW = 1L << 1;
    /** bit 2 U/S: user-mode accesses allowed. */
    public static final long US = 1L << 2;
    /** bit 3 PWT: page-level write-through (not modelled, kept). */
    public static final long PWT = 1L << 3;
    /** bit 4 PCD: page-level cache disable (not modelled, kept). */
    public static final long PCD = 1L << 4;
    /** bit 5 A: accessed, set by the walker. */
    public static final long A = 1L << 5;
    /** bit 6 D: dirty (leaf only), set on the first write. */
    public static final long D = 1L << 6;
    /** bit 7 PS: page size in PDPTE (1 GiB) and PDE (2 MiB); reserved in PML4E. PAT in a PTE. */
    public static final long PS = 1L << 7;
    /** bit 8 G: global (CR4.PGE is off in the model, so CR3 loads flush everything). */
    public static final long G = 1L << 8;
    /** bit 12 PAT in a large-page entry. */
    public static final long PAT_LARGE = 1L << 12;
    /** bits 62:59 protection key of a leaf entry (SDM Vol. 3A §4.6.2): with CR4.PKE = 1, PKRU's AD/WD bits for this key restrict data accesses to user pages. */
    public static final int PKEY_SHIFT = 59;
    public static final long PKEY_MASK = 0xfL << PKEY_SHIFT;
    /** bit 63 XD: execute-disable (EFER.NXE = 1 in the model). */
    public static final long XD = 1L << 63;
    /**
     * AMD SME C-bit (SPEC-FACTS §4; CPUID 0x8000001F EBX[5:0], 47 on the SME platform): an address
     * bit of every entry and of CR3; set = the page (or next table) is encrypted with the SME key.
     */
    public static long cBit(int position) {
        return 1L << position;
    }

    /** CR3 bits 3 (PWT) and 4 (PCD); bits 11:0 otherwise ignored (no PCID). */
    public static final long CR3_FLAGS = PWT | PCD;

    /** The protection-key field for {@code pkey} (0..15). */
    public static long pkeyBits(int pkey) {
        if (pkey < 0 || pkey > 15) throw new IllegalArgumentException("protection key " + pkey + " out of range 0..15");
        return (long) pkey << PKEY_SHIFT;
    }

    /** Address field, bits MAXPHYADDR-1:12 (KeyID bits included). */
    public static long addrMask(int maxPhys) {
        return ((1L << maxPhys) - 1) & ~0xfffL;
    }

    /** Reserved bits 51:MAXPHYADDR (must be 0, else #PF with RSVD). */
    public static long reservedHigh(int maxPhys) {
        return ((1L << 52) - 1) & ~((1L << maxPhys) - 1);
    }

    /**
     * Reserved bits of an entry at {@code level} (4 = PML4E .. 1 = PTE) given its PS bit:
     * bits 51:MAXPHYADDR always; PS in a PML4E; bits 29:13 in a 1 GiB PDPTE; bits 20:13 in a 2 MiB PDE.
     */
    public static long reserved(int level, long entry, int maxPhys) {
        long r = reservedHigh(maxPhys);
        if (level == 4) r |= PS;
        else if (level == 3 && (entry & PS) != 0) r |= ((1L << 30) - 1) & ~((1L << 13) - 1);
        else if (level == 2 && (entry & PS) != 0) r |= ((1L << 21) - 1) & ~((1L << 13) - 1);
        return r;
    }

    /** Index of {@code va} in the table at {@code level}. */
    public static int index(long va, int level) {
        return (int) (va >>> (12 + 9 * (level - 1))) & 511;
    }

    /** A leaf or table entry: address (full PA incl. KeyID bits, page-aligned) plus flags. */
    public static long entry(long fullPa, long flags) {
        return (fullPa & ~0xfffL & ((1L << 52) - 1)) | flags;
    }
}
