package dev.memcrypt.kernel.boot;

import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * A deterministic pseudo-random image (kernel or initrd): its bytes are a function of (seed, name,
 * offset), so an image of any size can be generated, loaded and checked in pieces without being
 * held in memory at once.
 */
public final class BootImage {
    private final String name;
    private final long size;
    private final long seed;

    public BootImage(String name, long size, long seed) {
        if (size < 0) throw new IllegalArgumentException("image size " + size);
        this.name = name;
        this.size = size;
        this.seed = seed ^ name.hashCode() * 0x9E3779B97F4A7C15L;
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /** Fills {@code dst[off..off+len)} with the image bytes at {@code offset} (offset 4 KiB aligned or continuing a page). */
    public void fill(long offset, byte[] dst, int off, int len) {
        long page = offset >>> 12;
        int inPage = (int) (offset & 0xfff);
        byte[] tmp = new byte[4096];
        while (len > 0) {
            SplittableRandom r = new SplittableRandom(seed + page * 0x632BE59BD9B4E019L);
            for (int i = 0; i < 4096; i += 8) {
                long v = r.nextLong();
                for (int j = 0; j < 8; j++) tmp[i + j] = (byte) (v >>> (8 * j));
            }
            int n = Math.min(len, 4096 - inPage);
            System.arraycopy(tmp, inPage, dst, off, n);
            off += n;
            len -= n;
            inPage = 0;
            page++;
        }
    }

    public byte[] bytes(long offset, int len) {
        byte[] b = new byte[len];
        fill(offset, b, 0, len);
        return b;
    }

    /** CRC32C of the whole image. */
    public long checksum() {
        CRC32C c = new CRC32C();
        byte[] b = new byte[1 << 20];
        for (long o = 0; o < size; o += b.length) {
            int n = (int) Math.min(b.length, size - o);
            fill(o, b, 0, n);
            c.update(b, 0, n);
        }
        return c.getValue();
    }
}
