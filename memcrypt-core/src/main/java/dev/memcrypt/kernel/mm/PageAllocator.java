package dev.memcrypt.kernel.mm;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.FrameAllocator;

/**
 * The physical page allocator: frames from a {@link FrameAllocator}, handed out zeroed through
 * the KeyID they will be used with, and flushed under their KeyID when freed.
 *
 * <p>Design note (seed 001, Dave Hansen and Andy Lutomirski; SPEC-FACTS §1): a page that changes
 * KeyID must have the old KeyID's lines written back and invalidated (CLFLUSH under the old KeyID)
 * before it is used under the new one, and must then be zeroed through the new KeyID. The flush
 * happens at free time, while the old key is still programmed (a later key change would otherwise
 * encrypt the dirty lines with the wrong key); the zeroing happens at allocation.
 */
public final class PageAllocator {
    private static final byte[] ZERO = new byte[4096];
    private final Machine m;
    private final int cpu;
    private final FrameAllocator frames;
    private long allocated;
    private long flushes;
    private long tableFramesFreed;

    public PageAllocator(Machine m, int cpu, FrameAllocator frames) {
        this.m = m;
        this.cpu = cpu;
        this.frames = frames;
    }

    /**
     * A zeroed page whose contents are encrypted under {@code keyId}. Zeroed with streaming
     * (non-temporal) full-line stores through the new KeyID, as clear_page with MOVNTI: the zeros
     * go encrypted to DRAM without displacing cached data (the user's first write then allocates).
     */
    public Page alloc(int keyId) {
        long pa = frames.alloc();
        allocated++;
        m.pstoreStream(cpu, pa, keyId, ZERO);
        return new Page(pa, keyId, false);
    }

    /** A frame for kernel use (page tables); zeroed under KeyID 0. */
    public long allocFrame() {
        long pa = frames.alloc();
        m.pstore(cpu, pa, 0, ZERO);
        return pa;
    }

    /** Frees a page: its lines under its KeyID are flushed first (CLFLUSH of every line). */
    public void free(Page p) {
        if (p.fixed) return;
        m.clflushRange(cpu, p.pa, p.keyId, 4096);
        flushes++;
        frames.free(p.pa);
        allocated--;
    }

    /** Frees a page-table frame (tables are allocated by the page-table builder from {@link #frames()}). */
    public void freeFrame(long pa) {
        m.clflushRange(cpu, pa, 0, 4096);
        frames.free(pa);
        tableFramesFreed++;
    }

    /** Page-table frames freed so far (exit). */
    public long tableFramesFreed() {
        return tableFramesFreed;
    }

    /** Data pages currently allocated (anonymous, file and COW copies). */
    public long allocated() {
        return allocated;
    }

    /** Pages flushed at free so far. */
    public long flushes() {
        return flushes;
    }

    public FrameAllocator frames() {
        return frames;
    }
}
