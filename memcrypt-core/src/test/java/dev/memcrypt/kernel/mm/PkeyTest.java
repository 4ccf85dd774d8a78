package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.task.Process;
import org.junit.jupiter.api.Test;

/** pkey_alloc(2) / pkey_mprotect(2) with PKRU enforced, as Linux does on a CPU with PKU. */
class PkeyTest {
    static final long PAGE = 4096;
    MmFixture f = new MmFixture();

    @Test
    void newProcessesStartWithLinuxInitPkru() throws Exception {
        assertEquals(0x55555554, f.p.mm().pkru());
        assertEquals(0x55555554, f.k.rdpkru(f.p, 0));
    }

    @Test
    void pkeyAllocSetsTheKeysRightsAndChecksItsArguments() throws Exception {
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.pkeyAlloc(f.p, 1, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> f.k.pkeyAlloc(f.p, 0, 4)).errno());
        int a = f.k.pkeyAlloc(f.p, 0, AddressSpace.PKEY_DISABLE_WRITE);
        assertEquals(2, (f.p.mm().pkru() >>> (2 * a)) & 3, "WD only");
        int b = f.k.pkeyAlloc(f.p, 0, 0);
        assertEquals(0, (f.p.mm().pkru() >>> (2 * b)) & 3, "open");
        for (int i = 3; i < 16; i++) f.k.pkeyAlloc(f.p, 0, 0);
        assertEquals(Errno.ENOSPC, assertThrows(ErrnoException.class, () -> f.k.pkeyAlloc(f.p, 0, 0)).errno());
    }

    @Test
    void deniedAccessIsSigsegvPkuerrAndLeavesDataAlone() throws Exception {
        long a = f.anon(PAGE, PROT_READ | PROT_WRITE);
        f.k.store(f.p, a, new byte[] {42});
        int key = f.k.pkeyAlloc(f.p, 0, AddressSpace.PKEY_DISABLE_ACCESS);
        f.k.pkeyMprotect(f.p, a, PAGE, PROT_READ | PROT_WRITE, key);
        SegvException r = assertThrows(SegvException.class, () -> f.k.load(f.p, a, 1));
        assertTrue(r.getMessage().contains("SEGV_PKUERR"), r.getMessage());
        assertThrows(SegvException.class, () -> f.k.store(f.p, a, new byte[] {7}));
        f.k.wrpkru(f.p, f.p.mm().pkru() & ~(3 << (2 * key)), 0, 0);
        assertEquals(42, f.k.load(f.p, a, 1)[0]);
        f.assertInvariants();
    }

    @Test
    void forkInheritsPkruAndEachProcessRunsWithItsOwn() throws Exception {
        long a = f.anon(PAGE, PROT_READ | PROT_WRITE);
        int key = f.k.pkeyAlloc(f.p, 0, 0);
        f.k.pkeyMprotect(f.p, a, PAGE, PROT_READ | PROT_WRITE, key);
        f.k.store(f.p, a, new byte[] {1});
        Process child = f.k.fork(f.p);
        assertEquals(f.p.mm().pkru(), child.mm().pkru());
        f.k.wrpkru(child, child.mm().pkru() | 1 << (2 * key), 0, 0); // the child closes the key
        assertThrows(SegvException.class, () -> f.k.load(child, a, 1));
        assertEquals(1, f.k.load(f.p, a, 1)[0], "the parent's PKRU is restored when it runs");
    }

    @Test
    void wrpkruFromUserModeChecksEcxEdx() throws Exception {
        assertThrows(dev.memcrypt.hw.cpu.GeneralProtectionFault.class, () -> f.k.wrpkru(f.p, 0, 1, 0));
        assertEquals(0x55555554, f.p.mm().pkru(), "a faulting WRPKRU changes nothing");
    }
}
