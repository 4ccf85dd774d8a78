package dev.memcrypt.hw.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sparse DRAM: exactly the bytes the memory controller wrote (ciphertext, or plaintext for
 * NO_ENCRYPT KeyIDs, bypass and the exclusion range). Never-written memory reads as zero.
 *
 * <p>Design note: storage is a three-level radix table: a hash map of 1 GiB regions -> an array of
 * 4096 leaves -> a leaf of 64 page frames (256 KiB) -> byte[4096]. A 1 TiB machine starts at once
 * and costs only the pages written, plus at most ~16 KiB per touched GiB and ~270 bytes per touched
 * 256 KiB (so even 1 GiB scattered over 1 TiB costs ~35 MiB of bookkeeping). One-entry region and
 * leaf caches (speed only) are the fast path for streaming access.
 *
 * <p>Two access levels: {@link #read}/{@link #write} are the public raw views (cold-boot attacker,
 * loaders, DMA without cache coherence); they first let the memory controllers settle posted
 * write-backs through the {@link Hook}, so the raw view always equals what the controller wrote.
 * {@link #readInto}/{@link #writeFrom} are the controller's port and skip the hook.
 */
public final class Dram {
    /** Callbacks the machine installs so raw accesses see a settled memory (speed-only buffers drained). */
    public interface Hook {
        void beforeRawAccess(long pa, long len, boolean write);

        void afterRawWrite(long pa, long len);
    }

    public static final int PAGE = 4096;
    private static final int LEAF_SHIFT = 6; // 64 pages per leaf
    private static final int MID_SHIFT = 12; // 4096 leaves per region (1 GiB)
    private static final int REGION_SHIFT = LEAF_SHIFT + MID_SHIFT;

    private final long size;
    private final Map<Long, byte[][][]> regions = new HashMap<>();
    // speed only: the last region and leaf looked up (streaming access stays in one for a while)
    private long lastRegionIdx = -1;
    private byte[][][] lastRegion;
    private long lastLeafIdx = -1;
    private byte[][] lastLeaf;
    private long pagesTouched;
    private Hook hook;

    public Dram(long sizeBytes) {
        if (sizeBytes <= 0 || (sizeBytes & (PAGE - 1)) != 0) throw new IllegalArgumentException("DRAM size must be a positive multiple of 4096, got " + sizeBytes);
        this.size = sizeBytes;
    }

    public long size() {
        return size;
    }

    /** Pages that have ever been written (the memory the model actually uses). */
    public long pagesTouched() {
        if (hook != null) hook.beforeRawAccess(0, size, false);
        return pagesTouched;
    }

    /** Installs the owner's hook; the previous owner (a machine that powered off) settles first. */
    public void setHook(Hook h) {
        if (hook != null) hook.beforeRawAccess(0, size, false);
        this.hook = h;
    }

    private byte[][][] region(long pfn, boolean create) {
        long ri = pfn >>> REGION_SHIFT;
        if (ri == lastRegionIdx) return lastRegion;
        byte[][][] r = regions.get(ri);
        if (r == null) {
            if (!create) return null;
            r = new byte[1 << MID_SHIFT][][];
            regions.put(ri, r);
        }
        lastRegionIdx = ri;
        lastRegion = r;
        return r;
    }

    private byte[] page(long pfn, boolean create) {
        long lx = pfn >>> LEAF_SHIFT;
        byte[][] leaf = lastLeaf;
        if (lx != lastLeafIdx) {
            byte[][][] r = region(pfn, create);
            if (r == null) return null;
            int mi = (int) lx & ((1 << MID_SHIFT) - 1);
            leaf = r[mi];
            if (leaf == null) {
                if (!create) return null;
                leaf = r[mi] = new byte[1 << LEAF_SHIFT][];
            }
            lastLeafIdx = lx; // leaves are never removed, so the cached one stays valid
            lastLeaf = leaf;
        }
        int li = (int) pfn & ((1 << LEAF_SHIFT) - 1);
        byte[] p = leaf[li];
        if (p == null && create) {
            p = leaf[li] = new byte[PAGE];
            pagesTouched++;
        }
        return p;
    }

    private void check(long pa, long len) {
        if (pa < 0 || len < 0 || pa > size || len > size - pa) {
            throw new IllegalArgumentException(String.format("physical range 0x%x+%d outside DRAM (size 0x%x)", pa, len, size));
        }
    }

    /**
     * Controller port: the backing array of the page frame at {@code pa} (created if absent, so the
     * caller may write it), for encrypting or decrypting straight between DRAM and a buffer. No hook.
     */
    public byte[] pageArray(long pa) {
        check(pa, PAGE - (pa & (PAGE - 1)));
        return page(pa >>> 12, true);
    }

    /** Controller port: the backing array of the page frame at {@code pa}, or null if never written. No hook. */
    public byte[] pageArrayIfPresent(long pa) {
        check(pa, PAGE - (pa & (PAGE - 1)));
        return page(pa >>> 12, false);
    }

    /** Controller port: copies DRAM bytes into {@code dst}. No hook. */
    public void readInto(long pa, byte[] dst, int off, int len) {
        check(pa, len);
        while (len > 0) {
            int po = (int) (pa & (PAGE - 1));
            int n = Math.min(len, PAGE - po);
            byte[] p = page(pa >>> 12, false);
            if (p == null) Arrays.fill(dst, off, off + n, (byte) 0);
            else System.arraycopy(p, po, dst, off, n);
            pa += n;
            off += n;
            len -= n;
        }
    }

    /** Controller port: stores bytes into DRAM. No hook. */
    public void writeFrom(long pa, byte[] src, int off, int len) {
        check(pa, len);
        while (len > 0) {
            int po = (int) (pa & (PAGE - 1));
            int n = Math.min(len, PAGE - po);
            System.arraycopy(src, off, page(pa >>> 12, true), po, n);
            pa += n;
            off += n;
            len -= n;
        }
    }

    /** Raw view (the cold-boot attacker's): what DRAM holds now, no caches involved. */
    public byte[] read(long pa, int len) {
        check(pa, len);
        if (hook != null) hook.beforeRawAccess(pa, len, false);
        byte[] b = new byte[len];
        readInto(pa, b, 0, len);
        return b;
    }

    /** Raw write (loader, non-coherent DMA): bypasses caches and encryption; cached copies are not updated. */
    public void write(long pa, byte[] data) {
        check(pa, data.length);
        if (hook != null) hook.beforeRawAccess(pa, data.length, true);
        writeFrom(pa, data, 0, data.length);
        if (hook != null) hook.afterRawWrite(pa, data.length);
    }

    /**
     * Saves DRAM as a raw image (file offset = physical address), written sparsely: only touched
     * pages are written, so on common file systems the file has holes where DRAM was never written.
     */
    public void saveImage(Path file) throws IOException {
        if (hook != null) hook.beforeRawAccess(0, size, false);
        TreeMap<Long, byte[][][]> sorted = new TreeMap<>(regions);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (var e : sorted.entrySet()) {
                byte[][][] r = e.getValue();
                for (int mi = 0; mi < r.length; mi++) {
                    if (r[mi] == null) continue;
                    for (int li = 0; li < r[mi].length; li++) {
                        if (r[mi][li] == null) continue;
                        long pfn = (e.getKey() << REGION_SHIFT) + ((long) mi << LEAF_SHIFT) + li;
                        ByteBuffer bb = ByteBuffer.wrap(r[mi][li]);
                        while (bb.hasRemaining()) ch.write(bb, (pfn << 12) + bb.position());
                    }
                }
            }
            if (ch.size() < size) {
                ch.write(ByteBuffer.wrap(new byte[1]), size - 1); // extend to full size (a hole)
            }
        }
    }
}
