package dev.memcrypt.hw.mmu;

import java.util.ArrayDeque;

/** A simple physical page-frame allocator over [start, end): bump pointer plus a free list. */
public final class FrameAllocator {
    private final long start;
    private final long end;
    private long next;
    private final ArrayDeque<Long> free = new ArrayDeque<>();

    public FrameAllocator(long start, long end) {
        if ((start & 0xfff) != 0 || (end & 0xfff) != 0 || start < 0 || end <= start) {
            throw new IllegalArgumentException(String.format("frame range 0x%x..0x%x must be page-aligned and non-empty", start, end));
        }
        this.start = start;
        this.end = end;
        this.next = start;
    }

    /** A free 4 KiB frame's physical address. */
    public long alloc() {
        Long f = free.pollFirst();
        if (f != null) return f;
        if (next >= end) throw new IllegalStateException("out of physical frames in 0x" + Long.toHexString(start) + "..0x" + Long.toHexString(end));
        long pa = next;
        next += 4096;
        return pa;
    }

    public void free(long pa) {
        if ((pa & 0xfff) != 0 || pa < start || pa >= next) throw new IllegalArgumentException("0x" + Long.toHexString(pa) + " is not an allocated frame");
        free.addFirst(pa);
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }
}
