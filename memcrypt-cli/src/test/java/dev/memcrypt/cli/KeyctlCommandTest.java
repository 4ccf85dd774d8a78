package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyctlCommandTest {
    record Out(int rc, String out, String err) {}

    static Out run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int rc = Main.commandLine().execute(args);
            return new Out(rc, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void addMktmeKeyAsRootPrintsSerial() {
        Out r = run("keyctl", "add", "mktme", "k1", "type=cpu algorithm=aes-xts-128", "@u");
        assertEquals(0, r.rc(), r.err());
        assertTrue(Integer.parseInt(r.out().strip()) > 0);
    }

    @Test
    void unprivilegedUserGetsEacces() {
        Out r = run("keyctl", "--as", "uid=1000", "add", "mktme", "k1", "type=cpu algorithm=aes-xts-128", "@u");
        assertEquals(1, r.rc());
        assertEquals("add_key: Permission denied\n", r.err());
    }

    @Test
    void keyctlOptionsPassThrough() {
        Out r = run("keyctl", "show", "-x");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("Session Keyring\n0x"), r.out());
    }

    @Test
    void severalCommandsShareOneMachine() {
        Out r = run("keyctl", "add", "mktme", "k1", "type=cpu algorithm=aes-xts-128", "@u", ";", "list", "@u");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("1 key in keyring:"), r.out());
        assertTrue(r.out().contains("mktme: k1"), r.out());
        Out f = run("keyctl", "describe", "4242", ";", "show");
        assertEquals(1, f.rc());
        assertEquals("keyctl_describe_alloc: Required key not available\n", f.err());
    }

    @Test
    void usageExitsTwo() {
        Out r = run("keyctl");
        assertEquals(2, r.rc());
        assertTrue(r.err().startsWith("Format:"));
    }

    @Test
    void errorsNeverEchoTheKeyAndBadCredentialsNameTheOption() {
        String key = "5ec7e7a11ce05ec7e7a11ce05ec7e7a1";
        Out r = run("keyctl", "add", "mktme", "k", "type=user algorithm=aes-xts-128 key=" + key, "@u");
        assertEquals(1, r.rc());
        assertEquals("add_key: Invalid argument\n", r.err());
        r = run("keyctl", "add", "user", "k", key, "@bogus");
        assertEquals(2, r.rc());
        assertEquals("Unknown special key: '@bogus'\n", r.err());
        r = run("keyctl", "--as", "uid=abc", "show");
        assertEquals(2, r.rc());
        assertEquals("memcrypt: keyctl: --as: bad uid: abc\n", r.err());
        r = run("keyctl", "--help");
        assertTrue(r.out().lines().allMatch(l -> l.length() <= 80), r.out());
    }
}
