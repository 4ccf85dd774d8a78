package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Capability;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyPerm;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue 5, "each process has credentials and keyrings": processes that are not root, fork passing
 * the credentials and the session keyring (copy_creds: no thread or process keyring for the
 * child), encrypt_mprotect's KEY_NEED_VIEW check through the key service's real permission
 * checks (owner, possessor, other), and exit releasing the keyrings (references, quota, keys and
 * with them their KeyIDs).
 */
class ProcessCredentialsTest {
    static final byte[] CPU = "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8);

    /** An unprivileged user that may add mktme keys (CAP_SYS_RESOURCE, as the key type demands). */
    static Cred keyUser(int uid) {
        return new Cred(uid, uid, Set.of(), EnumSet.of(Capability.CAP_SYS_RESOURCE));
    }

    static int keyIdOf(MmFixture f, int serial) {
        Key k = f.k.keys().acquire(serial);
        assertNotNull(k, "key " + serial + " is live");
        try {
            return MktmeKeyType.keyIdOf(k);
        } finally {
            f.k.keys().release(k);
        }
    }

    /** Whether the key is still live (a reference taken and dropped again). */
    static boolean live(MmFixture f, int serial) {
        Key k = f.k.keys().acquire(serial);
        if (k == null) return false;
        f.k.keys().release(k);
        return true;
    }

    static int perm(MmFixture f, int serial) {
        Key k = f.k.keys().acquire(serial);
        try {
            return k.perm();
        } finally {
            f.k.keys().release(k);
        }
    }

    static Errno errno(ThrowingCall c) {
        return assertThrows(ErrnoException.class, c::run).errno();
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void forkPassesCredentialsAndSessionKeyringButNotThreadOrProcessKeyrings() throws Exception {
        MmFixture f = new MmFixture();
        KeyService ks = f.k.keys();
        Cred cred = new Cred(1000, 100, Set.of(20, 30), EnumSet.of(Capability.CAP_SYS_RESOURCE));
        Process u = f.k.spawn(cred);
        Task ut = u.mainThread();
        int session = ks.joinSessionKeyring(ut, "work");
        ks.getKeyringId(ut, KeyService.KEY_SPEC_THREAD_KEYRING, true);
        ks.getKeyringId(ut, KeyService.KEY_SPEC_PROCESS_KEYRING, true);
        int key = ks.addKey(ut, "mktme", "sess", CPU, KeyService.KEY_SPEC_SESSION_KEYRING);
        ks.setPerm(ut, key, KeyPerm.POS_ALL); // possessors only: the owner uid alone is not enough
        int sessionUsage = u.sessionKeyring().usage();

        Process c = f.k.fork(u);
        Task ct = c.mainThread();
        assertEquals(cred, ct.cred(), "the child runs with the parent's credentials");
        assertEquals(u, c.parent());
        assertSame(u.sessionKeyring(), c.sessionKeyring(), "the session keyring is shared");
        assertEquals(sessionUsage + 1, u.sessionKeyring().usage(), "the child holds its own reference");
        assertEquals(session, ks.getKeyringId(ct, KeyService.KEY_SPEC_SESSION_KEYRING, false));
        assertNull(c.processKeyring(), "the process keyring is not inherited across fork");
        assertNull(ct.threadKeyring(), "nor is the thread keyring");
        assertNotNull(u.processKeyring());
        assertNotNull(ut.threadKeyring());

        // the child possesses the key through the inherited session keyring
        long a = f.k.mmap(c, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        f.k.encryptMprotect(ct, a, PAGE, PROT_READ | PROT_WRITE, key);
        assertEquals(keyIdOf(f, key), f.k.keyIdAt(c, a));
        assertNotEquals(0, f.k.keyIdAt(c, a));
        // another login of the same user has its own session: not a possessor, no user permission
        Process other = f.k.spawn(cred);
        long b = f.k.mmap(other, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        assertEquals(Errno.EACCES, errno(() -> f.k.encryptMprotect(other.mainThread(), b, PAGE, PROT_READ, key)));
        assertEquals(0, f.k.keyIdAt(other, b));
        f.assertInvariants();

        f.k.exit(c, 0);
        assertEquals(sessionUsage, u.sessionKeyring().usage(), "exit dropped the child's session reference only");
        assertTrue(live(f, key), "the parent's session keyring still holds the key");
        f.assertInvariants();
    }

    @Test
    void nonRootProcessGetsEaccesOnAnotherUsersKey() throws Exception {
        MmFixture f = new MmFixture();
        int rootKey = f.cpuKey(); // owned by uid 0: possessor all, user view, nothing for others
        int id = keyIdOf(f, rootKey);
        int refs = f.k.keyIds().refCount(id);
        Process u = f.k.spawn(Cred.user(1000));
        Task ut = u.mainThread();
        long a = f.k.mmap(u, 0, 2 * PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);

        assertEquals(Errno.EACCES, errno(() -> f.k.encryptMprotect(ut, a, PAGE, PROT_READ | PROT_WRITE, rootKey)), "no view permission");
        assertEquals(0, f.k.keyIdAt(u, a), "a failed call leaves the KeyID alone");
        assertEquals(refs, f.k.keyIds().refCount(id));
        int fd = f.k.memfdCreate(u, "m", 0);
        assertEquals(Errno.EACCES, errno(() -> f.k.memfdSetKey(ut, fd, rootKey)), "the memfd proposal checks the same permission");
        assertEquals(Errno.ENOKEY, errno(() -> f.k.encryptMprotect(ut, a, PAGE, PROT_READ, 0x7ffffff0)), "a serial that does not exist stays ENOKEY");
        assertEquals(Errno.EACCES, errno(() -> f.k.keys().addKey(ut, "mktme", "mine", CPU, KeyService.KEY_SPEC_USER_KEYRING)),
                "without CAP_SYS_RESOURCE a user cannot make its own mktme key");
        assertEquals(Errno.EACCES, errno(() -> f.k.keys().setPerm(ut, rootKey, KeyPerm.OTH_ALL)), "nor open up root's key");

        // another root process: the owner uid has view (KEY_USR_VIEW) without possessing the key
        Process r = f.k.spawn(Cred.root());
        long rb = f.k.mmap(r, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        f.k.encryptMprotect(r.mainThread(), rb, PAGE, PROT_READ, rootKey);
        assertEquals(id, f.k.keyIdAt(r, rb));

        // the owner grants view to others: the same call now succeeds, and only for the asked range
        f.k.keys().setPerm(f.t, rootKey, perm(f, rootKey) | KeyPerm.OTH_VIEW);
        f.k.encryptMprotect(ut, a, PAGE, PROT_READ | PROT_WRITE, rootKey);
        assertEquals(id, f.k.keyIdAt(u, a));
        assertEquals(0, f.k.keyIdAt(u, a + PAGE));
        f.k.store(u, a, "user data".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals("user data".getBytes(StandardCharsets.UTF_8), f.k.load(u, a, 9));
        f.assertInvariants();
    }

    @Test
    void groupViewPermissionIsHonoured() throws Exception {
        MmFixture f = new MmFixture();
        Process owner = f.k.spawn(keyUser(1000));
        int key = f.k.keys().addKey(owner.mainThread(), "mktme", "team", CPU, KeyService.KEY_SPEC_USER_KEYRING);
        Process member = f.k.spawn(new Cred(2000, 2000, Set.of(1000), Set.of()));
        Process stranger = f.k.spawn(Cred.user(3000));
        long a = f.k.mmap(member, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        long b = f.k.mmap(stranger, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        assertEquals(Errno.EACCES, errno(() -> f.k.encryptMprotect(member.mainThread(), a, PAGE, PROT_READ, key)));
        f.k.keys().setPerm(owner.mainThread(), key, perm(f, key) | KeyPerm.GRP_VIEW);
        f.k.encryptMprotect(member.mainThread(), a, PAGE, PROT_READ, key); // in the key's group (gid 1000)
        assertEquals(keyIdOf(f, key), f.k.keyIdAt(member, a));
        assertEquals(Errno.EACCES, errno(() -> f.k.encryptMprotect(stranger.mainThread(), b, PAGE, PROT_READ, key)));
        f.assertInvariants();
    }

    @Test
    void exitReleasesTheProcesssKeyringsKeysAndQuota() throws Exception {
        MmFixture f = new MmFixture();
        KeyService ks = f.k.keys();
        Process u = f.k.spawn(keyUser(1000));
        Task ut = u.mainThread();
        ks.getKeyringId(ut, KeyService.KEY_SPEC_USER_KEYRING, true); // the per-uid keyrings outlive processes
        long[] base = ks.quotaUsage(1000);

        int thread = ks.getKeyringId(ut, KeyService.KEY_SPEC_THREAD_KEYRING, true);
        int proc = ks.getKeyringId(ut, KeyService.KEY_SPEC_PROCESS_KEYRING, true);
        int session = ks.joinSessionKeyring(ut, null);
        int key = ks.addKey(ut, "mktme", "proc", CPU, KeyService.KEY_SPEC_PROCESS_KEYRING);
        int id = keyIdOf(f, key);
        long a = f.k.mmap(u, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        f.k.encryptMprotect(ut, a, PAGE, PROT_READ | PROT_WRITE, key);
        f.k.store(u, a, new byte[] {1, 2, 3});
        assertEquals(2, f.k.keyIds().refCount(id), "one VMA + the live key");
        long[] used = ks.quotaUsage(1000);
        assertEquals(base[0] + 4, used[0], "three keyrings and a key charged to uid 1000");
        assertTrue(used[1] > base[1]);
        f.assertInvariants();

        f.k.exit(u, 0);
        assertTrue(u.exited());
        assertNull(u.processKeyring());
        assertNull(u.sessionKeyring());
        assertNull(ut.threadKeyring());
        for (int s : new int[] {thread, proc, session, key}) {
            assertFalse(live(f, s), "key " + s + " was destroyed");
            assertTrue(ks.liveKeys().stream().noneMatch(k -> k.serial() == s));
        }
        assertArrayEquals(base, ks.quotaUsage(1000), "the quota came back");
        assertEquals(0, f.k.keyIds().refCount(id), "VMA and key references both dropped");
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.k.keyIds().state(id), "the KeyID is free again");
        assertNull(f.k.process(u.pid()));
        f.assertInvariants();
    }

    @Test
    void childExitKeepsTheSharedSessionAndParentExitReleasesIt() throws Exception {
        MmFixture f = new MmFixture();
        KeyService ks = f.k.keys();
        Process u = f.k.spawn(keyUser(1000));
        ks.getKeyringId(u.mainThread(), KeyService.KEY_SPEC_USER_KEYRING, true);
        long[] base = ks.quotaUsage(1000);
        int session = ks.joinSessionKeyring(u.mainThread(), null);
        int key = ks.addKey(u.mainThread(), "mktme", "s", CPU, KeyService.KEY_SPEC_SESSION_KEYRING);
        int id = keyIdOf(f, key);
        Process c = f.k.fork(u);
        Process g = f.k.fork(c);
        assertSame(u.sessionKeyring(), g.sessionKeyring(), "a grandchild shares it too");
        assertEquals(g.mainThread().cred(), u.mainThread().cred());
        int usage = u.sessionKeyring().usage();
        f.k.exit(c, 0);
        f.k.exit(u, 0);
        assertEquals(usage - 2, g.sessionKeyring().usage());
        assertTrue(live(f, key), "still reachable from the grandchild's session");
        assertEquals(MktmeKeyIds.State.ASSIGNED, f.k.keyIds().state(id));
        f.k.exit(g, 0);
        assertFalse(live(f, session));
        assertFalse(live(f, key));
        assertArrayEquals(base, ks.quotaUsage(1000));
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.k.keyIds().state(id));
        f.assertInvariants();
    }
}
