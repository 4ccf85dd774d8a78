package dev.memcrypt.hw.mmu;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cache.CacheSystem;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.PageFault;
import java.util.Arrays;

/**
 * One core's MMU: x86-64 4-level paging (4 KiB, 2 MiB and 1 GiB pages) over page tables that live
 * in modelled DRAM, so they are cached and encrypted like any data.
 *
 * <h2>Data path of a linear load / store</h2>
 * <ol>
 * <li>Canonical check (48-bit linear addresses), else #GP.
 * <li>TLB lookup (speed-only, see below). On a miss, or when the cached permissions do not allow
 *   the access, walk: CR3 gives the PML4's full physical address, KeyID bits included; each entry
 *   is read with an 8-byte load <em>through the caches</em> under the KeyID carried by the parent
 *   (CR3 or the previous entry), checked (P, reserved bits, U/S, R/W, XD) and gets its A bit set
 *   (a store through the caches); a write sets D in the leaf.
 * <li>The leaf gives the frame's full physical address: address bits plus the KeyID bits of the
 *   leaf entry. The access then goes to {@link CacheSystem} as this core, line by line; see there
 *   and the memory controller for fills and write-backs.
 * </ol>
 * An access that spans pages translates every page before touching memory, so a fault on the
 * second page leaves the first unmodified. CR0.WP = 1, EFER.NXE = 1, CR4.PGE = 0, no PCIDs; with CR4.PKE = 1 the leaf's protection key and PKRU restrict data accesses to user pages (#PF with the PK bit).
 * {@link #writeCr3} and {@link #invlpg} are the kernel's privileged operations; the model does not
 * check CPL for them (a remote TLB shootdown is modelled as a direct INVLPG on the other core).
 *
 * <h2>TLB and paging-structure cache</h2>
 * The TLB is a direct-mapped array of 4 KiB translations (large pages are cached per 4 KiB piece).
 * It caches the leaf's full frame address and the combined permissions; INVLPG drops every entry of
 * the page containing the address (all pieces of a large page), a CR3 load drops all. The
 * paging-structure cache (a PDE cache, SDM Vol. 3A §4.10.3) keeps, per 2 MiB region, the page table
 * a present, non-large PDE references and the permissions of the three upper levels, so a walk in
 * a known region reads only the PTE; INVLPG and a CR3 load drop all of it (§4.10.4.1). Like real
 * TLBs and paging-structure caches, neither is coherent with page-table writes: software that
 * changes a present entry at any level must INVLPG or reload CR3.
 */
public final class Mmu {
    /** Kind of access, for permission checks and the page-fault error code. */
    public enum Access { READ, WRITE, FETCH }

    private static final int TLB = 256;
    private static final int F_W = 1, F_U = 2, F_NX = 4, F_D = 8;
    /** TLB flags bits 11:8: the leaf's protection key (PKRU is checked on every access, hit or walk). */
    private static final int F_PKEY_SHIFT = 8;

    private final Machine m;
    private final Core core;
    private final int cpu;
    private final CacheSystem caches;
    private long cr3;

    // speed-only TLB
    private final long[] tlbVpn = new long[TLB];
    private final long[] tlbFrame = new long[TLB];
    private final int[] tlbFlags = new int[TLB];
    private final byte[] tlbShift = new byte[TLB];
    private long hits, walks;

    // paging-structure cache (PDE cache, SDM Vol. 3A §4.10.3): per 2 MiB region, the page table the
    // PDE points to and the U/W/XD the PML4E, PDPTE and PDE allow; a hit walks the PTE only
    private static final int PSC = 16;
    private final long[] pscRegion = new long[PSC];
    private final long[] pscTable = new long[PSC];
    private final int[] pscFlags = new int[PSC];

    public Mmu(Machine m, Core core) {
        this.m = m;
        this.core = core;
        this.cpu = core.id();
        this.caches = m.caches();
        Arrays.fill(tlbVpn, -1L);
        Arrays.fill(pscRegion, -1L);
    }

    public long cr3() {
        return cr3;
    }

    /** MOV to CR3: bits 63:MAXPHYADDR must be 0 (#GP); flushes the TLB. */
    public void writeCr3(long v) {
        int maxPhys = m.config().maxPhysAddr();
        if ((v & ~((1L << maxPhys) - 1)) != 0) throw new GeneralProtectionFault(String.format("CR3 0x%x sets bits above MAXPHYADDR", v));
        cr3 = v;
        flushTlb();
    }

    /** KeyID of the PML4, from CR3's KeyID bits. */
    public int cr3KeyId() {
        return m.keyIdOf(cr3 & Pte.addrMask(m.config().maxPhysAddr()));
    }

    /** INVLPG: drops the TLB entries of the page of {@code va} and, as the SDM allows (§4.10.4.1), every paging-structure-cache entry. */
    public void invlpg(long va) {
        Arrays.fill(pscRegion, -1L);
        for (int i = 0; i < TLB; i++) {
            if (tlbVpn[i] == -1) continue;
            int sh = tlbShift[i] - 12;
            if ((tlbVpn[i] >>> sh) == ((va >>> 12) >>> sh)) tlbVpn[i] = -1;
        }
    }

    /** Drops every TLB and paging-structure-cache entry (what a CR3 load does). */
    public void flushTlb() {
        Arrays.fill(tlbVpn, -1L);
        Arrays.fill(pscRegion, -1L);
    }

    /** INIT: CR3 = 0, TLB empty. */
    public void reset() {
        cr3 = 0;
        flushTlb();
    }

    public long tlbHits() {
        return hits;
    }

    public long walks() {
        return walks;
    }

    private static void canonical(long va) {
        if ((va << 16) >> 16 != va) throw new GeneralProtectionFault(String.format("non-canonical address 0x%x", va));
    }

    private int need(Access a) {
        int need = 0;
        if (a == Access.WRITE) need |= F_W | F_D;
        if (core.cpl() == 3) need |= F_U;
        return need;
    }

    /**
     * Translates {@code va} for an access of kind {@code a}: the full physical address (KeyID bits
     * included). Throws {@link PageFault} or {@link GeneralProtectionFault}.
     */
    public long translate(long va, Access a) {
        if (!core.online()) throw new IllegalArgumentException("cpu " + cpu + " is offline");
        canonical(va);
        long vpn = va >>> 12;
        int i = (int) vpn & (TLB - 1);
        if (tlbVpn[i] == vpn) {
            int f = tlbFlags[i];
            int need = need(a);
            if ((f & need) == need && !(a == Access.FETCH && (f & F_NX) != 0) && !pkDenied(a, (f & F_U) != 0, (f >>> F_PKEY_SHIFT) & 0xf)) {
                hits++;
                return tlbFrame[i] | (va & 0xfff);
            }
            tlbVpn[i] = -1; // re-walk: the fault (or the D-bit update) must reflect the tables
        }
        return walk(va, a);
    }

    /**
     * Protection keys (SDM Vol. 3A §4.6.2, CR4.PKE = 1): a data access (read or write, any CPL) to a
     * user-mode address whose key has PKRU.AD set is denied; a write is also denied when PKRU.WD is
     * set (user writes always, supervisor writes because CR0.WP = 1). Instruction fetches are not.
     */
    private boolean pkDenied(Access a, boolean userPage, int pkey) {
        if (!userPage || a == Access.FETCH || (core.cr4() & Core.CR4_PKE) == 0) return false;
        int r = core.pkru() >>> (2 * pkey);
        return (r & 1) != 0 || (a == Access.WRITE && (r & 2) != 0);
    }

    private long walk(long va, Access a) {
        walks++;
        int maxPhys = m.config().maxPhysAddr();
        long addrMask = Pte.addrMask(maxPhys);
        boolean user = core.cpl() == 3;
        int ec = (a == Access.WRITE ? PageFault.W : 0) | (user ? PageFault.U : 0) | (a == Access.FETCH ? PageFault.I : 0);
        long table = cr3 & addrMask;
        boolean u = true, w = true, nx = false;
        int top = 4;
        long region = va >>> 21;
        int pi = (int) region & (PSC - 1);
        if (pscRegion[pi] == region) { // the PDE cache gives the page table and the upper levels' permissions
            table = pscTable[pi];
            int f = pscFlags[pi];
            u = (f & F_U) != 0;
            w = (f & F_W) != 0;
            nx = (f & F_NX) != 0;
            top = 1;
        }
        for (int level = top; level >= 1; level--) {
            long ea = table + 8L * Pte.index(va, level);
            m.checkFull(ea, 8);
            long e = caches.load64(cpu, ea);
            if ((e & Pte.P) == 0) throw new PageFault(va, ec, "not present at level " + level);
            if ((e & Pte.reserved(level, e, maxPhys)) != 0) throw new PageFault(va, ec | PageFault.P | PageFault.RSVD, "reserved bit set at level " + level);
            u &= (e & Pte.US) != 0;
            w &= (e & Pte.RW) != 0;
            nx |= (e & Pte.XD) != 0;
            boolean leaf = level == 1 || (level <= 3 && (e & Pte.PS) != 0);
            if (!leaf) {
                if ((e & Pte.A) == 0) caches.store64(cpu, ea, e | Pte.A);
                table = e & addrMask;
                if (level == 2) { // a present PDE that references a page table, with A set: cache it
                    pscRegion[pi] = region;
                    pscTable[pi] = table;
                    pscFlags[pi] = (w ? F_W : 0) | (u ? F_U : 0) | (nx ? F_NX : 0);
                }
                continue;
            }
            int pkey = (int) ((e & Pte.PKEY_MASK) >>> Pte.PKEY_SHIFT);
            int pk = pkDenied(a, u, pkey) ? PageFault.PK : 0; // SDM §4.7: PK is reported whenever PKRU denies, with any other cause
            if (user && !u) throw new PageFault(va, ec | PageFault.P | pk, "supervisor page");
            if (a == Access.WRITE && !w) throw new PageFault(va, ec | PageFault.P | pk, "read-only page");
            if (a == Access.FETCH && nx) throw new PageFault(va, ec | PageFault.P | pk, "execute-disable page");
            if (pk != 0) throw new PageFault(va, ec | PageFault.P | pk, "PKRU denies " + (a == Access.WRITE ? "writes" : "accesses") + " with protection key " + pkey);
            long ne = e | Pte.A | (a == Access.WRITE ? Pte.D : 0);
            if (ne != e) caches.store64(cpu, ea, ne);
            int shift = 12 + 9 * (level - 1);
            long frameMask = addrMask & ~((1L << shift) - 1);
            long frame4k = (e & frameMask) | (va & ((1L << shift) - 1) & ~0xfffL);
            m.checkFull(frame4k, 4096); // once per translation: TLB hits need no range check
            long vpn = va >>> 12;
            int i = (int) vpn & (TLB - 1);
            tlbVpn[i] = vpn;
            tlbFrame[i] = frame4k;
            tlbShift[i] = (byte) shift;
            tlbFlags[i] = (w ? F_W : 0) | (u ? F_U : 0) | (nx ? F_NX : 0) | ((ne & Pte.D) != 0 ? F_D : 0) | pkey << F_PKEY_SHIFT;
            return frame4k | (va & 0xfff);
        }
        throw new AssertionError();
    }

    // ------------------------------------------------------------------ accesses

    private long[] translateAll(long va, int len, Access a) {
        if (len < 0) throw new IllegalArgumentException("negative length " + len);
        long first = va >>> 12;
        long last = (va + Math.max(len, 1) - 1) >>> 12;
        long[] pas = new long[(int) (last - first + 1)];
        for (int p = 0; p < pas.length; p++) {
            long pva = p == 0 ? va : (first + p) << 12;
            pas[p] = translate(pva, a);
        }
        return pas;
    }

    public byte[] load(long va, int len) {
        byte[] out = new byte[len];
        load(va, out, 0, len, Access.READ);
        return out;
    }

    /** An instruction fetch (for XD checks and the I/D error-code bit). */
    public byte[] fetch(long va, int len) {
        byte[] out = new byte[len];
        load(va, out, 0, len, Access.FETCH);
        return out;
    }

    public void load(long va, byte[] dst, int off, int len, Access a) {
        if (len > 0 && (va & 0xfff) + len <= 4096) { // one page: what translateAll does for it, without the array
            caches.read(cpu, translate(va, a), dst, off, len);
            return;
        }
        long[] pas = translateAll(va, len, a);
        for (int p = 0; p < pas.length && len > 0; p++) {
            int n = (int) Math.min(len, 4096 - (pas[p] & 0xfff));
            caches.read(cpu, pas[p], dst, off, n);
            off += n;
            len -= n;
        }
    }

    public void store(long va, byte[] src) {
        store(va, src, 0, src.length);
    }

    public void store(long va, byte[] src, int off, int len) {
        if (len > 0 && (va & 0xfff) + len <= 4096) { // one page: what translateAll does for it, without the array
            caches.write(cpu, translate(va, Access.WRITE), src, off, len);
            return;
        }
        long[] pas = translateAll(va, len, Access.WRITE);
        for (int p = 0; p < pas.length && len > 0; p++) {
            int n = (int) Math.min(len, 4096 - (pas[p] & 0xfff));
            caches.write(cpu, pas[p], src, off, n);
            off += n;
            len -= n;
        }
    }

    /**
     * Translates [va, va+len) for a bulk access: physically contiguous runs as pairs (full PA,
     * length) in {@code runs}; returns the number of runs. All pages are translated (and fault)
     * before the caller moves any data. A large page is translated once (its TLB entry covers it).
     */
    private int translateRuns(long va, int len, Access a, long[][] runsOut) {
        if (len < 0) throw new IllegalArgumentException("negative length " + len);
        long[] runs = runsOut[0];
        int n = 0;
        long end = va + len;
        while (va < end) {
            long pa = translate(va, a);
            int i = (int) (va >>> 12) & (TLB - 1);
            long size = tlbVpn[i] == va >>> 12 ? 1L << tlbShift[i] : 4096;
            int span = (int) Math.min(end - va, size - (va & (size - 1)));
            m.checkFull(pa, span);
            if (n > 0 && runs[2 * n - 2] + runs[2 * n - 1] == pa) {
                runs[2 * n - 1] += span;
            } else {
                if (2 * n + 2 > runs.length) runsOut[0] = runs = Arrays.copyOf(runs, runs.length * 2);
                runs[2 * n] = pa;
                runs[2 * n + 1] = span;
                n++;
            }
            va += span;
        }
        return n;
    }

    // speed-only scratch for translateRuns
    private final long[][] runScratch = {new long[32]};
    private final long[][] runScratch2 = {new long[32]};

    /**
     * Bulk copy (a fast-string {@code rep movsb} from {@code srcVa} to {@code dstVa}): translates
     * every source page for reading and every destination page for writing before any data moves
     * (a write-protected destination faults with nothing copied), then copies physically
     * contiguous pieces with {@link CacheSystem#copyStream}. Same result as {@link #loadStream}
     * into a buffer followed by {@link #storeStream}. Addresses and length must be 64-byte
     * multiples.
     */
    public void copyStream(long srcVa, long dstVa, int len) {
        int ns = translateRuns(srcVa, len, Access.READ, runScratch);
        int nd = translateRuns(dstVa, len, Access.WRITE, runScratch2);
        long[] s = runScratch[0], d = runScratch2[0];
        int i = 0, j = 0;
        long so = 0, dOff = 0;
        while (i < ns && j < nd) {
            long k = Math.min(s[2 * i + 1] - so, d[2 * j + 1] - dOff);
            caches.copyStream(cpu, s[2 * i] + so, d[2 * j] + dOff, k);
            so += k;
            dOff += k;
            if (so == s[2 * i + 1]) {
                i++;
                so = 0;
            }
            if (dOff == d[2 * j + 1]) {
                j++;
                dOff = 0;
            }
        }
    }

    /**
     * Bulk load (a fast-string copy's loads, e.g. {@code rep movsb} of whole pages): translates
     * every page first (faults before any data moves), then reads physically contiguous runs with
     * {@link CacheSystem#readStream} (lines no cache holds are not allocated; batched decryption).
     * Returns the same bytes as {@link #load}.
     */
    public void loadStream(long va, byte[] dst, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        int n = translateRuns(va, len, Access.READ, runScratch);
        long[] runs = runScratch[0];
        for (int r = 0; r < n; r++) {
            int k = (int) runs[2 * r + 1];
            caches.readStream(cpu, runs[2 * r], dst, off, k);
            off += k;
        }
    }

    /**
     * Bulk store (a fast-string copy's stores): translates every page for writing first (a
     * write-protected page faults before any data moves), then writes physically contiguous runs
     * with {@link CacheSystem#writeStream} (streaming full-line stores, batched encryption).
     */
    public void storeStream(long va, byte[] src, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        int n = translateRuns(va, len, Access.WRITE, runScratch);
        long[] runs = runScratch[0];
        for (int r = 0; r < n; r++) {
            int k = (int) runs[2 * r + 1];
            caches.writeStream(cpu, runs[2 * r], src, off, k);
            off += k;
        }
    }

    /** 8-byte little-endian load at any alignment. */
    public long load64(long va) {
        if ((va & 63) <= 56) {
            return caches.load64(cpu, translate(va, Access.READ));
        }
        byte[] b = load(va, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (b[i] & 0xff);
        return v;
    }

    /** 8-byte little-endian store at any alignment. */
    public void store64(long va, long v) {
        if ((va & 63) <= 56) {
            caches.store64(cpu, translate(va, Access.WRITE), v);
            return;
        }
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) b[i] = (byte) (v >>> (8 * i));
        store(va, b);
    }
}
