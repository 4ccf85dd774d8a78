package dev.memcrypt.kernel.mm;

import dev.memcrypt.hw.Machine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A persistent-memory (NVDIMM) region: a fixed physical range of the machine's memory whose
 * contents are kept in a real file, so they survive a restart of memcrypt (a new {@link Machine}
 * attached to the same file). What persists is what the memory controller stored: ciphertext
 * under the namespace's KeyID. Since the line tweak is the physical address with no per-boot salt
 * by default (SPEC-FACTS §1), the same user key at the same address decrypts it again; another
 * key gives garbage.
 */
public final class PmemDevice {
    private static final int CHUNK = 1 << 20;
    private final Machine m;
    private final long base;
    private final long size;
    private final Path file;

    private PmemDevice(Machine m, long base, long size, Path file) {
        this.m = m;
        this.base = base;
        this.size = size;
        this.file = file;
    }

    /** Attaches the region [base, base+size) to {@code file}: existing contents are loaded into DRAM. */
    static PmemDevice attach(Machine m, long base, long size, Path file) throws IOException {
        PmemDevice d = new PmemDevice(m, base, size, file);
        if (Files.exists(file)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long n = Math.min(ch.size(), size);
                byte[] buf = new byte[CHUNK];
                for (long off = 0; off < n; off += CHUNK) {
                    int len = (int) Math.min(CHUNK, n - off);
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, len);
                    while (bb.hasRemaining() && ch.read(bb, off + bb.position()) >= 0) { }
                    for (int p = 0; p < len; p += 4096) {
                        int pl = Math.min(4096, len - p);
                        if (!zero(buf, p, pl)) m.dram().write(base + off + p, java.util.Arrays.copyOfRange(buf, p, p + pl));
                    }
                }
            }
        }
        return d;
    }

    private static boolean zero(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) if (b[i] != 0) return false;
        return true;
    }

    /** Writes the region's DRAM contents to the file (callers write back the caches first). */
    void sync() throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (long off = 0; off < size; off += CHUNK) {
                int len = (int) Math.min(CHUNK, size - off);
                byte[] buf = m.dram().read(base + off, len); // raw view: posted write-backs are drained first
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, len);
                while (bb.hasRemaining()) ch.write(bb, off + bb.position());
            }
        }
    }

    public long base() {
        return base;
    }

    public long size() {
        return size;
    }

    public Path file() {
        return file;
    }
}
