package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input at every entry point: exit 2 for usage/syntax, one line naming the problem, no stack
 * trace, nothing printed before the error, and never the key bytes that were passed.
 */
class BadInputTest {
    static final String KEY_HEX = "5ec7e7a11ce05ec7e7a11ce05ec7e7a1";

    /** memcrypt run - with {@code text} on standard input (RunCommand reads its own stdin field). */
    static Cli.Run runStdin(String text, String... args) {
        java.io.InputStream old = RunCommand.stdin;
        RunCommand.stdin = new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
        try {
            return Cli.run(args);
        } finally {
            RunCommand.stdin = old;
        }
    }

    static void oneLineUsageError(Cli.Run r, String expected) {
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals("", r.out(), "nothing printed before the error");
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void runMissingFileSaysNoSuchFile() {
        oneLineUsageError(Cli.run("run", "no-such-script.mc"), "cannot read no-such-script.mc: No such file or directory");
    }

    @Test
    void runDirectorySaysIsADirectory(@TempDir Path dir) {
        oneLineUsageError(Cli.run("run", dir.toString()), ": Is a directory");
    }

    @Test
    void runBinaryFileSaysNotUtf8WithOffsetAndLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bin.mc");
        Files.write(f, new byte[] {'n', 'u', 'm', ' ', '1', '\n', (byte) 0xff, (byte) 0xfe, 0, 1});
        oneLineUsageError(Cli.run("run", f.toString()), "not UTF-8 text (invalid byte at offset 6, line 2)");
    }

    @Test
    void runStdinIsDecodedStrictlyToo() {
        assertEquals(0, runStdin("num 1\n", "run", "-").exit());
        java.io.InputStream old = RunCommand.stdin;
        RunCommand.stdin = new java.io.ByteArrayInputStream(new byte[] {(byte) 0xc3});
        try {
            oneLineUsageError(Cli.run("run", "-"), "cannot read <stdin>: not UTF-8 text (invalid byte at offset 0, line 1)");
        } finally {
            RunCommand.stdin = old;
        }
    }

    @Test
    void runHugeLineGivesAShortMessage(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("big.mc");
        Files.writeString(f, "x = " + "a".repeat(1_000_000) + "\n", StandardCharsets.UTF_8);
        Cli.Run r = Cli.run("run", f.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown statement 'aaaa") && r.err().contains("...(1000002 characters)"), r.err());
        assertTrue(r.err().length() < 500, "message length " + r.err().length());
    }

    @Test
    void demoSizeOptionsNeedSme() {
        oneLineUsageError(Cli.run("demo", "--kernel-size", "4M"), "demo: --kernel-size goes with --sme only");
    }

    @Test
    void demoBadSmeSizesFailBeforeAnyOutput() {
        oneLineUsageError(Cli.run("demo", "--sme", "--kernel-size", "0"), "kernel-size=0 out of range");
        oneLineUsageError(Cli.run("demo", "--sme", "--kernel-size", "16G"), "too small for a kernel");
    }

    @Test
    void labImageDirThatIsAFileIsBadUsage(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("file"), "x");
        oneLineUsageError(Cli.run("lab", "-q", "--image-dir", f.toString(), "cold-boot"), "--image-dir " + f + ": Not a directory");
    }

    @Test
    void klWithoutInstructionIsBadUsage() {
        oneLineUsageError(Cli.run("kl"), "kl: name an instruction");
    }

    @Test
    void scriptUserKeyPayloadNeverReachesTheLog() {
        for (String json : new String[] {"--json", "--no-final-check"}) {
            Cli.Run r = runStdin("keyctl add user k " + KEY_HEX + " @u\nkeyctl padd user k2 @u < " + KEY_HEX
                    + "\nkeyctl add user k3 " + KEY_HEX + " @nope => ENOKEY\n", "run", json, "-");
            assertEquals(1, r.exit(), r.out() + r.err());
            assertFalse((r.out() + r.err()).contains(KEY_HEX), r.out() + r.err());
        }
    }
}
