package dev.memcrypt.kernel.keylocker;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel's Key Locker: boot load/backup/restore, hotplug, resume, AES-KL XTS and the encrypted block device. */
class KernelKeyLockerTest {
    @TempDir
    Path dir;

    static byte[] rnd(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void bootLoadsRandomIwKeyOnCpu0AndRestoresOnTheOthers() {
        Machine m = Hw.machine();
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        assertTrue(k.enabled(), k.log().toString());
        assertTrue(k.log().contains("x86/keylocker: Enabled."));
        long gen0 = m.core(0).keyLocker().iwKeyGeneration();
        for (Core c : m.cores()) {
            assertFalse(c.keyLocker().holdsResetKey(), "cpu" + c.id() + " has a loaded IWKey");
            assertNotEquals(0, c.cr4() & Core.CR4_KL);
            for (int i = 0; i < 3; i++) assertArrayEquals(new byte[16], c.xmm().get(i), "no key left in XMM" + i);
        }
        // the same key everywhere: a handle made on cpu0 works on cpu3
        AesKlXts x = AesKlXts.setKey(k, 0, rnd(32, 1));
        byte[] pt = rnd(512, 2), a = new byte[512], b = new byte[512];
        assertEquals(0, x.encrypt(0, new byte[16], pt, 0, 512, a, 0));
        assertEquals(0, x.encrypt(3, new byte[16], pt, 0, 512, b, 0));
        assertArrayEquals(a, b);
        assertTrue(gen0 != 0);
    }

    @Test
    void bootWithoutKeyLockerStaysDisabled() {
        KernelKeyLocker k = KernelKeyLocker.boot(Hw.machine("keylocker=false"));
        assertFalse(k.enabled());
        assertThrows(IllegalStateException.class, () -> AesKlXts.setKey(k, 0, new byte[32]));
    }

    @Test
    void bootWithoutHardwareRandomnessUsesKernelRandomWithKeySource0() {
        Machine m = Hw.machine();
        for (Core c : m.cores()) c.keyLocker().setEnumeration(7, 0x14, 1);
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        assertTrue(k.enabled());
        m.core(0).xmm().set(0, new byte[16]);
        assertEquals(0, m.core(0).keyLocker().encodekey128(0), "KeySource 0, backup allowed");
    }

    @Test
    void xtsOnKeyLockerEqualsPlainXtsEngine() {
        Machine m = Hw.machine();
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        for (int trial = 0; trial < 8; trial++) {
            byte[] key = rnd(32, 10 + trial);
            XtsKey ref = XtsKey.of(key);
            AesKlXts x = AesKlXts.setKey(k, trial % 4, key.clone());
            if (trial % 4 == 1) x.disableWide();
            if (trial % 4 == 2) x.setInstructionLevel(true);
            int len = 16 * (1 + trial * 37 % 300);
            byte[] pt = rnd(len, 100 + trial), iv = rnd(16, 200 + trial);
            byte[] ct = new byte[len], expect = new byte[len], back = new byte[len];
            assertEquals(0, x.encrypt(trial % 4, iv, pt, 0, len, ct, 0));
            XtsEngine.java().encrypt(ref, iv, pt, 0, len, expect, 0);
            assertArrayEquals(expect, ct, "len " + len);
            assertEquals(0, x.decrypt(trial % 4, iv, ct, 0, len, back, 0));
            assertArrayEquals(pt, back);
        }
    }

    @Test
    void xts256OnKeyLockerEqualsIeee1619WithJdkAes() throws Exception {
        KernelKeyLocker k = KernelKeyLocker.boot(Hw.machine());
        byte[] key = rnd(64, 7);
        AesKlXts x = AesKlXts.setKey(k, 1, key.clone());
        byte[] pt = rnd(4096, 8), iv = EncryptedBlockDevice.plain64(12345), ct = new byte[4096];
        assertEquals(0, x.encrypt(1, iv, pt, 0, 4096, ct, 0));
        Cipher k1 = Cipher.getInstance("AES/ECB/NoPadding"), k2 = Cipher.getInstance("AES/ECB/NoPadding");
        k1.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, 0, 32, "AES"));
        k2.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, 32, 32, "AES"));
        byte[] t = k2.doFinal(iv);
        for (int b = 0; b < 256; b++) {
            byte[] blk = new byte[16];
            for (int i = 0; i < 16; i++) blk[i] = (byte) (pt[16 * b + i] ^ t[i]);
            blk = k1.doFinal(blk);
            for (int i = 0; i < 16; i++) assertEquals((byte) (blk[i] ^ t[i]), ct[16 * b + i]);
            AesKlXts.mulAlpha(t);
        }
    }

    @Test
    void keyExistsOnlyAsHandlesAfterSetup() throws Exception {
        KernelKeyLocker k = KernelKeyLocker.boot(Hw.machine());
        byte[] key = rnd(32, 3), copy = key.clone();
        AesKlXts x = AesKlXts.setKey(k, 0, key);
        assertArrayEquals(new byte[32], key, "caller's key buffer wiped");
        for (Field f : AesKlXts.class.getDeclaredFields()) {
            if (f.getType() != byte[].class) continue;
            f.setAccessible(true);
            byte[] v = (byte[]) f.get(x);
            for (int off = 0; off + 16 <= v.length; off++) {
                assertFalse(Arrays.equals(v, off, off + 16, copy, 0, 16), f.getName() + " holds the data key");
                assertFalse(Arrays.equals(v, off, off + 16, copy, 16, 32), f.getName() + " holds the tweak key");
            }
        }
        for (Core c : k.machine().cores()) for (int i = 0; i < 16; i++) assertFalse(Arrays.equals(c.xmm().get(i), Arrays.copyOf(copy, 16)));
    }

    @Test
    void blockDeviceCiphertextOnDiskEqualsXtsEngine() throws Exception {
        Machine m = Hw.machine();
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        byte[] key = rnd(32, 21);
        XtsKey ref = XtsKey.of(key);
        Path img = dir.resolve("disk.img");
        try (EncryptedBlockDevice d = EncryptedBlockDevice.open(img, 64, AesKlXts.setKey(k, 0, key), 0)) {
            byte[] data = rnd(8 * 512, 22);
            assertEquals(0, d.write(5, data));
            byte[] raw = Files.readAllBytes(img);
            for (int s = 0; s < 8; s++) {
                byte[] expect = new byte[512];
                XtsEngine.java().encrypt(ref, EncryptedBlockDevice.plain64(5 + s), data, 512 * s, 512, expect, 0);
                assertArrayEquals(expect, Arrays.copyOfRange(raw, 512 * (5 + s), 512 * (6 + s)), "sector " + (5 + s));
            }
            byte[] back = new byte[8 * 512];
            d.setCpu(2);
            assertEquals(0, d.read(5, back));
            assertArrayEquals(data, back);
            assertThrows(IllegalArgumentException.class, () -> d.write(63, new byte[1024]));
        }
    }

    @Test
    void deviceKeepsWorkingAfterHotplugAndS3() throws Exception {
        Machine m = Hw.machine();
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        try (EncryptedBlockDevice d = EncryptedBlockDevice.open(dir.resolve("d.img"), 16, AesKlXts.setKey(k, 0, rnd(32, 5)), 3)) {
            byte[] data = rnd(1024, 6), back = new byte[1024];
            assertEquals(0, d.write(0, data));
            m.cpuOffline(3);
            m.cpuOnline(3);
            assertEquals(-AesKlXts.ENODEV, d.read(0, back), "before the hotplug callback the CPU has no Key Locker");
            m.core(3).writeCr4(Core.CR4_KL);
            assertEquals(-AesKlXts.EINVAL, d.read(0, back), "CR4.KL alone is not enough: the IWKey was lost");
            assertTrue(k.cpuOnline(3));
            assertEquals(0, d.read(0, back));
            assertArrayEquals(data, back);
            assertTrue(k.s3Cycle(), k.log().toString());
            Arrays.fill(back, (byte) 0);
            assertEquals(0, d.read(0, back));
            assertArrayEquals(data, back);
        }
    }

    @Test
    void resumeWithLostBackupDisablesKeyLocker() {
        Machine m = Hw.machine();
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        m.suspendToRam();
        m.resumeFromRam();
        m.keyLockerPlatform().injectStorageError(true);
        assertFalse(k.resume());
        assertFalse(k.enabled());
        assertTrue(k.log().stream().anyMatch(l -> l.contains("failed to restore")));
    }

    @Test
    void stolenHandlesStopWorkingAfterReboot() throws Exception {
        Path img = dir.resolve("s.img");
        byte[] key = rnd(32, 9);
        byte[] stolen;
        byte[] data = rnd(512, 10);
        {
            Machine m = Hw.machine("seed=1");
            KernelKeyLocker k = KernelKeyLocker.boot(m);
            AesKlXts x = AesKlXts.setKey(k, 0, key.clone());
            stolen = x.handles()[0];
            try (EncryptedBlockDevice d = EncryptedBlockDevice.open(img, 8, x, 0)) {
                assertEquals(0, d.write(1, data));
            }
            Core c = m.core(1);
            c.xmm().set(0, new byte[16]);
            assertTrue(c.keyLocker().aesenc128kl(0, stolen), "the handle works before the reboot");
        }
        // reboot: same machine configuration and even the same entropy seed would still give a new key; use another seed
        Machine m2 = Hw.machine("seed=2");
        KernelKeyLocker k2 = KernelKeyLocker.boot(m2);
        Core c = m2.core(0);
        c.xmm().set(0, new byte[16]);
        assertFalse(c.keyLocker().aesenc128kl(0, stolen), "stolen handle refused after reboot");
        assertTrue(c.zf());
        // the disk is still readable with the key (set up again after the reboot): handles are per boot, data is not
        try (EncryptedBlockDevice d = EncryptedBlockDevice.open(img, 8, AesKlXts.setKey(k2, 0, key.clone()), 0)) {
            byte[] back = new byte[512];
            assertEquals(0, d.read(1, back));
            assertArrayEquals(data, back);
        }
        // and the raw image holds no plaintext
        try (FileChannel ch = FileChannel.open(img)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            ch.read(b, 512);
            assertFalse(Arrays.equals(data, b.array()));
        }
    }

    @Test
    void callerRegistersSurviveKernelCrypto() {
        Machine m = Hw.machine();
        KernelKeyLocker k = KernelKeyLocker.boot(m);
        AesKlXts x = AesKlXts.setKey(k, 0, rnd(32, 1));
        Core c = m.core(0);
        for (int i = 0; i < 16; i++) c.xmm().set(i, rnd(16, 50 + i));
        c.setCpl(3);
        byte[] out = new byte[256];
        assertEquals(0, x.encrypt(0, new byte[16], rnd(256, 3), 0, 256, out, 0));
        for (int i = 0; i < 16; i++) assertArrayEquals(rnd(16, 50 + i), c.xmm().get(i));
        assertEquals(3, c.cpl());
    }
}
