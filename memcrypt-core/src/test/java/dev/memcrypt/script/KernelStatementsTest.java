package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** keyctl, as and clock advance in scripts (the kernel statements provider, found through ServiceLoader). */
class KernelStatementsTest {
    static ScriptHarness.Run run(String script) {
        return ScriptHarness.run(Interpreter.standard(), "k.mc", script, false);
    }

    @Test
    void providerIsRegistered() {
        StatementRegistry r = StatementRegistry.standard();
        assertTrue(r.get("keyctl") != null && r.get("as") != null && r.get("clock advance") != null);
    }

    @Test
    void asSyntaxErrors() {
        ScriptHarness.Run r = run("num 1\nas\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("k.mc:2: syntax error: as: missing credentials"), r.err());
        r = run("as uid=abc\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("as: bad uid: abc"), r.err());
        r = run("as gid=5\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("credentials need uid=N"), r.err());
        r = run("as uid=5 caps=CAP_NOPE\n");
        assertEquals(2, r.exit());
    }

    static final String USER_KEY = "k = keyctl add mktme k1 \"type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100\" @u\n";

    @Test
    void hotplugThroughTheKernelWithoutSavekeysIsEperm() {
        ScriptHarness.Run r = run(USER_KEY + "cpu offline 3\ncpu offline 2\ncpu online 2 => EPERM\ncheck\n");
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void hotplugThroughTheKernelWithSavekeysReprograms() {
        ScriptHarness.Run r = run("boot mktme_savekeys\n" + USER_KEY + "cpu offline 3\ncpu offline 2\ncpu online 2\nkeytable show package=1\ncheck\n");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("keyid 1 KEY"), r.out());
    }

    @Test
    void bootTwiceIsABadArgument() {
        ScriptHarness.Run r = run("keyctl show @u\nboot mktme_savekeys\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("boot: bad argument: the kernel is already booted"), r.err());
    }

    @Test
    void keyctlNeedsACommand() {
        ScriptHarness.Run r = run("keyctl\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("keyctl: missing COMMAND"), r.err());
    }

    @Test
    void keyctlOutcomes() {
        ScriptHarness.Run r = run("""
                k = keyctl add user u1 hello @u
                keyctl print $k => "hello"
                keyctl read 999999 => ENOKEY
                keyctl frobnicate => EXIT_2
                keyctl add user a=b a=b @u
                keyctl timeout $k 10
                clock advance 11
                keyctl print $k => EKEYEXPIRED
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void keyctlProcessAndThreadKeyrings() {
        ScriptHarness.Run r = run("""
                p = keyctl add user pk pv @p
                t = keyctl add user tk tv @t
                keyctl print $p => "pv"
                keyctl print $t => "tv"
                keyctl print %user:pk => "pv"
                keyctl rdescribe @p => "keyring;0;0;3f010000;_pid"
                keyctl rdescribe @t => "keyring;0;0;3f010000;_tid"
                keyctl rlist @p
                keyctl show @p
                keyctl list @t
                keyctl unlink $t @t
                keyctl list @t => "keyring is empty"
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("keyring: _pid"), r.out());
        assertTrue(r.out().contains("\\_ user: pk"), r.out());
        assertTrue(r.out().contains("1 key in keyring:"), r.out());
        assertTrue(r.out().contains(" user: tk"), r.out());
    }

    /** /proc/keys and /proc/key-users through the script: an mktme key shows with its KeyID, and another user sees only its own keys. */
    @Test
    void catProcKeysAndKeyUsers() {
        ScriptHarness.Run r = run("cat /proc/stat\n");
        assertEquals(2, r.exit(), r.out() + r.err()); // a syntax error, found before anything runs
        assertTrue(r.err().contains("only /proc/keys and /proc/key-users"), r.err());
        ScriptHarness.Run ok = run("""
                k = keyctl add mktme demo "type=cpu algorithm=aes-xts-128" @u
                cat /proc/keys
                cat /proc/key-users
                as uid=1000 gid=1000
                u = keyctl add user mine secret @u
                cat /proc/keys
                """);
        assertEquals(0, ok.exit(), ok.out() + ok.err());
        String out = ok.out();
        assertTrue(out.matches("(?s).*[0-9a-f]{8} I--Q---\\s+\\d+ perm [0-9a-f]{8}     0     0 mktme     demo: .*"), out);
        assertTrue(out.matches("(?s).*\\n?\\s+0:\\s+\\d+ \\d+/\\d+ \\d+/1000000 .*"), out);
        int uidView = out.lastIndexOf("cat /proc/keys");
        String aliceView = out.substring(uidView);
        assertTrue(aliceView.contains(" user      mine: 6"), aliceView);
        assertTrue(!aliceView.contains(" demo: "), "uid 1000 sees root's key: " + aliceView);
    }

    @Test
    void keyctlStandardInput() {
        ScriptHarness.Run r = run("""
                k = keyctl padd user piped @u < "from stdin"
                keyctl print $k => "from stdin"
                keyctl pupdate $k < 6e6577
                keyctl print $k => "new"
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
        r = run("keyctl padd user x @u < a b\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("'<' must be followed by exactly one DATA word"), r.err());
    }

    @Test
    void unassertedKeyctlFailureIsExit1WithErrno() {
        ScriptHarness.Run r = run("keyctl read 999999\n");
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("k.mc:1: FAIL: keyctl read 999999: unexpected ENOKEY: keyctl_read_alloc: Required key not available"), r.err());
    }

    @Test
    void credentialsSwitchAndComeBack() {
        ScriptHarness.Run r = run("""
                as uid=1000
                k = keyctl add user mine data @u
                as uid=2000
                keyctl print $k => EACCES
                as uid=1000
                keyctl print $k => "data"
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void userKeyPayloadsAreNeverEchoed() {
        // keyctl add / update / padd and add_key: the payload of a non-mktme key is its secret
        ScriptHarness.Run r = run("""
                keyctl add user k1 5ec7e7a11ce0000000000001 @u
                keyctl update %user:k1 5ec7e7a11ce0000000000002
                keyctl padd user k2 @u < 5ec7e7a11ce0000000000003
                add_key user k3 5ec7e7a11ce0000000000004 @u
                keyctl add user k4 5ec7e7a11ce0000000000005 @nope => EXIT_2
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("keyctl add user k1 *** @u"), r.out());
        assertTrue(r.out().contains("keyctl update %user:k1 ***"), r.out());
        assertTrue(r.out().contains("keyctl padd user k2 @u < ***"), r.out());
        assertTrue(r.out().contains("add_key user k3 *** @u"), r.out());
        assertTrue(!(r.out() + r.err()).contains("5ec7e7a11ce"), r.out() + r.err());
        // the mktme payload stays readable but for its key material
        r = run(USER_KEY);
        assertTrue(r.out().contains("\"type=user algorithm=aes-xts-128 key=*** tweak=***\""), r.out());
    }

    @Test
    void paddDataReachesTheKeyAndStaysUsable() {
        ScriptHarness.Run r = run("keyctl padd user k @u < \"hello\"\nkeyctl print %user:k => \"hello\"\n");
        assertEquals(0, r.exit(), r.out() + r.err());
    }
}
