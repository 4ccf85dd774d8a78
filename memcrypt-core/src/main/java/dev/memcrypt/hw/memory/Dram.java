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
 * <p>Design note: storage is a two-level table, chunk (4096 pages = 16 MiB) -> page frame ->
 * byte[4096], so a 1 TiB machine starts at once and costs only the pages written (plus 16 KiB of
 * references per touched chunk). A one-entry chunk cache is the fast path for streaming access.
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
    private static final int CHUNK_SHIFT = 12; // pages per chunk = 4096

    private final long size;
    private final Map<Long, byte[][]> chunks = new HashMap<>();
    private long lastChunkIdx = -1;
    private byte[][] lastChunk;
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
        return pagesTouched;
    }

    /** Installs the owner's hook; the previous owner (a machine that powered off) settles first. */
    public void setHook(Hook h) {
        if (hook != null) hook.beforeRawAccess(0, size, false);
        this.hook = h;
    }

    private byte[][] chunk(long pfn, boolean create) {
        long ci = pfn >>> CHUNK_SHIFT;
        if (ci == lastChunkIdx) return lastChunk;
        byte[][] c = chunks.get(ci);
        if (c == null) {
            if (!create) return null;
            c = new byte[1 << CHUNK_SHIFT][];
            chunks.put(ci, c);
        }
        lastChunkIdx = ci;
        lastChunk = c;
        return c;
    }

    private byte[] page(long pfn, boolean create) {
        byte[][] c = chunk(pfn, create);
        if (c == null) return null;
        int i = (int) (pfn & ((1 << CHUNK_SHIFT) - 1));
        byte[] p = c[i];
        if (p == null && create) {
            p = new byte[PAGE];
            c[i] = p;
            pagesTouched++;
        }
        return p;
    }

    private void check(long pa, long len) {
        if (pa < 0 || len < 0 || pa > size || len > size - pa) {
            throw new IllegalArgumentException(String.format("physical range 0x%x+%d outside DRAM (size 0x%x)", pa, len, size));
        }
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
        TreeMap<Long, byte[][]> sorted = new TreeMap<>(chunks);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (var e : sorted.entrySet()) {
                byte[][] c = e.getValue();
                for (int i = 0; i < c.length; i++) {
                    if (c[i] == null) continue;
                    long pa = ((e.getKey() << CHUNK_SHIFT) + i) << 12;
                    ByteBuffer bb = ByteBuffer.wrap(c[i]);
                    while (bb.hasRemaining()) ch.write(bb, pa + bb.position());
                }
            }
            if (ch.size() < size) {
                ch.write(ByteBuffer.wrap(new byte[1]), size - 1); // extend to full size (a hole)
            }
        }
    }
}
