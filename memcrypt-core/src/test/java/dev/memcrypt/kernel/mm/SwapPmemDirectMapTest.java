package dev.memcrypt.kernel.mm;

import dev.memcrypt.util.Bytes;
import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.task.Process;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Swap round trips, pmem across a restart, the per-KeyID direct map and its KeyID-0 hazard, memfd keys. */
class SwapPmemDirectMapTest {
    static final byte[] SECRET = "attack at dawn, bring the key".getBytes(StandardCharsets.UTF_8);

    @Test
    void swapRoundTripIsPlaintextOnTheDeviceByDefault() throws Exception {
        MmFixture f = new MmFixture();
        int k = f.cpuKey();
        long a = f.anon(2 * PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, 2 * PAGE, PROT_READ | PROT_WRITE, k);
        f.k.store(f.p, a + 100, SECRET);
        f.k.madvise(f.p, a, 2 * PAGE, MADV_PAGEOUT);
        int slot = f.k.swapSlot(f.p, a);
        assertTrue(slot >= 0);
        assertTrue(Bytes.contains(f.k.swapDevice().raw(slot), SECRET), "the RFC leaves swap in plaintext");
        assertArrayEquals(SECRET, f.k.load(f.p, a + 100, SECRET.length), "comes back intact");
        assertEquals(f.k.keyIdAt(f.p, a), f.p.mm().pageAt(a).keyId(), "swapped in under the VMA's KeyID");
        assertEquals(0, f.k.swapDevice().used());
        f.assertInvariants();
    }

    @Test
    void encryptedSwapHidesThePage() throws Exception {
        MmFixture f = new MmFixture(MmKernel.Options.defaults().withEncryptedSwap(true));
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        f.k.store(f.p, a, SECRET);
        f.k.madvise(f.p, a, PAGE, MADV_PAGEOUT);
        assertFalse(Bytes.contains(f.k.swapDevice().raw(f.k.swapSlot(f.p, a)), SECRET));
        assertArrayEquals(SECRET, f.k.load(f.p, a, SECRET.length));
    }

    @Test
    void swappedPageSurvivesFork() throws Exception {
        MmFixture f = new MmFixture();
        long a = f.anon(PAGE, PROT_READ | PROT_WRITE);
        f.k.store(f.p, a, SECRET);
        f.k.madvise(f.p, a, PAGE, MADV_PAGEOUT);
        Process c = f.k.fork(f.p);
        assertArrayEquals(SECRET, f.k.load(c, a, SECRET.length));
        assertArrayEquals(SECRET, f.k.load(f.p, a, SECRET.length));
        f.assertInvariants();
    }

    @Test
    void directMapUsesThePagesKeyIdAndKeyIdZeroAliasShowsWrongBytes() throws Exception {
        MmFixture f = new MmFixture();
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        f.k.copyToUser(f.p, a, SECRET); // kernel writes through KeyID N's direct map
        assertArrayEquals(SECRET, f.k.load(f.p, a, SECRET.length), "user sees what the kernel wrote");
        f.k.store(f.p, a + 64, SECRET);
        assertArrayEquals(SECRET, f.k.copyFromUser(f.p, a + 64, SECRET.length));
        byte[] alias = f.k.aliasRead(f.p, a, SECRET.length);
        assertFalse(Arrays.equals(SECRET, alias), "Andy Lutomirski's hazard: the KeyID-0 alias decrypts with the wrong key");
        assertArrayEquals(SECRET, f.k.load(f.p, a, SECRET.length), "the alias read did not disturb the data");
        f.assertInvariants();
    }

    @Test
    void dramBehindTheMappingIsCiphertextThatDependsOnKeyAndAddress() throws Exception {
        MmFixture f = new MmFixture();
        int k1 = f.cpuKey(), k2 = f.cpuKey();
        long a = f.anon(2 * PAGE, PROT_NONE);
        long b = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, 2 * PAGE, PROT_READ | PROT_WRITE, k1);
        f.k.encryptMprotect(f.t, b, PAGE, PROT_READ | PROT_WRITE, k2);
        byte[] line = Arrays.copyOf(SECRET, 64);
        f.k.store(f.p, a, line);
        f.k.store(f.p, a + PAGE, line);
        f.k.store(f.p, b, line);
        byte[] d1 = f.k.vdram(f.p, a, 64, true), d2 = f.k.vdram(f.p, a + PAGE, 64, true), d3 = f.k.vdram(f.p, b, 64, true);
        assertFalse(Bytes.contains(d1, SECRET));
        assertFalse(Arrays.equals(d1, d2), "another address: other ciphertext");
        assertFalse(Arrays.equals(d1, d3), "another key: other ciphertext");
    }

    @Test
    void memfdKeyMustBeSetBeforeSizing() throws Exception {
        MmFixture f = new MmFixture();
        int k = f.cpuKey();
        int fd = f.k.memfdCreate(f.p, "secret", MFD_CLOEXEC);
        f.k.memfdSetKey(f.t, fd, k);
        f.k.ftruncate(f.p, fd, 2 * PAGE);
        long a = f.k.mmap(f.p, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        f.k.store(f.p, a, SECRET);
        assertEquals(f.p.mm().find(a).keyId(), f.p.mm().pageAt(a).keyId());
        assertNotEquals(0, f.k.keyIdAt(f.p, a));
        assertArrayEquals(SECRET, f.k.pread(f.p, fd, 0, SECRET.length), "read(2) goes through the file's KeyID");
        int fd2 = f.k.memfdCreate(f.p, "late", 0);
        f.k.ftruncate(f.p, fd2, PAGE);
        ErrnoException e = assertThrows(ErrnoException.class, () -> f.k.memfdSetKey(f.t, fd2, k));
        assertEquals(Errno.EBUSY, e.errno());
        f.assertInvariants();
        f.k.munmap(f.p, a, 2 * PAGE);
        f.k.close(f.p, fd);
        f.assertInvariants();
    }

    @Test
    void pmemSurvivesRestartWithTheSameUserKeyOnly(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pmem0.img");
        String key = "type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100";
        String other = "type=user algorithm=aes-xts-128 key=0f0e0d0c0b0a09080706050403020100 tweak=ffeeddccbbaa99887766554433221100";
        MachineConfig cfg = MmFixture.config();
        MmKernel.Options o = MmKernel.Options.defaults().withPmem(file, 4L << 20);
        {
            MmFixture f = new MmFixture(cfg.with("seed", "11"), o);
            int fd = f.k.pmemOpen(f.t, f.addKey(key));
            long a = f.k.mmap(f.p, 0, 4L << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            f.k.store(f.p, a + 3 * PAGE + 10, SECRET);
            f.k.pmemSync();
            assertFalse(Bytes.contains(java.nio.file.Files.readAllBytes(file), SECRET), "the file holds ciphertext");
        }
        { // restart: a new machine (another TME key), same backing file, same user key
            MmFixture f = new MmFixture(cfg.with("seed", "12"), o);
            int fd = f.k.pmemOpen(f.t, f.addKey(key));
            assertArrayEquals(SECRET, f.k.pread(f.p, fd, 3 * PAGE + 10, SECRET.length));
            long a = f.k.mmap(f.p, 0, PAGE, PROT_READ, MAP_SHARED, fd, 3 * PAGE);
            assertArrayEquals(SECRET, f.k.load(f.p, a + 10, SECRET.length), "DAX mapping of the namespace");
        }
        { // restart with another key: garbage
            MmFixture f = new MmFixture(cfg.with("seed", "13"), o);
            int fd = f.k.pmemOpen(f.t, f.addKey(other));
            assertFalse(Arrays.equals(SECRET, f.k.pread(f.p, fd, 3 * PAGE + 10, SECRET.length)));
        }
    }

    @Test
    void pmemWithSaltedTweakDoesNotSurviveRestart(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pmem0.img");
        String key = "type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100";
        MachineConfig cfg = MmFixture.config().with("salted_tweak", "true");
        MmKernel.Options o = MmKernel.Options.defaults().withPmem(file, 2L << 20);
        MmFixture f = new MmFixture(cfg.with("seed", "21"), o);
        f.k.pwrite(f.p, f.k.pmemOpen(f.t, f.addKey(key)), 0, SECRET);
        f.k.pmemSync();
        MmFixture g = new MmFixture(cfg.with("seed", "22"), o);
        assertFalse(Arrays.equals(SECRET, g.k.pread(g.p, g.k.pmemOpen(g.t, g.addKey(key)), 0, SECRET.length)), "a per-boot salt breaks persistence");
    }

    @Test
    void segvOnProtNoneAndUnmapped() throws Exception {
        MmFixture f = new MmFixture();
        long a = f.anon(PAGE, PROT_NONE);
        SegvException e = assertThrows(SegvException.class, () -> f.k.load(f.p, a, 1));
        assertEquals("SIGSEGV", e.outcomeName());
        f.k.munmap(f.p, a, PAGE);
        assertThrows(SegvException.class, () -> f.k.store(f.p, a, new byte[1]));
        long r = f.anon(PAGE, PROT_READ);
        assertThrows(SegvException.class, () -> f.k.store(f.p, r, new byte[1]));
        assertArrayEquals(new byte[4], f.k.load(f.p, r, 4));
    }

    @Test
    void mremapMovesPagesAndKeyId() throws Exception {
        MmFixture f = new MmFixture();
        int k = f.cpuKey();
        long a = f.anon(2 * PAGE, PROT_NONE);
        f.k.mmap(f.p, a + 2 * PAGE, PAGE, PROT_READ, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0); // a guard above: no growing in place
        f.k.encryptMprotect(f.t, a, 2 * PAGE, PROT_READ | PROT_WRITE, k);
        f.k.store(f.p, a + PAGE, SECRET);
        int id = f.k.keyIdAt(f.p, a);
        int refs = f.k.keyIds().refCount(id);
        assertThrows(ErrnoException.class, () -> f.k.mremap(f.p, a, 2 * PAGE, 8 * PAGE, 0, 0));
        long b = f.k.mremap(f.p, a, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0);
        assertNotEquals(a, b);
        assertArrayEquals(SECRET, f.k.load(f.p, b + PAGE, SECRET.length));
        assertEquals(id, f.k.keyIdAt(f.p, b));
        assertEquals(refs, f.k.keyIds().refCount(id));
        assertEquals(Errno.EFAULT, assertThrows(ErrnoException.class, () -> f.k.mremap(f.p, a, PAGE, PAGE, 0, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.mremap(f.p, b + 1, PAGE, PAGE, 0, 0)).errno());
        f.assertInvariants();
    }

    @Test
    void pkeyMprotectAndMmapErrnos() throws Exception {
        MmFixture f = new MmFixture();
        long a = f.anon(PAGE, PROT_READ);
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.pkeyMprotect(f.p, a, PAGE, PROT_READ, 5)).errno());
        int pk = f.k.pkeyAlloc(f.p);
        f.k.pkeyMprotect(f.p, a, PAGE, PROT_READ | PROT_WRITE, pk);
        f.k.store(f.p, a, new byte[]{1});
        assertEquals(pk, (int) ((f.p.mm().pte(a) & dev.memcrypt.hw.mmu.Pte.PKEY_MASK) >>> dev.memcrypt.hw.mmu.Pte.PKEY_SHIFT));
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.mmap(f.p, 0, 0, PROT_READ, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.mmap(f.p, 0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0)).errno());
        assertEquals(Errno.EBADF, assertThrows(ErrnoException.class, () -> f.k.mmap(f.p, 0, PAGE, PROT_READ, MAP_PRIVATE, 42, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.munmap(f.p, a + 1, PAGE)).errno());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.madvise(f.p, a, PAGE, 99)).errno());
        assertEquals(Errno.ENOMEM, assertThrows(ErrnoException.class, () -> f.k.mprotect(f.p, 0x1000_0000L, PAGE, PROT_READ)).errno());
    }

    @Test
    void exitFreesEverything() throws Exception {
        MmFixture f = new MmFixture();
        long before = f.k.pageAllocator().allocated();
        Process q = f.k.spawn(Cred.root());
        long a = f.k.mmap(q, 0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        for (int i = 0; i < 64; i++) f.k.store(q, a + i * PAGE, new byte[]{(byte) i});
        Process c = f.k.fork(q);
        f.k.store(c, a, new byte[]{9});
        f.k.exit(c, 0);
        f.k.exit(q, 0);
        assertEquals(before, f.k.pageAllocator().allocated());
        assertTrue(f.k.pageAllocator().tableFramesFreed() >= 8, "both processes' page tables were freed");
    }
}
