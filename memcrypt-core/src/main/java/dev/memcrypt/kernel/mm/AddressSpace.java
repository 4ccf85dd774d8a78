package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.PAGE;

import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An address space (mm_struct): the VMAs, the pages behind private anonymous memory, and real
 * x86-64 page tables in modelled DRAM (built with {@link PageTableBuilder}, tables under KeyID 0,
 * each leaf carrying its VMA's KeyID).
 *
 * <p>Design notes.
 * <ul>
 * <li>VMAs are kept in a {@link TreeMap} by start address, so finding, splitting and merging the
 *     VMAs of a range costs O(log n + k): encrypt_mprotect or munmap of one page costs about the
 *     same with 100 or 100,000 VMAs ({@code MmBench} measures the ratio).
 * <li>The software page state ({@link Slot}: page, or swap slot) is the truth; PTEs are
 *     installed on demand by the fault handler and zapped (cleared, TLBs shot down) whenever the
 *     protection, KeyID or sharing of a page changes, so a refault installs the new state.
 * <li>KeyID references: every VMA with a KeyID holds exactly one reference in the mktme KeyID map
 *     ({@link dev.memcrypt.kernel.keys.mktme.MktmeKeyIds}, the key service's own counter). All VMA
 *     insertions and removals go through {@link #insert} and {@link #remove}, which take and drop
 *     it; so a split takes one, a merge and an unmap drop one, fork takes one per copied VMA.
 * <li>Linux errno rules follow mm/mmap.c, mm/mprotect.c, mm/madvise.c and mm/mremap.c:
 *     EINVAL for misaligned addresses, bad flags or zero lengths; ENOMEM for ranges with unmapped
 *     holes (mprotect, madvise) or no room; EFAULT for an mremap source not inside one VMA.
 * </ul>
 */
public final class AddressSpace {
    /** The state of one virtual page of private anonymous memory (or a file page mapped into it). */
    static final class Slot {
        Page page;
        /** Swap slot when swapped out, else -1. */
        int swap = -1;
        /** KeyID the swapped contents belong to. */
        int swapKeyId;
        /** True if {@link #page} is this space's private anonymous page (COW-shared if mapCount > 1). */
        boolean anon;
        /** True if a PTE is installed for it. */
        boolean mapped;
    }

    final MmKernel k;
    final TreeMap<Long, Vma> vmas = new TreeMap<>();
    /** The lowest VMA; VMAs are also linked in address order (vm_next/vm_prev), so neighbours cost nothing. */
    private Vma head;
    /**
     * Speed only (not architectural): VMAs by exact start address, so a call on a range that starts
     * at a VMA (the common case) finds it in O(1) without walking the tree's CPU-cache-cold nodes.
     */
    private final java.util.HashMap<Long, Vma> byStart = new java.util.HashMap<>();
    /** Virtual page number -> state. */
    final TreeMap<Long, Slot> slots = new TreeMap<>();
    final PageTableBuilder pt;
    private final boolean[] pkeys = new boolean[16];
    /**
     * The PKRU value the process runs with (per thread in Linux; the model runs one user thread per
     * address space). Linux's init_pkru_value: every key but 0 access-disabled until pkey_alloc(2)
     * gives it rights. Inherited by fork.
     */
    int pkru = INIT_PKRU;
    static final int INIT_PKRU = 0x55555554;
    /** pkey_alloc(2) access rights. */
    static final int PKEY_DISABLE_ACCESS = 0x1, PKEY_DISABLE_WRITE = 0x2;
    long faults, cowCopies, swapIns, swapOuts;

    AddressSpace(MmKernel k) {
        this.k = k;
        this.pt = new PageTableBuilder(k.machine, k.kcpu, k.tableFrames(), 0);
        pkeys[0] = true;
    }

    /** CR3 for this address space (the PML4 under KeyID 0). */
    public long cr3() {
        return pt.cr3();
    }

    public List<Vma> vmas() {
        return List.copyOf(vmas.values());
    }

    public int vmaCount() {
        return vmas.size();
    }

    /** Problems with the VMA structures: tree order, the address-ordered list, overlaps. Empty if consistent. */
    List<String> checkStructure() {
        List<String> out = new ArrayList<>();
        Vma prev = null, l = head;
        for (Vma v : vmas.values()) {
            if (l != v) out.add("VMA list and tree disagree at " + v);
            if (v.prev != prev) out.add("bad prev link at " + v);
            if (prev != null && prev.end > v.start) out.add("overlap " + prev + " / " + v);
            if (v.start >= v.end) out.add("empty " + v);
            prev = v;
            l = l == null ? null : l.next;
        }
        if (l != null) out.add("VMA list longer than the tree");
        if (byStart.size() != vmas.size()) out.add("start index has " + byStart.size() + " VMAs, the tree " + vmas.size());
        for (Vma v : vmas.values()) if (byStart.get(v.start) != v) out.add("start index misses " + v);
        return out;
    }

    /** The VMA containing {@code va}, or null. */
    public Vma find(long va) {
        Vma x = byStart.get(va);
        if (x != null) return x;
        Map.Entry<Long, Vma> e = vmas.floorEntry(va);
        return e != null && va < e.getValue().end ? e.getValue() : null;
    }

    // ------------------------------------------------------------------ VMA bookkeeping

    private void insert(Vma v) {
        Map.Entry<Long, Vma> pe = vmas.lowerEntry(v.start);
        insertAfter(pe == null ? null : pe.getValue(), v);
    }

    /** Inserts {@code v}, whose predecessor in address order is {@code prev} (null: none), taking its references. */
    private void insertAfter(Vma prev, Vma v) {
        if (v.keyId != 0) k.keyIds().get(v.keyId);
        if (v.file != null) v.file.refs++;
        link(prev, v);
    }

    /** Tree and list insertion only (no references). */
    private void link(Vma prev, Vma v) {
        Vma next = prev == null ? head : prev.next;
        v.prev = prev;
        v.next = next;
        if (prev == null) head = v;
        else prev.next = v;
        if (next != null) next.prev = v;
        vmas.put(v.start, v);
        byStart.put(v.start, v);
    }

    /** Tree and list removal only (no references). */
    private void unlink(Vma v) {
        vmas.remove(v.start);
        byStart.remove(v.start);
        if (v.prev == null) head = v.next;
        else v.prev.next = v.next;
        if (v.next != null) v.next.prev = v.prev;
        v.prev = v.next = null;
    }

    private void remove(Vma v) {
        unlink(v);
        if (v.keyId != 0) k.keyIds().put(v.keyId);
        if (v.file != null) k.putFile(v.file);
    }

    private void setKeyId(Vma v, int keyId) {
        if (keyId == v.keyId) return;
        if (keyId != 0) k.keyIds().get(keyId);
        if (v.keyId != 0) k.keyIds().put(v.keyId);
        v.keyId = keyId;
    }

    /** Splits the VMA containing {@code at} (if any, and not starting there) so a VMA starts at {@code at}. */
    private void splitAt(long at) {
        Vma v = find(at);
        if (v == null || v.start == at) return;
        splitVma(v, at);
    }

    private boolean mergeable(Vma a, Vma b) {
        return a.end == b.start && a.prot == b.prot && a.shared == b.shared && a.file == b.file && a.keyId == b.keyId && a.pkey == b.pkey
                && (a.file == null || a.pgoff + ((a.end - a.start) >>> 12) == b.pgoff);
    }

    /** vma_merge(): joins the VMA starting at {@code start} with its neighbours where compatible. */
    private void tryMerge(long start) {
        Vma v = vmas.get(start);
        if (v == null) return;
        Vma n = v.next;
        if (n != null && mergeable(v, n)) {
            remove(n);
            v.end = n.end;
        }
        Vma p = v.prev;
        if (p != null && mergeable(p, v)) {
            remove(v);
            p.end = v.end;
        }
    }

    /** The VMAs overlapping [start, end), after splitting at both ends. */
    private List<Vma> carve(long start, long end) {
        return carve(overlapping(start, end), start, end);
    }

    /** The VMAs overlapping [start, end), in order: one descent to the first, then successors. */
    private List<Vma> overlapping(long start, long end) {
        List<Vma> out = new ArrayList<>(2);
        Vma v = byStart.get(start);
        if (v == null) {
            Map.Entry<Long, Vma> e = vmas.floorEntry(start);
            v = e == null ? head : e.getValue().end > start ? e.getValue() : e.getValue().next;
        }
        for (; v != null && v.start < end; v = v.next) out.add(v);
        return out;
    }

    /** True if the VMAs of {@link #overlapping} cover [start, end) without holes. */
    private static boolean contiguous(List<Vma> l, long start, long end) {
        if (l.isEmpty() || l.get(0).start > start || l.getLast().end < end) return false;
        for (int i = 1; i < l.size(); i++) if (l.get(i).start != l.get(i - 1).end) return false;
        return true;
    }

    /** Splits the first and last VMA of {@code l} at {@code start} and {@code end}; returns the pieces inside. */
    private List<Vma> carve(List<Vma> l, long start, long end) {
        if (l.isEmpty()) return l;
        Vma f = l.get(0);
        if (f.start < start) l.set(0, splitVma(f, start));
        Vma last = l.getLast();
        if (last.end > end) splitVma(last, end);
        return l;
    }

    /** Splits {@code v} at {@code at}: v keeps [start, at), the returned new VMA is [at, end) (one more KeyID reference). */
    private Vma splitVma(Vma v, long at) {
        Vma tail = v.copy();
        tail.start = at;
        if (v.file != null) tail.pgoff = v.pgoff + ((at - v.start) >>> 12);
        v.end = at;
        insertAfter(v, tail);
        return tail;
    }

    /** Merges the consecutive VMAs {@code l} with each other and with their neighbours where compatible. */
    private void mergeAround(List<Vma> l) {
        if (l.isEmpty()) return;
        List<Vma> c = new ArrayList<>(l.size() + 2);
        Vma pv = l.get(0).prev, nv = l.getLast().next;
        if (pv != null && pv.end == l.get(0).start) c.add(pv);
        c.addAll(l);
        if (nv != null && nv.start == l.getLast().end) c.add(nv);
        Vma cur = c.get(0);
        for (int i = 1; i < c.size(); i++) {
            Vma n = c.get(i);
            if (mergeable(cur, n)) {
                remove(n);
                cur.end = n.end;
            } else {
                cur = n;
            }
        }
    }

    /** True if [start, end) is covered by VMAs without holes. */
    private boolean covered(long start, long end) {
        long at = start;
        Vma v = find(at);
        if (v == null) return false;
        for (Vma w : vmas.tailMap(v.start, true).values()) {
            if (w.start > at) return false;
            at = w.end;
            if (at >= end) return true;
        }
        return false;
    }

    private boolean free(long start, long end) {
        if (start < Mman.MMAP_MIN_ADDR || end > Mman.TASK_SIZE || end <= start) return false;
        Map.Entry<Long, Vma> e = vmas.lowerEntry(end);
        return e == null || e.getValue().end <= start;
    }

    /** get_unmapped_area(), top-down from {@link Mman#MMAP_BASE}. */
    private long unmappedArea(long hint, long len) throws ErrnoException {
        if (hint != 0 && Mman.aligned(hint) && free(hint, hint + len)) return hint;
        Map.Entry<Long, Vma> lowest = vmas.ceilingEntry(0L);
        long top = Mman.MMAP_BASE;
        if (lowest != null && lowest.getKey() < top) top = lowest.getKey();
        if (free(top - len, top)) return top - len; // common case: below everything, O(log n)
        long end = Mman.MMAP_BASE;
        for (Vma v : vmas.headMap(Mman.MMAP_BASE, false).descendingMap().values()) {
            if (v.end <= end && free(end - len, end)) return end - len;
            end = Math.min(end, v.start);
        }
        if (free(end - len, end)) return end - len;
        throw new ErrnoException(Errno.ENOMEM, "no room for a mapping of " + len + " bytes");
    }

    // ------------------------------------------------------------------ system calls

    /** mmap(2). {@code file} is the descriptor's file, or null for MAP_ANONYMOUS. Returns the address. */
    long mmap(long addr, long len, int prot, int flags, ShmemFile file, long off) throws ErrnoException {
        int type = flags & Mman.MAP_TYPE;
        if (len == 0 || (type != Mman.MAP_SHARED && type != Mman.MAP_PRIVATE)) throw new ErrnoException(Errno.EINVAL, "length 0 or neither MAP_SHARED nor MAP_PRIVATE");
        if ((prot & ~7) != 0) throw new ErrnoException(Errno.EINVAL, "unknown PROT bits");
        if (!Mman.aligned(off) || off < 0) throw new ErrnoException(Errno.EINVAL, "offset not page-aligned");
        long plen = Mman.pageAlign(len);
        if (plen <= 0 || plen > Mman.TASK_SIZE) throw new ErrnoException(Errno.ENOMEM, "length too large");
        boolean fixed = (flags & (Mman.MAP_FIXED | Mman.MAP_FIXED_NOREPLACE)) != 0;
        boolean anon = (flags & Mman.MAP_ANONYMOUS) != 0;
        long start;
        if (fixed) {
            if (!Mman.aligned(addr)) throw new ErrnoException(Errno.EINVAL, "MAP_FIXED address not page-aligned");
            if (addr < Mman.MMAP_MIN_ADDR || addr + plen > Mman.TASK_SIZE || addr + plen < addr) throw new ErrnoException(Errno.ENOMEM, "fixed range outside user space");
            if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0 && !free(addr, addr + plen)) throw new ErrnoException(Errno.EEXIST, "range already mapped");
            start = addr;
            unmapRange(start, start + plen);
        } else {
            start = unmappedArea(addr & ~(PAGE - 1), plen);
        }
        ShmemFile backing = anon ? null : file;
        boolean shared = type == Mman.MAP_SHARED;
        if (anon && shared) backing = k.newShmem("dev/zero", ShmemFile.Kind.SHMEM_ANON, plen);
        int keyId = backing != null ? backing.keyId : 0;
        Vma v = new Vma(start, start + plen, prot, shared, backing, anon ? 0 : off >>> 12, keyId, 0);
        insert(v);
        if (anon && shared) k.putFile(backing); // the VMA holds the only reference
        tryMerge(start);
        if ((flags & Mman.MAP_POPULATE) != 0) {
            for (long va = start; va < start + plen; va += PAGE) fault(va, false);
        }
        return start;
    }

    /** munmap(2). */
    void munmap(long addr, long len) throws ErrnoException {
        if (!Mman.aligned(addr) || len == 0) throw new ErrnoException(Errno.EINVAL, "address not page-aligned or length 0");
        long plen = Mman.pageAlign(len);
        if (plen <= 0 || addr + plen > Mman.TASK_SIZE || addr + plen < addr) throw new ErrnoException(Errno.EINVAL, "range outside user space");
        unmapRange(addr, addr + plen);
    }

    private void unmapRange(long start, long end) {
        if (vmas.isEmpty()) return;
        zap(start, end, true); // pages first: their KeyID is still referenced by the VMAs
        for (Vma v : carve(start, end)) remove(v);
    }

    /** mprotect(2) and pkey_mprotect(2) ({@code pkey} -1 keeps each VMA's key). The KeyID is kept. */
    void mprotect(long addr, long len, int prot, int pkey) throws ErrnoException {
        checkProtRange(addr, len, prot);
        if (pkey != -1 && (pkey < 0 || pkey >= pkeys.length || !pkeys[pkey])) throw new ErrnoException(Errno.EINVAL, "protection key " + pkey + " not allocated");
        if (len == 0) return;
        long end = addr + Mman.pageAlign(len);
        List<Vma> l = overlapping(addr, end);
        if (!contiguous(l, addr, end)) throw new ErrnoException(Errno.ENOMEM, "range has unmapped pages");
        for (Vma v : carve(l, addr, end)) {
            v.prot = prot;
            if (pkey != -1) v.pkey = pkey;
        }
        zap(addr, end, false);
        mergeAround(l);
    }

    private static void checkProtRange(long addr, long len, int prot) throws ErrnoException {
        if (!Mman.aligned(addr)) throw new ErrnoException(Errno.EINVAL, "address not page-aligned");
        if ((prot & ~7) != 0) throw new ErrnoException(Errno.EINVAL, "unknown PROT bits");
        long plen = Mman.pageAlign(len);
        if (plen < 0 || addr + plen < addr || addr + plen > Mman.TASK_SIZE) throw new ErrnoException(Errno.ENOMEM, "range outside user space");
    }

    /**
     * encrypt_mprotect() on this address space with an already validated KeyID (SPEC-FACTS §2):
     * alignment, then the whole range must be mapped (ENOMEM) by private anonymous VMAs (EINVAL,
     * nothing changed); then the VMAs are split, get {@code prot} and the KeyID (references move),
     * their existing pages are discarded, and compatible neighbours merge.
     */
    void encryptMprotect(long addr, long len, int prot, int keyId) throws ErrnoException {
        if (!Mman.aligned(addr) || !Mman.aligned(len)) throw new ErrnoException(Errno.EINVAL, "address or length not page-aligned");
        checkProtRange(addr, len, prot);
        if (len == 0) return;
        long end = addr + len;
        List<Vma> l = overlapping(addr, end);
        if (!contiguous(l, addr, end)) throw new ErrnoException(Errno.ENOMEM, "range has unmapped pages");
        for (Vma v : l) if (!v.anonymousPrivate()) throw new ErrnoException(Errno.EINVAL, "range includes a shared or file-backed mapping");
        // MADV_DONTNEED-like: pages are flushed under their old KeyID and freed first, while the VMAs
        // still hold the old KeyID (so it cannot be released and reused before its lines are out)
        zap(addr, end, true);
        for (Vma v : carve(l, addr, end)) {
            v.prot = prot;
            setKeyId(v, keyId); // new pages fault in zeroed through the new KeyID
        }
        mergeAround(l);
    }

    /** madvise(2): MADV_DONTNEED discards, MADV_PAGEOUT swaps out private anonymous pages, others are hints. */
    void madvise(long addr, long len, int advice) throws ErrnoException {
        if (!Mman.aligned(addr)) throw new ErrnoException(Errno.EINVAL, "address not page-aligned");
        if (advice != Mman.MADV_NORMAL && advice != Mman.MADV_DONTNEED && advice != Mman.MADV_COLD && advice != Mman.MADV_PAGEOUT) {
            throw new ErrnoException(Errno.EINVAL, "unknown advice " + advice);
        }
        long plen = Mman.pageAlign(len);
        if (plen < 0 || addr + plen < addr) throw new ErrnoException(Errno.EINVAL, "range overflows");
        if (plen == 0) return;
        long end = addr + plen;
        boolean holes = !covered(addr, end);
        if (advice == Mman.MADV_DONTNEED) {
            zap(addr, end, true);
        } else if (advice == Mman.MADV_PAGEOUT) {
            for (Map.Entry<Long, Slot> e : new ArrayList<>(slots.subMap(addr >>> 12, end >>> 12).entrySet())) swapOut(e.getKey() << 12, e.getValue());
        }
        if (holes) throw new ErrnoException(Errno.ENOMEM, "range has unmapped pages");
    }

    /** mremap(2): shrink, grow in place, or move (MREMAP_MAYMOVE, MREMAP_FIXED). Returns the new address. */
    long mremap(long old, long oldLen, long newLen, int flags, long newAddr) throws ErrnoException {
        if (!Mman.aligned(old) || (flags & ~(Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED)) != 0) throw new ErrnoException(Errno.EINVAL, "misaligned address or unknown flags");
        if ((flags & Mman.MREMAP_FIXED) != 0 && (flags & Mman.MREMAP_MAYMOVE) == 0) throw new ErrnoException(Errno.EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE");
        long oldP = Mman.pageAlign(oldLen), newP = Mman.pageAlign(newLen);
        if (newP <= 0) throw new ErrnoException(Errno.EINVAL, "new length 0");
        if (oldP < 0) throw new ErrnoException(Errno.EINVAL, "old length overflows");
        if ((flags & Mman.MREMAP_FIXED) != 0) {
            if (!Mman.aligned(newAddr)) throw new ErrnoException(Errno.EINVAL, "new address not page-aligned");
            if (newAddr < old + oldP && old < newAddr + newP) throw new ErrnoException(Errno.EINVAL, "old and new ranges overlap");
        }
        Vma v = find(old);
        if (v == null || old + Math.max(oldP, PAGE) > v.end) throw new ErrnoException(Errno.EFAULT, "old range not inside one mapping");
        if (oldP == 0) { // mm/mremap.c: a second mapping of the same shared pages; the old one stays
            if (!v.shared) throw new ErrnoException(Errno.EINVAL, "old length 0 needs a shared mapping");
            if ((flags & Mman.MREMAP_MAYMOVE) == 0) throw new ErrnoException(Errno.ENOMEM, "old length 0 without MREMAP_MAYMOVE cannot grow in place");
            long dest = (flags & Mman.MREMAP_FIXED) != 0 ? newAddr : unmappedArea(0, newP);
            if ((flags & Mman.MREMAP_FIXED) != 0) unmapRange(dest, dest + newP);
            insert(new Vma(dest, dest + newP, v.prot, true, v.file, v.pgoff + ((old - v.start) >>> 12), v.keyId, v.pkey)); // takes the file and KeyID references
            tryMerge(dest);
            return dest;
        }
        if ((flags & Mman.MREMAP_FIXED) == 0) {
            if (newP <= oldP) {
                if (newP < oldP) unmapRange(old + newP, old + oldP);
                return old;
            }
            if (old + oldP == v.end && free(v.end, old + newP)) {
                splitAt(old);
                Vma w = vmas.get(old);
                w.end = old + newP;
                tryMerge(w.start);
                return old;
            }
            if ((flags & Mman.MREMAP_MAYMOVE) == 0) throw new ErrnoException(Errno.ENOMEM, "cannot grow in place");
        }
        long dest = (flags & Mman.MREMAP_FIXED) != 0 ? newAddr : unmappedArea(0, newP);
        if ((flags & Mman.MREMAP_FIXED) != 0) unmapRange(dest, dest + newP);
        long moveLen = Math.min(oldP, newP);
        List<Vma> src = carve(old, old + oldP);
        Vma s = src.get(0);
        // move pages of the part that survives, then the VMA itself (its KeyID reference moves with it)
        for (Map.Entry<Long, Slot> e : new ArrayList<>(slots.subMap(old >>> 12, (old + moveLen) >>> 12).entrySet())) {
            Slot sl = e.getValue();
            unmapPte(e.getKey() << 12, sl);
            slots.remove(e.getKey());
            slots.put(((dest - old) >> 12) + e.getKey(), sl);
        }
        unlink(s);
        Vma moved = s.copy();
        moved.start = dest;
        moved.end = dest + newP;
        Map.Entry<Long, Vma> pe = vmas.lowerEntry(dest);
        link(pe == null ? null : pe.getValue(), moved); // the reference s held now belongs to moved
        zap(old, old + oldP, true); // whatever was beyond the moved part
        tryMerge(dest);
        return dest;
    }

    /**
     * pkey_alloc(2): flags must be 0 and the rights a combination of PKEY_DISABLE_ACCESS and
     * PKEY_DISABLE_WRITE (EINVAL otherwise); the new key's PKRU bits are set to the rights.
     */
    int pkeyAlloc(int flags, int rights) throws ErrnoException {
        if (flags != 0) throw new ErrnoException(Errno.EINVAL, "pkey_alloc flags must be 0, got " + flags);
        if ((rights & ~(PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE)) != 0) throw new ErrnoException(Errno.EINVAL, "bad pkey_alloc access rights 0x" + Integer.toHexString(rights));
        for (int i = 1; i < pkeys.length; i++) {
            if (!pkeys[i]) {
                pkeys[i] = true;
                pkru = (pkru & ~(3 << (2 * i))) | rights << (2 * i); // AD = bit 2i, WD = bit 2i+1
                return i;
            }
        }
        throw new ErrnoException(Errno.ENOSPC, "no free protection key");
    }

    /** The process's PKRU value (what WRPKRU last wrote, or what pkey_alloc set). */
    public int pkru() {
        return pkru;
    }

    void pkeyFree(int pkey) throws ErrnoException {
        if (pkey <= 0 || pkey >= pkeys.length || !pkeys[pkey]) throw new ErrnoException(Errno.EINVAL, "protection key " + pkey + " not allocated");
        pkeys[pkey] = false;
    }

    // ------------------------------------------------------------------ pages

    private void unmapPte(long va, Slot s) {
        if (!s.mapped) return;
        pt.unmap(va);
        k.shootdown(va);
        s.mapped = false;
    }

    /**
     * Zaps [start, end): clears PTEs; with {@code discard} also drops private anonymous pages and
     * swap entries (zap_page_range / MADV_DONTNEED). File pages stay in their file.
     */
    void zap(long start, long end, boolean discard) {
        var range = slots.subMap(start >>> 12, end >>> 12);
        if (range.isEmpty()) return;
        List<Map.Entry<Long, Slot>> es = new ArrayList<>(range.entrySet());
        for (Map.Entry<Long, Slot> e : es) {
            Slot s = e.getValue();
            unmapPte(e.getKey() << 12, s);
            if (!discard) continue;
            if (s.anon && s.page != null) k.putAnon(s.page);
            if (s.swap >= 0) k.swap.put(s.swap);
            slots.remove(e.getKey());
        }
    }

    /**
     * The page-fault handler: makes {@code va} accessible for a read or write, or throws SIGSEGV /
     * SIGBUS. Anonymous pages come zeroed from the allocator under the VMA's KeyID; a write to a
     * page shared after fork copies it (COW); a swapped page is read back.
     */
    void fault(long va, boolean write) {
        faults++;
        Vma v = find(va);
        if (v == null) throw new SegvException("SIGSEGV", va, "no mapping");
        if (write ? (v.prot & Mman.PROT_WRITE) == 0 : (v.prot & (Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC)) == 0) {
            throw new SegvException("SIGSEGV", va, "mapping forbids " + (write ? "writes" : "reads"));
        }
        long vpn = va >>> 12;
        Slot s = slots.get(vpn);
        if (s == null) {
            s = new Slot();
            if (v.file == null) {
                s.page = k.pages.alloc(v.keyId);
                s.anon = true;
            } else {
                long idx = v.fileIndex(va);
                if ((idx << 12) >= v.file.size) throw new SegvException("SIGBUS", va, "beyond the end of " + v.file.mapsName());
                Page fp = k.filePage(v.file, idx);
                if (!v.shared && write) {
                    s.page = k.pages.alloc(v.keyId);
                    k.copyPage(fp, s.page);
                    s.anon = true;
                } else {
                    s.page = fp;
                }
            }
            slots.put(vpn, s);
        } else if (s.swap >= 0) {
            swapIn(s, v);
        } else if (write && s.anon && s.page.mapCount > 1) {
            Page copy = k.pages.alloc(v.keyId);
            k.copyPage(s.page, copy);
            s.page.mapCount--;
            unmapPte(va, s);
            s.page = copy;
            cowCopies++;
        } else if (write && !s.anon && !v.shared) {
            Page copy = k.pages.alloc(v.keyId);
            k.copyPage(s.page, copy);
            unmapPte(va, s);
            s.page = copy;
            s.anon = true;
        }
        install(va, v, s);
    }

    private void install(long va, Vma v, Slot s) {
        boolean writable = (v.prot & Mman.PROT_WRITE) != 0 && (v.shared || (s.anon && s.page.mapCount == 1));
        long flags = Pte.US | (writable ? Pte.RW : 0) | ((v.prot & Mman.PROT_EXEC) == 0 ? Pte.XD : 0) | Pte.pkeyBits(v.pkey);
        if (s.mapped) k.shootdown(va);
        pt.map(va & ~(PAGE - 1), s.page.pa, s.page.keyId, flags);
        s.mapped = true;
    }

    private void swapIn(Slot s, Vma v) {
        byte[] data = k.swap.read(s.swap);
        k.swap.put(s.swap);
        s.swap = -1;
        s.page = k.pages.alloc(v.keyId);
        k.machine.pstore(k.kcpu, s.page.pa, s.page.keyId, data);
        java.util.Arrays.fill(data, (byte) 0);
        s.anon = true;
        swapIns++;
    }

    /** Swaps out one private anonymous page (only if this space is its sole user). True if it went out. */
    boolean swapOut(long va, Slot s) {
        if (!s.anon || s.page == null || s.page.mapCount != 1) return false;
        unmapPte(va, s);
        byte[] data = k.machine.pload(k.kcpu, s.page.pa, s.page.keyId, 4096); // through the page's KeyID (direct map)
        s.swap = k.swap.write(data);
        s.swapKeyId = s.page.keyId;
        java.util.Arrays.fill(data, (byte) 0);
        k.putAnon(s.page);
        s.page = null;
        swapOuts++;
        return true;
    }

    /** Page state for {@code va}: the page if resident, else null. */
    Page pageAt(long va) {
        Slot s = slots.get(va >>> 12);
        return s == null ? null : s.page;
    }

    /** The resident page at {@code va}, swapped in if needed, ignoring protections (FOLL_FORCE-like); null if none. */
    Page forcePage(long va) {
        Slot s = slots.get(va >>> 12);
        if (s == null) return null;
        if (s.swap >= 0) swapIn(s, find(va));
        return s.page;
    }

    Slot slotAt(long va) {
        return slots.get(va >>> 12);
    }

    /** The leaf PTE currently installed for {@code va} (0 if none). */
    public long pte(long va) {
        return pt.entry(va & ~(PAGE - 1), 1);
    }

    // ------------------------------------------------------------------ fork and exit

    /** dup_mmap(): copies every VMA (taking KeyID references) and shares private pages copy-on-write. */
    AddressSpace dup() {
        AddressSpace c = new AddressSpace(k);
        System.arraycopy(pkeys, 0, c.pkeys, 0, pkeys.length);
        c.pkru = pkru;
        Vma last = null;
        for (Vma v = head; v != null; v = v.next) {
            Vma cv = v.copy();
            c.insertAfter(last, cv);
            last = cv;
        }
        for (Map.Entry<Long, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            Vma v = find(e.getKey() << 12);
            if (v.shared) continue; // shared pages refault from the file in the child
            Slot n = new Slot();
            if (s.swap >= 0) {
                k.swap.dup(s.swap);
                n.swap = s.swap;
                n.swapKeyId = s.swapKeyId;
            } else if (s.anon) {
                s.page.mapCount++;
                unmapPte(e.getKey() << 12, s); // write-protect the parent's copy: it refaults read-only
                n.page = s.page;
                n.anon = true;
            } else {
                continue; // private file page not yet written: refaults from the file
            }
            c.slots.put(e.getKey(), n);
        }
        return c;
    }

    /** exit_mmap(): unmaps everything (dropping KeyID references and pages) and frees the page tables. */
    void destroy() {
        for (Slot s : slots.values()) { // pages first, while the VMAs still hold their KeyIDs
            if (s.anon && s.page != null) k.putAnon(s.page);
            if (s.swap >= 0) k.swap.put(s.swap);
        }
        slots.clear();
        for (Vma v : new ArrayList<>(vmas.values())) remove(v);
        k.freeTables(pt);
    }
}
