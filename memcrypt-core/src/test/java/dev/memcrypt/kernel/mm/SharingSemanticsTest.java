package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.task.Process;
import org.junit.jupiter.api.Test;

/** Linux sharing semantics the model must keep: shared vs private after fork, private file COW, DONTNEED. */
class SharingSemanticsTest {
    final MmFixture f = new MmFixture();

    @Test
    void sharedAnonymousIsSharedAcrossFork() throws Exception {
        long a = f.k.mmap(f.p, 0, PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED, -1, 0);
        f.k.store(f.p, a, "before".getBytes());
        Process c = f.k.fork(f.p);
        f.k.store(c, a, "child!".getBytes());
        assertArrayEquals("child!".getBytes(), f.k.load(f.p, a, 6), "MAP_SHARED: the parent sees the child's write");
        f.k.exit(c, 0);
        assertArrayEquals("child!".getBytes(), f.k.load(f.p, a, 6));
        f.assertInvariants();
    }

    @Test
    void privateFileMappingCopiesOnWrite() throws Exception {
        int fd = f.k.open(f.p, "f", O_CREAT | O_RDWR);
        f.k.pwrite(f.p, fd, 0, "file contents".getBytes());
        long a = f.k.mmap(f.p, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        assertArrayEquals("file".getBytes(), f.k.load(f.p, a, 4));
        f.k.store(f.p, a, "FILE".getBytes());
        assertArrayEquals("FILE".getBytes(), f.k.load(f.p, a, 4));
        assertArrayEquals("file".getBytes(), f.k.pread(f.p, fd, 0, 4), "the file is unchanged");
        long b = f.k.mmap(f.p, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        f.k.store(f.p, b + 5, "CONTENTS".getBytes());
        assertArrayEquals("file CONTENTS".getBytes(), f.k.pread(f.p, fd, 0, 13), "a shared mapping writes the file");
        f.assertInvariants();
    }

    @Test
    void dontneedDiscardsPrivateButNotShared() throws Exception {
        long a = f.anon(PAGE, PROT_READ | PROT_WRITE);
        long b = f.k.mmap(f.p, 0, PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED, -1, 0);
        f.k.store(f.p, a, "x".getBytes());
        f.k.store(f.p, b, "y".getBytes());
        f.k.madvise(f.p, a, PAGE, MADV_DONTNEED);
        f.k.madvise(f.p, b, PAGE, MADV_DONTNEED);
        assertArrayEquals(new byte[1], f.k.load(f.p, a, 1));
        assertArrayEquals("y".getBytes(), f.k.load(f.p, b, 1));
        assertEquals(Errno.ENOMEM, assertThrows(ErrnoException.class, () -> f.k.madvise(f.p, 0x2000_0000L, PAGE, MADV_DONTNEED)).errno());
    }

    @Test
    void fixedNoreplaceAndFixedMremap() throws Exception {
        long a = f.k.mmap(f.p, 0x5000_0000L, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
        assertEquals(Errno.EEXIST, assertThrows(ErrnoException.class,
                () -> f.k.mmap(f.p, a, PAGE, PROT_READ, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED_NOREPLACE, -1, 0)).errno());
        f.k.store(f.p, a, "moved".getBytes());
        long b = f.k.mremap(f.p, a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x6000_0000L);
        assertEquals(0x6000_0000L, b);
        assertArrayEquals("moved".getBytes(), f.k.load(f.p, b, 5));
        assertNull(f.p.mm().find(a));
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.mremap(f.p, b, PAGE, PAGE, MREMAP_FIXED, 0x7000_0000L)).errno());
        long c = f.k.mremap(f.p, b, 2 * PAGE, PAGE, 0, 0);
        assertEquals(b, c);
        assertEquals(b + PAGE, f.p.mm().find(b).end());
        f.assertInvariants();
    }

    @Test
    void mremapWithOldSizeZeroDuplicatesASharedMapping() throws Exception {
        long a = f.k.mmap(f.p, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED, -1, 0);
        f.k.store(f.p, a + PAGE, "second page".getBytes());
        assertEquals(Errno.ENOMEM, assertThrows(ErrnoException.class, () -> f.k.mremap(f.p, a + PAGE, 0, PAGE, 0, 0)).errno());
        long b = f.k.mremap(f.p, a + PAGE, 0, PAGE, MREMAP_MAYMOVE, 0);
        assertNotEquals(a + PAGE, b);
        assertEquals(a + 2 * PAGE, f.p.mm().find(a).end(), "the old mapping stays");
        assertArrayEquals("second page".getBytes(), f.k.load(f.p, b, 11), "the new mapping shows the same pages, from the old offset");
        f.k.store(f.p, b, "written via b".getBytes());
        assertArrayEquals("written via b".getBytes(), f.k.load(f.p, a + PAGE, 13));
        f.k.munmap(f.p, a, 2 * PAGE);
        assertArrayEquals("written via b".getBytes(), f.k.load(f.p, b, 13), "the duplicate holds its own reference on the pages");
        long c = f.k.mremap(f.p, b, 0, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x6100_0000L);
        assertEquals(0x6100_0000L, c);
        assertArrayEquals("written via b".getBytes(), f.k.load(f.p, c, 13));
        long p = f.anon(PAGE, PROT_READ | PROT_WRITE);
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.mremap(f.p, p, 0, PAGE, MREMAP_MAYMOVE, 0)).errno(), "private: EINVAL");
        f.assertInvariants();
    }

    @Test
    void translationViewShowsKeyIdAndCow() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        f.k.store(f.p, a, new byte[]{1});
        int id = f.k.keyIdAt(f.p, a);
        assertTrue(f.k.translations(f.p).matches("(?s)" + String.format("%012x", a) + " -> [0-9a-f]{10} keyid=" + id + " rw\\n"), f.k.translations(f.p));
        Process c = f.k.fork(f.p);
        f.k.load(c, a, 1);
        assertTrue(f.k.translations(c).contains("keyid=" + id + " ro cow"), f.k.translations(c));
    }
}
