package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.keys.KeyPerm;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** encrypt_mprotect() as SPEC-FACTS §2 states it: every errno rule, references, discard, flush. */
class EncryptMprotectTest {
    final MmFixture f = new MmFixture();

    static void errno(Errno e, Executable x) {
        ErrnoException ex = assertThrows(ErrnoException.class, x);
        assertEquals(e, ex.errno(), ex.getMessage());
    }

    int keyIdOf(int serial) throws ErrnoException {
        var key = f.k.keys().acquire(serial);
        try {
            return dev.memcrypt.kernel.keys.mktme.MktmeKeyType.keyIdOf(key);
        } finally {
            f.k.keys().release(key);
        }
    }

    @Test
    void misalignedAddressIsEinval() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(2 * PAGE, PROT_NONE);
        errno(Errno.EINVAL, () -> f.k.encryptMprotect(f.t, a + 100, PAGE, PROT_NONE, k));
    }

    @Test
    void misalignedLengthIsEinval() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(2 * PAGE, PROT_NONE);
        errno(Errno.EINVAL, () -> f.k.encryptMprotect(f.t, a, PAGE + 1, PROT_NONE, k));
    }

    @Test
    void unknownSerialIsEnokey() throws Exception {
        long a = f.anon(PAGE, PROT_NONE);
        errno(Errno.ENOKEY, () -> f.k.encryptMprotect(f.t, a, PAGE, PROT_NONE, 12345));
    }

    @Test
    void nonMktmeKeyIsEnokey() throws Exception {
        int user = f.k.keys().addKey(f.t, "user", "u", "x".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
        long a = f.anon(PAGE, PROT_NONE);
        errno(Errno.ENOKEY, () -> f.k.encryptMprotect(f.t, a, PAGE, PROT_NONE, user));
    }

    @Test
    void invalidatedKeyIsEnokey() throws Exception {
        int k = f.cpuKey();
        f.k.keys().invalidate(f.t, k);
        long a = f.anon(PAGE, PROT_NONE);
        errno(Errno.ENOKEY, () -> f.k.encryptMprotect(f.t, a, PAGE, PROT_NONE, k));
    }

    @Test
    void noViewPermissionIsEacces() throws Exception {
        int k = f.cpuKey();
        f.k.keys().setPerm(f.t, k, KeyPerm.POS_ALL & ~KeyPerm.POS_VIEW);
        long a = f.anon(PAGE, PROT_NONE);
        errno(Errno.EACCES, () -> f.k.encryptMprotect(f.t, a, PAGE, PROT_NONE, k));
        assertEquals(0, f.k.keyIdAt(f.p, a));
    }

    @Test
    void rangeWithSharedVmaFailsAsAWhole() throws Exception {
        int k = f.cpuKey();
        long a = f.k.mmap(f.p, 0x40000000L, PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
        f.k.mmap(f.p, a + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED | MAP_FIXED, -1, 0);
        errno(Errno.EINVAL, () -> f.k.encryptMprotect(f.t, a, 2 * PAGE, PROT_READ, k));
        assertEquals(0, f.k.keyIdAt(f.p, a), "the anonymous part is unchanged");
        assertEquals(PROT_READ | PROT_WRITE, f.p.mm().find(a).prot());
        f.assertInvariants();
    }

    @Test
    void fileBackedRangeIsEinval() throws Exception {
        int k = f.cpuKey();
        int fd = f.k.open(f.p, "data", O_CREAT | O_RDWR);
        f.k.ftruncate(f.p, fd, PAGE);
        long a = f.k.mmap(f.p, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
        errno(Errno.EINVAL, () -> f.k.encryptMprotect(f.t, a, PAGE, PROT_READ, k));
        int mfd = f.k.memfdCreate(f.p, "m", 0);
        f.k.ftruncate(f.p, mfd, PAGE);
        long b = f.k.mmap(f.p, 0, PAGE, PROT_READ, MAP_SHARED, mfd, 0);
        errno(Errno.EINVAL, () -> f.k.encryptMprotect(f.t, b, PAGE, PROT_READ, k));
    }

    @Test
    void unmappedHoleIsEnomem() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(3 * PAGE, PROT_NONE);
        f.k.munmap(f.p, a + PAGE, PAGE);
        errno(Errno.ENOMEM, () -> f.k.encryptMprotect(f.t, a, 3 * PAGE, PROT_NONE, k));
        assertEquals(0, f.k.keyIdAt(f.p, a));
    }

    @Test
    void badProtIsEinval() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_NONE);
        errno(Errno.EINVAL, () -> f.k.encryptMprotect(f.t, a, PAGE, 0x100, k));
    }

    @Test
    void setsKeyIdAndTakesOneReferencePerVma() throws Exception {
        int k = f.cpuKey();
        int id = keyIdOf(k);
        MktmeKeyIds ids = f.k.keyIds();
        assertEquals(1, ids.refCount(id));
        long a = f.anon(4 * PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a + PAGE, PAGE, PROT_READ | PROT_WRITE, k); // splits into 3
        assertEquals(3, f.p.mm().vmaCount());
        assertEquals(id, f.k.keyIdAt(f.p, a + PAGE));
        assertEquals(0, f.k.keyIdAt(f.p, a));
        assertEquals(2, ids.refCount(id));
        f.k.encryptMprotect(f.t, a + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE, k); // joins its neighbour: merge
        assertEquals(3, f.p.mm().vmaCount());
        assertEquals(2, ids.refCount(id));
        f.k.munmap(f.p, a + 2 * PAGE, PAGE); // shrinks
        assertEquals(2, ids.refCount(id));
        errno(Errno.ENOMEM, () -> f.k.mprotect(f.p, a, 4 * PAGE, PROT_READ)); // a hole now
        f.k.mprotect(f.p, a, 2 * PAGE, PROT_READ); // keeps KeyIDs: the two VMAs do not merge
        assertEquals(id, f.k.keyIdAt(f.p, a + PAGE));
        assertEquals(0, f.k.keyIdAt(f.p, a));
        assertEquals(3, f.p.mm().vmaCount());
        f.k.munmap(f.p, a, 4 * PAGE);
        assertEquals(1, ids.refCount(id));
        f.assertInvariants();
    }

    @Test
    void plainMprotectKeepsKeyId() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        f.k.store(f.p, a, "kept".getBytes());
        f.k.mprotect(f.p, a, PAGE, PROT_READ);
        assertEquals(keyIdOf(k), f.k.keyIdAt(f.p, a));
        assertArrayEquals("kept".getBytes(), f.k.load(f.p, a, 4), "plain mprotect does not discard");
        assertTrue(f.k.smaps(f.p).contains("KeyID:          " + keyIdOf(k)));
    }

    @Test
    void existingPagesAreDiscardedAndOldLinesFlushed() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_READ | PROT_WRITE);
        f.k.store(f.p, a, "plaintext under KeyID 0".getBytes());
        long flushes = f.k.pageAllocator().flushes();
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        assertEquals(flushes + 1, f.k.pageAllocator().flushes(), "the old page was flushed under its KeyID");
        assertArrayEquals(new byte[23], f.k.load(f.p, a, 23), "new page zeroed through the new KeyID");
        assertEquals(keyIdOf(k), f.p.mm().pageAt(a).keyId());
        f.assertInvariants();
    }

    /**
     * The flush itself, not only its count: a whole page written under KeyID 0 (dirty in the
     * caches) changes to a cpu key's KeyID. Afterwards no line of the old frame is cached under
     * KeyID 0, so no stale write-back can land later on the frame; and after every cache of the
     * machine is written back, the page still reads as the zeros the new KeyID gave it, wherever
     * the allocator put it (the freed frame is the likeliest place).
     */
    @Test
    void aPageThatChangesKeyIdLeavesNoLineOfTheOldKeyIdCached() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_READ | PROT_WRITE);
        byte[] secret = new byte[(int) PAGE];
        java.util.Arrays.fill(secret, (byte) 0x5a);
        f.k.store(f.p, a, secret);
        long oldPa = f.p.mm().pageAt(a).pa();
        java.util.List<Long> dirtyOld = new java.util.ArrayList<>();
        f.m.caches().forEachLine((level, owner, line, state, gen) -> {
            if (f.m.keyIdOf(line << 6) == 0 && (f.m.paOf(line << 6) & ~(PAGE - 1L)) == oldPa && state == dev.memcrypt.hw.cache.Cache.M) dirtyOld.add(line);
        });
        assertTrue(!dirtyOld.isEmpty(), "the page's lines are dirty under KeyID 0 before the change");
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        java.util.List<String> stale = new java.util.ArrayList<>();
        f.m.caches().forEachLine((level, owner, line, state, gen) -> {
            if (f.m.keyIdOf(line << 6) == 0 && (f.m.paOf(line << 6) & ~(PAGE - 1L)) == oldPa) stale.add(level + owner + ":" + Long.toHexString(line));
        });
        assertEquals(java.util.List.of(), stale, "lines of the old frame still cached under KeyID 0");
        assertArrayEquals(new byte[(int) PAGE], f.k.load(f.p, a, (int) PAGE));
        f.m.wbinvdAll();
        assertArrayEquals(new byte[(int) PAGE], f.k.load(f.p, a, (int) PAGE), "the page after every cache was written back");
        assertEquals(keyIdOf(k), f.p.mm().pageAt(a).keyId());
        f.assertInvariants();
    }

    @Test
    void invalidateThenMunmapFreesKeyId() throws Exception {
        int k = f.cpuKey();
        int id = keyIdOf(k);
        long a = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, PAGE, PROT_READ | PROT_WRITE, k);
        f.k.keys().invalidate(f.t, k);
        assertEquals(MktmeKeyIds.State.REF_KILLED, f.k.keyIds().state(id), "the VMA still holds the KeyID");
        f.k.munmap(f.p, a, PAGE);
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.k.keyIds().state(id));
        f.assertInvariants();
    }

    @Test
    void keyUpdateIsEbusyWhileAVmaUsesTheKeyId() throws Exception {
        int k = f.cpuKey();
        long a = f.anon(PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, PAGE, PROT_NONE, k);
        errno(Errno.EBUSY, () -> f.k.keys().update(f.t, k, "type=clear".getBytes()));
        f.k.munmap(f.p, a, PAGE);
        f.k.keys().update(f.t, k, "type=clear".getBytes());
    }

    @Test
    void forkAndExitMoveReferences() throws Exception {
        int k = f.cpuKey();
        int id = keyIdOf(k);
        long a = f.anon(2 * PAGE, PROT_NONE);
        f.k.encryptMprotect(f.t, a, 2 * PAGE, PROT_READ | PROT_WRITE, k);
        f.k.store(f.p, a, "parent".getBytes());
        var child = f.k.fork(f.p);
        assertEquals(3, f.k.keyIds().refCount(id));
        assertArrayEquals("parent".getBytes(), f.k.load(child, a, 6));
        f.k.store(child, a, "child!".getBytes()); // COW copy under the same KeyID
        assertArrayEquals("parent".getBytes(), f.k.load(f.p, a, 6));
        assertArrayEquals("child!".getBytes(), f.k.load(child, a, 6));
        f.assertInvariants();
        f.k.exit(child, 0);
        assertEquals(2, f.k.keyIds().refCount(id));
        f.assertInvariants();
    }
}
