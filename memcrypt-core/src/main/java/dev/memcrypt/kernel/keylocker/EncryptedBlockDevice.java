package dev.memcrypt.kernel.keylocker;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A dm-crypt-like encrypted block device ("aes-xts-plain64" on Key Locker, cf. Linux
 * drivers/md/dm-crypt.c): 512-byte sectors of a file-backed disk image, each encrypted with
 * {@link AesKlXts} under IV = plain64(sector number), i.e. the sector number as a 64-bit
 * little-endian integer padded with zeros. Reads and writes return 0 or a negative errno
 * (-EINVAL a handle was refused, -ENODEV Key Locker disabled, -EIO the image failed).
 */
public final class EncryptedBlockDevice implements Closeable {
    public static final int SECTOR = 512;
    public static final int EIO = 5;

    private final FileChannel image;
    private final AesKlXts cipher;
    private final long sectors;
    private int cpu;

    private EncryptedBlockDevice(FileChannel image, AesKlXts cipher, long sectors) {
        this.image = image;
        this.cipher = cipher;
        this.sectors = sectors;
    }

    /** Opens (creating if needed) an image of {@code sectors} sectors; the device's crypto runs on CPU {@code cpu}. */
    public static EncryptedBlockDevice open(Path file, long sectors, AesKlXts cipher, int cpu) throws IOException {
        if (sectors <= 0) throw new IllegalArgumentException("sectors must be positive, got " + sectors);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (ch.size() < sectors * SECTOR) ch.write(ByteBuffer.allocate(1), sectors * SECTOR - 1);
        EncryptedBlockDevice d = new EncryptedBlockDevice(ch, cipher, sectors);
        d.cpu = cpu;
        return d;
    }

    public long sectors() {
        return sectors;
    }

    /** The CPU whose Key Locker does the work (the kernel's worker may move). */
    public void setCpu(int cpu) {
        this.cpu = cpu;
    }

    /** plain64 IV of a sector. */
    public static byte[] plain64(long sector) {
        byte[] iv = new byte[16];
        for (int i = 0; i < 8; i++) iv[i] = (byte) (sector >>> (8 * i));
        return iv;
    }

    /** Writes whole sectors starting at {@code sector}. */
    public int write(long sector, byte[] data) {
        check(sector, data);
        byte[] ct = new byte[data.length];
        for (int s = 0; s < data.length / SECTOR; s++) {
            int r = cipher.encrypt(cpu, plain64(sector + s), data, s * SECTOR, SECTOR, ct, s * SECTOR);
            if (r != 0) return r;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(ct);
            long pos = sector * SECTOR;
            while (b.hasRemaining()) pos += image.write(b, pos);
            return 0;
        } catch (IOException e) {
            return -EIO;
        }
    }

    /** Reads whole sectors starting at {@code sector} into {@code dst}. */
    public int read(long sector, byte[] dst) {
        check(sector, dst);
        byte[] ct = new byte[dst.length];
        try {
            ByteBuffer b = ByteBuffer.wrap(ct);
            long pos = sector * SECTOR;
            while (b.hasRemaining()) {
                int n = image.read(b, pos);
                if (n < 0) return -EIO;
                pos += n;
            }
        } catch (IOException e) {
            return -EIO;
        }
        for (int s = 0; s < dst.length / SECTOR; s++) {
            int r = cipher.decrypt(cpu, plain64(sector + s), ct, s * SECTOR, SECTOR, dst, s * SECTOR);
            if (r != 0) return r;
        }
        return 0;
    }

    private void check(long sector, byte[] data) {
        if (data == null || data.length == 0 || data.length % SECTOR != 0) throw new IllegalArgumentException("I/O must be whole 512-byte sectors");
        if (sector < 0 || sector + data.length / SECTOR > sectors) throw new IllegalArgumentException("sectors " + sector + "+" + data.length / SECTOR + " beyond device end " + sectors);
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
