package dev.memcrypt.tools.keyctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.kernel.keys.KeysFixture;
import dev.memcrypt.kernel.keys.KeysFixture.Run;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Every keyctl command's success and failure paths, with keyutils' output and messages. */
class KeyctlTest {
    final KeysFixture f = new KeysFixture();

    private void fails(Run r, int exit, String err) {
        assertEquals(exit, r.exit(), r.err());
        assertEquals(err + "\n", r.err());
    }

    @Test
    void addPrintsSerialAndFailsWithPerror() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        assertTrue(Integer.parseInt(id) > 2);
        fails(f.keyctl(f.alice, "add", "user", "foo", "", "@u"), 1, "add_key: Invalid argument");
        fails(f.keyctl(f.alice, "add", "nosuch", "foo", "x", "@u"), 1, "add_key: No such device");
        fails(f.keyctl(f.alice, "add", "keyring", ".x", "", "@u"), 1, "add_key: Operation not permitted");
        fails(f.keyctl(f.alice, "add", "user", "foo", "x", "@g"), 1, "add_key: Invalid argument");
        Run usage = f.keyctl(f.alice, "add", "user", "foo");
        assertEquals(2, usage.exit());
        assertTrue(usage.err().startsWith("Format:\n  keyctl add <type> <desc> <data> <keyring>\n"));
    }

    @Test
    void addSameDescriptionUpdatesInPlace() {
        String a = f.ok(f.alice, "add", "user", "foo", "one", "@u");
        String b = f.ok(f.alice, "add", "user", "foo", "two", "@u");
        assertEquals(a, b);
        assertEquals("two", f.ok(f.alice, "print", a));
    }

    @Test
    void paddReadsStdin() {
        Run r = f.keyctlIn(f.alice, "from-stdin".getBytes(StandardCharsets.UTF_8), "padd", "user", "p", "@u");
        assertEquals(0, r.exit());
        assertEquals("from-stdin", f.ok(f.alice, "print", r.out().strip()));
        fails(f.keyctlIn(f.alice, "x".getBytes(StandardCharsets.UTF_8), "padd", "logon", "noprefix", "@u"), 1, "add_key: Invalid argument");
    }

    @Test
    void updateAndPupdate() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        f.ok(f.alice, "update", id, "baz");
        assertEquals("baz", f.ok(f.alice, "print", id));
        assertEquals(0, f.keyctlIn(f.alice, "qux".getBytes(StandardCharsets.UTF_8), "pupdate", id).exit());
        assertEquals("qux", f.ok(f.alice, "print", id));
        fails(f.keyctlIn(f.alice, "x".getBytes(StandardCharsets.UTF_8), "pupdate", "@u"), 1, "keyctl_update: Operation not supported");
        fails(f.keyctlIn(f.alice, new byte[0], "pupdate", id), 1, "keyctl_update: Invalid argument");
        fails(f.keyctl(f.alice, "update", "@u", "x"), 1, "keyctl_update: Operation not supported");
        String rootKey = f.ok(f.root, "add", "user", "r", "secret", "@u");
        fails(f.keyctl(f.alice, "update", rootKey, "x"), 1, "keyctl_update: Permission denied");
        fails(f.keyctl(f.alice, "update", "999", "x"), 1, "keyctl_update: Required key not available");
    }

    @Test
    void newring() {
        String r = f.ok(f.alice, "newring", "ring", "@s");
        assertTrue(f.ok(f.alice, "describe", r).endsWith("keyring: ring"));
        fails(f.keyctl(f.alice, "newring", ".dot", "@s"), 1, "add_key: Operation not permitted");
    }

    @Test
    void revoke() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        f.ok(f.alice, "revoke", id);
        fails(f.keyctl(f.alice, "read", id), 1, "keyctl_read_alloc: Key has been revoked");
        fails(f.keyctl(f.alice, "revoke", id), 1, "keyctl_revoke: Key has been revoked");
        fails(f.keyctl(f.alice, "describe", id), 1, "keyctl_describe_alloc: Key has been revoked");
    }

    @Test
    void invalidate() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        f.ok(f.alice, "invalidate", id);
        fails(f.keyctl(f.alice, "describe", id), 1, "keyctl_describe_alloc: Required key not available");
        assertEquals("keyring is empty", f.ok(f.alice, "list", "@u"));
        fails(f.keyctl(f.alice, "invalidate", id), 1, "keyctl_invalidate: Required key not available");
    }

    @Test
    void clear() {
        f.ok(f.alice, "add", "user", "a", "1", "@u");
        f.ok(f.alice, "add", "user", "b", "2", "@u");
        f.ok(f.alice, "clear", "@u");
        assertEquals("keyring is empty", f.ok(f.alice, "list", "@u"));
        String id = f.ok(f.alice, "add", "user", "c", "3", "@u");
        fails(f.keyctl(f.alice, "clear", id), 1, "keyctl_clear: Not a directory");
    }

    @Test
    void linkAndCycles() {
        String r1 = f.ok(f.alice, "newring", "r1", "@u");
        String r2 = f.ok(f.alice, "newring", "r2", r1);
        String k = f.ok(f.alice, "add", "user", "k", "v", r2);
        f.ok(f.alice, "link", k, r1);
        assertEquals(r2 + " " + k, f.ok(f.alice, "rlist", r1));
        fails(f.keyctl(f.alice, "link", r1, r2), 1, "keyctl_link: Resource deadlock avoided");
        fails(f.keyctl(f.alice, "link", r1, r1), 1, "keyctl_link: Resource deadlock avoided");
        fails(f.keyctl(f.alice, "link", r1, k), 1, "keyctl_link: Not a directory");
    }

    /** A chain r0 -> r1 -> ... -> r(n-1) built bottom-up while every ring sits in @u (so all are possessed). */
    private String[] chain(String prefix, int n, boolean detachFromUserKeyring) {
        String[] r = new String[n];
        for (int i = 0; i < n; i++) r[i] = f.ok(f.alice, "newring", prefix + i, "@u");
        for (int i = n - 1; i > 0; i--) f.ok(f.alice, "link", r[i], r[i - 1]);
        if (detachFromUserKeyring) for (int i = 1; i < n; i++) f.ok(f.alice, "unlink", r[i], "@u");
        return r;
    }

    @Test
    void linkNestingDepthLimitIsEloop() {
        // keyring_detect_cycle: a keyring met 6 levels below the keyring being linked is too deep
        String[] seven = chain("s", 7, false);
        String holder = f.ok(f.alice, "newring", "holder", "@s");
        f.ok(f.alice, "link", seven[0], holder);
        String[] eight = chain("e", 8, false);
        fails(f.keyctl(f.alice, "link", eight[0], holder), 1, "keyctl_link: Too many levels of symbolic links");
    }

    @Test
    void searchDescendsSixLevels() {
        String[] r = chain("n", 8, false);
        f.ok(f.alice, "add", "user", "at5", "x", r[5]);
        f.ok(f.alice, "add", "user", "at6", "x", r[6]);
        for (int i = 1; i < 8; i++) f.ok(f.alice, "unlink", r[i], "@u");
        // from r0: r1..r6 are 1..6 levels down; leaves of r6 are still searched, r7's would not be
        assertEquals(0, f.keyctl(f.alice, "search", r[0], "user", "at6").exit());
        // from @u, r0 is one level down, so r6 is 7 levels down: not searched
        assertEquals(0, f.keyctl(f.alice, "search", "@u", "user", "at5").exit());
        fails(f.keyctl(f.alice, "search", "@u", "user", "at6"), 1, "keyctl_search: Required key not available");
    }

    @Test
    void unlink() {
        String k = f.ok(f.alice, "add", "user", "k", "v", "@u");
        String r = f.ok(f.alice, "newring", "r", "@u");
        f.ok(f.alice, "link", k, r);
        f.ok(f.alice, "unlink", k, r);
        fails(f.keyctl(f.alice, "unlink", k, r), 1, "keyctl_unlink: No such file or directory");
        f.ok(f.alice, "link", k, r);
        assertEquals("2 links removed", f.ok(f.alice, "unlink", k));
        fails(f.keyctl(f.alice, "describe", k), 1, "keyctl_describe_alloc: Required key not available");
    }

    @Test
    void search() {
        String r = f.ok(f.alice, "newring", "r", "@u");
        String k = f.ok(f.alice, "add", "user", "deep", "v", r);
        assertEquals(k, f.ok(f.alice, "search", "@s", "user", "deep"));
        String dest = f.ok(f.alice, "newring", "dest", "@u");
        assertEquals(k, f.ok(f.alice, "search", "@u", "user", "deep", dest));
        assertEquals(k, f.ok(f.alice, "rlist", dest));
        fails(f.keyctl(f.alice, "search", "@s", "user", "nope"), 1, "keyctl_search: Required key not available");
        fails(f.keyctl(f.alice, "search", "@s", "nosuchtype", "x"), 1, "keyctl_search: Required key not available");
        f.ok(f.alice, "revoke", k);
        fails(f.keyctl(f.alice, "search", "@s", "user", "deep"), 1, "keyctl_search: Key has been revoked");
    }

    @Test
    void request() {
        String k = f.ok(f.alice, "add", "user", "req", "v", "@u");
        assertEquals(k, f.ok(f.alice, "request", "user", "req"));
        String r = f.ok(f.alice, "newring", "r", "@s");
        assertEquals(k, f.ok(f.alice, "request", "user", "req", r));
        assertEquals(k, f.ok(f.alice, "rlist", r));
        fails(f.keyctl(f.alice, "request", "user", "missing"), 1, "request_key: Required key not available");
    }

    @Test
    void readHexDump() {
        String id = f.ok(f.alice, "add", "user", "foo", "0123456789abcdefghijklmnopqrstuvwxyz", "@u");
        assertEquals("36 bytes of data in key:\n"
                + "30313233 34353637 38396162 63646566 6768696a 6b6c6d6e 6f707172 73747576\n"
                + "7778797a\n", f.keyctl(f.alice, "read", id).out());
        String logon = f.ok(f.alice, "add", "logon", "svc:name", "pw", "@u");
        fails(f.keyctl(f.alice, "read", logon), 1, "keyctl_read_alloc: Operation not supported");
        fails(f.keyctl(f.alice, "read", "12345"), 1, "keyctl_read_alloc: Required key not available");
    }

    @Test
    void pipeAndPrint() {
        String id = f.ok(f.alice, "add", "user", "foo", "raw\tdata", "@u");
        assertEquals("raw\tdata", f.keyctl(f.alice, "pipe", id).out());
        assertEquals(":hex:7261770964617461\n", f.keyctl(f.alice, "print", id).out());
        f.ok(f.alice, "update", id, "plain");
        assertEquals("plain\n", f.keyctl(f.alice, "print", id).out());
        f.ok(f.alice, "revoke", id);
        fails(f.keyctl(f.alice, "pipe", id), 1, "keyctl_read_alloc: Key has been revoked");
        fails(f.keyctl(f.alice, "print", id), 1, "keyctl_read_alloc: Key has been revoked");
    }

    @Test
    void listAndRlist() {
        assertEquals("keyring is empty\n", f.keyctl(f.alice, "list", "@u").out());
        assertEquals("\n", f.keyctl(f.alice, "rlist", "@u").out());
        String a = f.ok(f.alice, "add", "user", "a", "1", "@u");
        assertEquals("1 key in keyring:\n" + String.format("%9s: --alswrv  1000  1000 user: a%n", a), f.keyctl(f.alice, "list", "@u").out());
        String b = f.ok(f.alice, "add", "user", "b", "2", "@u");
        assertTrue(f.keyctl(f.alice, "list", "@u").out().startsWith("2 keys in keyring:\n"));
        assertEquals(a + " " + b + "\n", f.keyctl(f.alice, "rlist", "@u").out());
        fails(f.keyctl(f.alice, "list", "4242"), 1, "keyctl_read_alloc: Required key not available");
        fails(f.keyctl(f.alice, "rlist", "4242"), 1, "keyctl_read_alloc: Required key not available");
    }

    @Test
    void describeAndRdescribe() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        assertEquals(String.format("%9s: alswrv-----v------------  1000  1000 user: foo%n", id), f.keyctl(f.alice, "describe", id).out());
        assertEquals("user;1000;1000;3f010000;foo\n", f.keyctl(f.alice, "rdescribe", id).out());
        assertEquals("user:1000:1000:3f010000:foo\n", f.keyctl(f.alice, "rdescribe", id, ":").out());
        String rootKey = f.ok(f.root, "add", "user", "r", "secret", "@u");
        fails(f.keyctl(f.alice, "describe", rootKey), 1, "keyctl_describe_alloc: Permission denied");
        fails(f.keyctl(f.alice, "rdescribe", rootKey), 1, "keyctl_describe: Permission denied");
    }

    @Test
    void show() {
        String r = f.ok(f.alice, "newring", "r", "@s");
        String k = f.ok(f.alice, "add", "user", "k", "v", r);
        String out = f.keyctl(f.alice, "show").out();
        String[] lines = out.split("\n");
        assertEquals("Session Keyring", lines[0]);
        assertTrue(lines[1].endsWith("--alswrv   1000  1000  keyring: _uid_ses.1000"), lines[1]);
        assertTrue(out.contains(String.format("%10s --alswrv   1000  1000       \\_ user: k", k)), out);
        String hex = f.keyctl(f.alice, "show", "-x", r).out();
        assertTrue(hex.startsWith("Keyring\n" + String.format("0x%08x", Integer.parseInt(r))), hex);
        Run bad = f.keyctl(f.alice, "show", "@t");
        assertEquals(1, bad.exit());
        assertEquals("Keyring\n", bad.out());
        assertEquals("Unable to dump key: Required key not available\n", bad.err());
    }

    @Test
    void processKeyringAtP() {
        String k = f.ok(f.alice, "add", "user", "pk", "pv", "@p");
        String ring = f.ok(f.alice, "rdescribe", "@p");
        assertEquals("keyring;1000;1000;3f010000;_pid", ring, "created on first use: possessor all, user view");
        assertEquals("pv", f.ok(f.alice, "print", k));
        assertEquals("pv", f.ok(f.alice, "print", "%user:pk"), "found through the process keyring");
        assertEquals("1 key in keyring:\n" + String.format("%9d: --alswrv  1000  1000 user: pk", Integer.parseInt(k)),
                f.ok(f.alice, "list", "@p"));
        assertEquals(k, f.ok(f.alice, "rlist", "@p"));
        String[] show = f.keyctl(f.alice, "show", "@p").out().split("\n");
        assertEquals(3, show.length, String.join("\n", show));
        assertEquals("Keyring", show[0]);
        assertTrue(show[1].endsWith(" --alswrv   1000  1000  keyring: _pid"), show[1]);
        assertEquals(String.format("%10s --alswrv   1000  1000   \\_ user: pk", k), show[2]);
        // every thread of the process shares @p; another process has none
        dev.memcrypt.kernel.task.Task sibling = f.alice.process().newThread(f.alice.cred());
        assertEquals(f.ok(f.alice, "rlist", "@p"), f.ok(sibling, "rlist", "@p"));
        assertEquals(show[1], f.keyctl(sibling, "show", "@p").out().split("\n")[1]);
        dev.memcrypt.kernel.task.Task other = dev.memcrypt.kernel.task.Task.spawn(f.alice.cred());
        Run none = f.keyctl(other, "show", "@p");
        assertEquals(1, none.exit());
        assertEquals("Unable to dump key: Required key not available\n", none.err());
        // link and unlink through @p
        String u = f.ok(f.alice, "add", "user", "uk", "uv", "@u");
        f.ok(f.alice, "link", u, "@p");
        assertEquals(k + " " + u, f.ok(f.alice, "rlist", "@p"));
        f.ok(f.alice, "unlink", u, "@p");
        assertEquals(k, f.ok(f.alice, "rlist", "@p"));
    }

    @Test
    void threadKeyringAtT() {
        String k = f.ok(f.alice, "add", "user", "tk", "tv", "@t");
        String ring = f.ok(f.alice, "rdescribe", "@t");
        assertEquals("keyring;1000;1000;3f010000;_tid", ring, "created on first use: possessor all, user view");
        assertEquals("tv", f.ok(f.alice, "print", k));
        assertEquals("1 key in keyring:\n" + String.format("%9d: --alswrv  1000  1000 user: tk", Integer.parseInt(k)),
                f.ok(f.alice, "list", "@t"));
        String sub = f.ok(f.alice, "newring", "sub", "@t");
        String inner = f.ok(f.alice, "add", "user", "deep", "d", sub);
        String[] show = f.keyctl(f.alice, "show", "@t").out().split("\n");
        assertEquals(5, show.length, String.join("\n", show));
        assertEquals("Keyring", show[0]);
        assertTrue(show[1].endsWith(" --alswrv   1000  1000  keyring: _tid"), show[1]);
        assertEquals(String.format("%10s --alswrv   1000  1000   \\_ user: tk", k), show[2]);
        assertEquals(String.format("%10s --alswrv   1000  1000   \\_ keyring: sub", sub), show[3]);
        assertEquals(String.format("%10s --alswrv   1000  1000       \\_ user: deep", inner), show[4]);
        assertEquals(k + " " + sub, f.ok(f.alice, "rlist", "@t"));
        // @t is per thread: a second thread of the same process has its own (none yet)
        dev.memcrypt.kernel.task.Task sibling = f.alice.process().newThread(f.alice.cred());
        Run none = f.keyctl(sibling, "show", "@t");
        assertEquals(1, none.exit());
        assertEquals("Unable to dump key: Required key not available\n", none.err());
        String k2 = f.ok(sibling, "add", "user", "tk", "other", "@t");
        assertNotEquals(k, k2);
        assertNotEquals(f.ok(f.alice, "rdescribe", "@t"), "", "the first thread keeps its own @t");
        assertEquals(k2, f.ok(sibling, "rlist", "@t"));
        assertEquals("tv", f.ok(f.alice, "print", k));
        assertEquals("other", f.ok(sibling, "print", k2));
        // the other thread's @t key is not possessed here, and its user bits grant view only
        fails(f.keyctl(sibling, "print", k), 1, "keyctl_read_alloc: Permission denied");
        assertTrue(f.ok(sibling, "describe", k).endsWith("user: tk"), "viewable through the user bits");
        // by name, each thread finds its own: keyutils asks request_key (the caller's keyrings) before /proc/keys
        assertEquals("other", f.ok(sibling, "print", "%user:tk"));
        assertEquals("tv", f.ok(f.alice, "print", "%user:tk"));
        // a key none of the caller's keyrings hold is still found through /proc/keys (viewable), then refused
        f.ok(sibling, "unlink", k2, "@t");
        fails(f.keyctl(sibling, "print", "%user:tk"), 1, "keyctl_read_alloc: Permission denied");
    }

    @Test
    void setperm() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        f.ok(f.alice, "setperm", id, "0x3f3f0000");
        assertTrue(f.ok(f.alice, "rdescribe", id).contains(";3f3f0000;"));
        fails(f.keyctl(f.alice, "setperm", id, "zz"), 2, "Unparsable permissions: 'zz'");
        fails(f.keyctl(f.alice, "setperm", id, "0x40000000"), 1, "keyctl_setperm: Invalid argument");
        // root has no bypass: without possession or an "other" setattr bit it is refused too
        fails(f.keyctl(f.root, "setperm", id, "0x3f3f3f3f"), 1, "keyctl_setperm: Permission denied");
        String rootKey = f.ok(f.root, "add", "user", "r", "x", "@u");
        f.ok(f.root, "setperm", rootKey, "0x3f3f3f3f");
        fails(f.keyctl(f.alice, "setperm", rootKey, "0"), 1, "keyctl_setperm: Permission denied");
        f.ok(f.alice, "setperm", id, "0");
        fails(f.keyctl(f.alice, "setperm", id, "0x3f000000"), 1, "keyctl_setperm: Permission denied");
    }

    @Test
    void chownAndChgrp() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        fails(f.keyctl(f.alice, "chown", id, "0"), 1, "keyctl_chown: Permission denied");
        fails(f.keyctl(f.alice, "chown", id, "x"), 2, "Unparsable uid: 'x'");
        fails(f.keyctl(f.alice, "chgrp", id, "5"), 1, "keyctl_chown: Permission denied");
        f.ok(f.alice, "setperm", id, "0x3f3f0029"); // other: view, search, setattr
        f.ok(f.root, "chown", id, "2000");
        assertTrue(f.ok(f.root, "rdescribe", id).startsWith("user;2000;1000;"));
        assertEquals(1, f.svc.quotaUsage(2000)[0]);
    }

    @Test
    void timeoutExpiresKeys() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        f.ok(f.alice, "timeout", id, "10");
        assertTrue(f.svc.procKeys(f.alice).contains(" 10s 3f010000 "));
        f.clock.advance(Duration.ofSeconds(10));
        fails(f.keyctl(f.alice, "read", id), 1, "keyctl_read_alloc: Key has expired");
        fails(f.keyctl(f.alice, "timeout", id, "5"), 1, "keyctl_set_timeout: Key has expired");
        fails(f.keyctl(f.alice, "timeout", id, "1x"), 2, "Unparsable timeout: '1x'");
    }

    @Test
    void sessionJoinsNewKeyring() {
        String before = f.ok(f.alice, "rdescribe", "@s");
        Run r = f.keyctl(f.alice, "session");
        assertEquals(0, r.exit());
        assertTrue(r.err().startsWith("Joined session keyring: "));
        String after = f.ok(f.alice, "rdescribe", "@s");
        assertNotEquals(before, after);
        assertTrue(after.endsWith(";_ses"));
        Run named = f.keyctl(f.alice, "session", "work");
        assertEquals(0, named.exit());
        assertTrue(f.ok(f.alice, "rdescribe", "@s").endsWith(";work"));
        fails(f.keyctl(f.alice, "session", ".hidden"), 1, "keyctl_join_session_keyring: Operation not permitted");
    }

    @Test
    void commandAndKeyParsing() {
        fails(f.keyctl(f.alice, "frobnicate"), 2, "Unknown command");
        fails(f.keyctl(f.alice, "re", "1"), 2, "Ambiguous command");
        fails(f.keyctl(f.alice, "describe", "@x"), 2, "Unknown special key: '@x'");
        fails(f.keyctl(f.alice, "describe", "abc"), 2, "Unparsable key: 'abc'");
        fails(f.keyctl(f.alice, "describe", "%user:none"), 1, "Can't find 'user:none'");
        fails(f.keyctl(f.alice, "describe", "%"), 2, "Incorrect key-by-name spec");
        String id = f.ok(f.alice, "add", "user", "named", "v", "@u");
        assertEquals("v", f.ok(f.alice, "print", "%user:named"));
        assertTrue(f.ok(f.alice, "desc", id).contains("user: named")); // unique prefix
        assertEquals(2, f.keyctl(f.alice).exit());
        assertEquals(0, f.keyctl(f.alice, "keyctl", "rlist", "@u").exit());
    }

    @Test
    void procKeysAndKeyUsersFormats() {
        String id = f.ok(f.alice, "add", "user", "foo", "bar", "@u");
        String line = String.format("%08x I--Q---     1 perm 3f010000  1000  1000 user      foo: 3", Integer.parseInt(id));
        assertTrue(f.svc.procKeys(f.alice).contains(line + System.lineSeparator()), f.svc.procKeys(f.alice));
        // _uid_ses.1000 (14 bytes) + _uid.1000 (10) + foo (4 + 3 payload)
        assertTrue(f.svc.procKeyUsers().contains(" 1000:     3 3/3 3/200 31/20000"), f.svc.procKeyUsers());
        assertFalse(f.svc.procKeys(f.root).contains(" foo: "), "root does not see alice's key without view permission");
    }

    @Test
    void quotaExceededIsEdquot() {
        for (int i = 0; i < 200 - 2; i++) f.ok(f.alice, "add", "user", "k" + i, "v", "@u"); // 2 user keyrings count too
        fails(f.keyctl(f.alice, "add", "user", "one-too-many", "v", "@u"), 1, "add_key: Disk quota exceeded");
        assertEquals(0, f.keyctl(f.root, "add", "user", "root-has-room", "v", "@u").exit());
    }

    @Test
    void mktmeThroughKeyctl() {
        fails(f.keyctl(f.alice, "add", "mktme", "m", "type=cpu algorithm=aes-xts-128", "@u"), 1, "add_key: Permission denied");
        String id = f.ok(f.root, "add", "mktme", "m", "type=cpu algorithm=aes-xts-128", "@u");
        fails(f.keyctl(f.root, "read", id), 1, "keyctl_read_alloc: Operation not supported");
        fails(f.keyctl(f.root, "add", "mktme", "bad", "type=cpu", "@u"), 1, "add_key: Invalid argument");
        f.ok(f.root, "update", id, "type=clear");
        int keyId = f.mktme.keyIds().keyIdOf(f.svc.liveKeys().stream().filter(k -> k.serial() == Integer.parseInt(id)).findFirst().orElseThrow());
        f.mktme.keyIds().get(keyId); // a VMA reference
        fails(f.keyctl(f.root, "update", id, "type=no-encrypt"), 1, "keyctl_update: Device or resource busy");
        f.mktme.keyIds().put(keyId);
        for (int i = 0; i < 6; i++) f.ok(f.root, "add", "mktme", "fill" + i, "type=no-encrypt", "@u");
        fails(f.keyctl(f.root, "add", "mktme", "one-more", "type=cpu algorithm=aes-xts-128", "@u"), 1, "add_key: Required key not available");
        f.ok(f.root, "invalidate", id);
        assertTrue(f.keyctl(f.root, "add", "mktme", "one-more", "type=cpu algorithm=aes-xts-128", "@u").exit() == 0, "KeyID free again");
        f.ok(f.root, "clear", "@u");
        assertEquals(7, f.mktme.keyIds().available());
    }
}
