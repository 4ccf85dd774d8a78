package dev.memcrypt.lab;

import dev.memcrypt.util.Bytes;
import dev.memcrypt.hw.memory.Dram;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a cold-boot attacker carries away: the DIMM contents, either as an image file written by
 * {@link Dram#saveImage} (file offset = physical address) or, without a work directory, read raw
 * from the DRAM object itself. Either way it is scanned exactly as a file would be.
 */
final class DramImage {
    private static final int CHUNK = 1 << 20;
    private final Dram dram; // when in memory
    private final Path file; // when saved
    private final long size;

    private DramImage(Dram dram, Path file, long size) {
        this.dram = dram;
        this.file = file;
        this.size = size;
    }

    /** Takes the image: saves it to {@code dir} if given, else keeps reading the (now cold) DRAM. */
    static DramImage take(Dram dram, Path dir, String name) {
        if (dir == null) return new DramImage(dram, null, dram.size());
        try {
            Files.createDirectories(dir);
            Path f = dir.resolve(name);
            dram.saveImage(f);
            return new DramImage(null, f, dram.size());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "a 32 MiB image file NAME" or "32 MiB of DRAM read raw". */
    String describe() {
        long mib = size >> 20;
        return file != null ? mib + " MiB image file " + file.getFileName() : mib + " MiB of DRAM read raw";
    }

    Path file() {
        return file;
    }

    byte[] read(long pa, int len) {
        if (dram != null) return dram.read(pa, len);
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer bb = ByteBuffer.allocate(len);
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pa + bb.position());
                if (n < 0) break;
            }
            return bb.array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Physical addresses of every occurrence of {@code needle} in the whole image. */
    List<Long> search(byte[] needle) {
        List<Long> hits = new ArrayList<>();
        int overlap = needle.length - 1;
        for (long pa = 0; pa < size; pa += CHUNK) {
            int len = (int) Math.min(CHUNK + overlap, size - pa);
            byte[] b = read(pa, len);
            int from = 0;
            while (true) {
                int i = Bytes.indexOf(b, needle, from);
                if (i < 0 || i >= CHUNK) break;
                hits.add(pa + i);
                from = i + 1;
            }
        }
        return hits;
    }

    /** New DRAM holding this image (the DIMMs in the next machine). */
    Dram load() {
        Dram d = new Dram(size);
        for (long pa = 0; pa < size; pa += CHUNK) {
            byte[] b = read(pa, (int) Math.min(CHUNK, size - pa));
            for (int off = 0; off < b.length; off += Dram.PAGE) {
                boolean zero = true;
                for (int i = off; i < off + Dram.PAGE && zero; i++) zero = b[i] == 0;
                if (!zero) d.write(pa + off, java.util.Arrays.copyOfRange(b, off, off + Dram.PAGE));
            }
        }
        return d;
    }
}
