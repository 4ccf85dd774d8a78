package dev.memcrypt.kernel.keys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Generic key service semantics: permissions with possession, quotas, expiry, gc, keyrings. */
class KeyServiceTest {
    final KeysFixture f = new KeysFixture();
    final KeyService s = f.svc;
    static final int U = KeyService.KEY_SPEC_USER_KEYRING, S = KeyService.KEY_SPEC_SESSION_KEYRING;

    static byte[] b(String x) {
        return x.getBytes(StandardCharsets.UTF_8);
    }

    Errno err(Call c) {
        return assertThrows(ErrnoException.class, c::run).errno();
    }

    interface Call {
        void run() throws Exception;
    }

    @Test
    void serialsArePositiveAndUnique() throws ErrnoException {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 100; i++) {
            int id = s.addKey(f.root, "user", "k" + i, b("v"), U);
            assertTrue(id >= 3);
            assertTrue(seen.add(id));
        }
    }

    @Test
    void possessorBitsApplyOnlyWhilePossessed() throws ErrnoException {
        int id = s.addKey(f.alice, "user", "p", b("secret"), U);
        s.setPerm(f.alice, id, KeyPerm.POS_ALL); // possessor only
        assertArrayEquals(b("secret"), s.read(f.alice, id));
        // move it into a nested keyring: still possessed (found by searching from the session keyring)
        int other = s.addKey(f.alice, "keyring", "elsewhere", null, U);
        s.link(f.alice, id, other);
        s.unlink(f.alice, id, U);
        assertArrayEquals(b("secret"), s.read(f.alice, id));
        // make the nested keyring unsearchable: the key is no longer possessed, so no possessor bits
        s.setPerm(f.alice, other, KeyPerm.POS_VIEW | KeyPerm.POS_READ | KeyPerm.POS_WRITE | KeyPerm.POS_SETATTR | KeyPerm.USR_VIEW);
        assertEquals(Errno.EACCES, err(() -> s.read(f.alice, id)));
        // a key held in a non-possessed place: another task cannot use possessor bits
        int id2 = s.addKey(f.alice, "user", "q", b("x"), U);
        s.setPerm(f.alice, id2, KeyPerm.POS_ALL | KeyPerm.OTH_VIEW);
        Task bob = Task.spawn(Cred.parse("uid=2000"));
        assertTrue(s.describe(bob, id2).startsWith("user;1000;1000;"));
        assertEquals(Errno.EACCES, err(() -> s.read(bob, id2)));
    }

    @Test
    void userGroupOtherSelection() throws ErrnoException {
        int id = s.addKey(f.alice, "user", "g", b("x"), U);
        s.setPerm(f.alice, id, KeyPerm.USR_VIEW | KeyPerm.GRP_VIEW | KeyPerm.GRP_READ | KeyPerm.OTH_ALL);
        Task groupMember = Task.spawn(Cred.parse("uid=3000 gid=1000"));
        Task supplementary = Task.spawn(Cred.parse("uid=3001 gid=5 groups=1000"));
        Task other = Task.spawn(Cred.parse("uid=3002"));
        assertArrayEquals(b("x"), s.read(groupMember, id));
        assertArrayEquals(b("x"), s.read(supplementary, id));
        assertEquals(Errno.EACCES, err(() -> s.update(groupMember, id, b("y"))), "group lacks write even though other has it");
        s.update(other, id, b("y"));
        assertEquals(Errno.EACCES, err(() -> s.read(f.alice, id)), "owner: user bits only (no read), not possessed? it is possessed");
    }

    @Test
    void quotaBytesAndKeysAreEnforcedAndReturned() throws ErrnoException {
        int big = s.addKey(f.alice, "user", "big", new byte[19_000], U);
        assertEquals(Errno.EDQUOT, err(() -> s.addKey(f.alice, "user", "more", new byte[2000], U)));
        assertEquals(Errno.EDQUOT, err(() -> s.update(f.alice, big, new byte[20_001])));
        s.invalidate(f.alice, big);
        s.addKey(f.alice, "user", "more", new byte[2000], U);
        assertTrue(s.procKeyUsers().contains(" 1000: "));
        assertTrue(s.procKeyUsers().contains("/200 "));
        assertTrue(s.procKeyUsers().contains("/20000"));
    }

    @Test
    void revokeDropsUserPayloadAndItsQuota() throws ErrnoException {
        int id = s.addKey(f.alice, "user", "r", new byte[100], U);
        long before = s.quotaUsage(1000)[1];
        s.revoke(f.alice, id);
        assertEquals(before - 100, s.quotaUsage(1000)[1]);
        assertTrue(s.procKeys(f.alice).contains("user      r: 0"), s.procKeys(f.alice));
        assertTrue(s.procKeys(f.alice).contains(" IR-Q--- "));
    }

    @Test
    void rootHasLargerLimits() throws ErrnoException {
        s.addKey(f.root, "user", "big", new byte[30_000], U);
        assertTrue(s.procKeyUsers().contains("/1000000 "));
        assertTrue(s.procKeyUsers().contains("/25000000"));
    }

    @Test
    void expiryAndGcDelay() throws ErrnoException {
        int id = s.addKey(f.alice, "user", "e", b("x"), U);
        s.setTimeout(f.alice, id, 60);
        assertTrue(s.procKeys(f.alice).contains(" 1m 3f010000 "));
        f.clock.advance(Duration.ofSeconds(60));
        assertEquals(Errno.EKEYEXPIRED, err(() -> s.read(f.alice, id)));
        assertTrue(s.procKeys(f.alice).contains(" expd "));
        s.gc();
        assertEquals(1, s.readKeyring(f.alice, U).size(), "still linked during gc_delay");
        f.clock.advance(Duration.ofSeconds(300));
        s.gc();
        assertEquals(List.of(), s.readKeyring(f.alice, U));
        assertEquals(Errno.ENOKEY, err(() -> s.describe(f.alice, id)));
    }

    @Test
    void expiredKeysAreReapedByTheNextCallAfterTheGracePeriod() throws ErrnoException {
        int id = s.addKey(f.alice, "user", "e", b("x"), U);
        s.setTimeout(f.alice, id, 10);
        f.clock.advance(Duration.ofSeconds(10 + 300));
        assertEquals(List.of(), s.readKeyring(f.alice, U), "no explicit gc() needed");
    }

    @Test
    void timeoutZeroClearsExpiry() throws ErrnoException {
        int id = s.addKey(f.alice, "user", "e", b("x"), U);
        s.setTimeout(f.alice, id, 5);
        s.setTimeout(f.alice, id, 0);
        f.clock.advance(Duration.ofDays(30));
        assertArrayEquals(b("x"), s.read(f.alice, id));
    }

    @Test
    void gcCallsDestroyExactlyOncePerKey() throws ErrnoException {
        AtomicInteger destroyed = new AtomicInteger();
        s.registerType(new UserKeyType() {
            @Override
            public String name() {
                return "counted";
            }

            @Override
            public void destroy(Key key) {
                destroyed.incrementAndGet();
                super.destroy(key);
            }
        });
        int a = s.addKey(f.alice, "counted", "a", b("1"), U);
        int ring = s.addKey(f.alice, "keyring", "r", null, U);
        s.addKey(f.alice, "counted", "b", b("2"), ring);
        s.link(f.alice, a, ring);
        s.unlink(f.alice, a, U);
        assertEquals(0, destroyed.get(), "still linked from r");
        s.unlink(f.alice, ring, U); // r dies, taking a and b with it
        assertEquals(2, destroyed.get());
        s.gc();
        assertEquals(2, destroyed.get());
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "counted", "c", new byte[0], U)));
        assertEquals(2, destroyed.get(), "a failed preparse never allocates a key");
    }

    @Test
    void threadProcessSessionKeyrings() throws ErrnoException {
        Process p = Process.spawn(Cred.parse("uid=1000"));
        Task t1 = p.mainThread();
        Task t2 = p.newThread(Cred.parse("uid=1000"));
        assertEquals(Errno.ENOKEY, err(() -> s.getKeyringId(t1, KeyService.KEY_SPEC_THREAD_KEYRING, false)));
        int tk1 = s.getKeyringId(t1, KeyService.KEY_SPEC_THREAD_KEYRING, true);
        int tk2 = s.getKeyringId(t2, KeyService.KEY_SPEC_THREAD_KEYRING, true);
        assertFalse(tk1 == tk2, "thread keyrings are per thread");
        assertEquals(s.getKeyringId(t1, KeyService.KEY_SPEC_PROCESS_KEYRING, true), s.getKeyringId(t2, KeyService.KEY_SPEC_PROCESS_KEYRING, true));
        assertEquals(s.getKeyringId(t1, S, false), s.getKeyringId(t1, KeyService.KEY_SPEC_USER_SESSION_KEYRING, false),
                "no session keyring yet: the user-session keyring is installed");
        int k = s.addKey(t1, "user", "tk", b("x"), KeyService.KEY_SPEC_THREAD_KEYRING);
        assertEquals(k, s.requestKey(t1, "user", "tk", 0));
        assertEquals(Errno.ENOKEY, err(() -> s.requestKey(t2, "user", "tk", 0)), "another thread does not see @t");
        assertTrue(s.describe(t1, tk1).endsWith(";_tid"));
        s.exitThread(t1);
        assertEquals(Errno.ENOKEY, err(() -> s.describe(t2, k)), "thread keyring and its key died with the thread");
    }

    @Test
    void addToGroupKeyringIsEinvalAndBadIdsAreRejected() {
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "user", "x", b("1"), KeyService.KEY_SPEC_GROUP_KEYRING)));
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "user", "x", b("1"), -100)));
        assertEquals(Errno.ENOKEY, err(() -> s.addKey(f.alice, "user", "x", b("1"), 12345)));
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "logon", "nocolon", b("1"), U)));
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "logon", ":empty", b("1"), U)));
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "user", "", b("1"), U)));
        assertEquals(Errno.EINVAL, err(() -> s.addKey(f.alice, "keyring", "r", b("payload"), U)));
        assertEquals(Errno.EPERM, err(() -> s.addKey(f.alice, ".internal", "x", b("1"), U)));
    }

    @Test
    void searchDoesNotDescendIntoUnsearchableKeyrings() throws ErrnoException {
        int r = s.addKey(f.alice, "keyring", "r", null, U);
        s.addKey(f.alice, "user", "hidden", b("x"), r);
        s.setPerm(f.alice, r, KeyPerm.POS_VIEW | KeyPerm.POS_READ | KeyPerm.POS_WRITE | KeyPerm.POS_SETATTR | KeyPerm.USR_VIEW);
        assertEquals(Errno.ENOKEY, err(() -> s.search(f.alice, U, "user", "hidden", 0)));
        assertEquals(Errno.EACCES, err(() -> s.search(f.alice, r, "user", "hidden", 0)));
    }

    @Test
    void keyringLinkReplacesSameDescription() throws ErrnoException {
        int r = s.addKey(f.alice, "keyring", "r", null, U);
        int r2 = s.addKey(f.alice, "keyring", "r", null, U);
        assertFalse(r == r2);
        assertEquals(List.of(r2), s.readKeyring(f.alice, U));
        assertEquals(Errno.ENOKEY, err(() -> s.describe(f.alice, r)), "the displaced keyring was collected");
    }

    @Test
    void messagesNeverCarryPayload() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> s.addKey(f.alice, "logon", "nocolon", b("TOPSECRET"), U));
        assertFalse(e.getMessage().contains("TOPSECRET"));
    }
}
