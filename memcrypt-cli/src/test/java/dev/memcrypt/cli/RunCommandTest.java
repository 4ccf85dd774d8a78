package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code memcrypt run}: golden files for the text log and the JSON records of an example script
 * (regenerate with {@code -Dgolden.update=true} after an intended change), exit statuses, stdin.
 */
class RunCommandTest {
    static Cli.Run memcrypt(String... args) {
        return Cli.run(args);
    }

    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("examples"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("no examples/ above the working directory");
        return p;
    }

    static void golden(String name, String actual) throws IOException {
        Path g = root().resolve("memcrypt-cli/src/test/resources/golden").resolve(name);
        if (Boolean.getBoolean("golden.update") || !Files.exists(g)) {
            Files.createDirectories(g.getParent());
            Files.writeString(g, actual);
            if (!Boolean.getBoolean("golden.update")) throw new AssertionError("golden file " + g + " was missing; written, check it in");
        }
        assertEquals(Files.readString(g), actual, "differs from " + g);
    }

    @Test
    void goldenTextLog() throws IOException {
        Cli.Run r = memcrypt("run", root().resolve("examples/pconfig-basics.mc").toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        golden("pconfig-basics.txt", r.out());
    }

    @Test
    void goldenJson() throws IOException {
        Cli.Run r = memcrypt("run", "--json", root().resolve("examples/pconfig-basics.mc").toString());
        assertEquals(0, r.exit(), r.err());
        ObjectMapper m = new ObjectMapper();
        for (String line : r.out().split("\n")) {
            JsonNode n = m.readTree(line);
            assertTrue(n.has("line") || n.has("check") || n.has("exit"), line);
        }
        golden("pconfig-basics.jsonl", r.out());
    }

    @Test
    void quietSuccessPrintsNothing() {
        Cli.Run r = memcrypt("run", "--quiet", root().resolve("examples/pconfig-basics.mc").toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void failureExit1NamesLineAndStatement(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("f.mc");
        Files.writeString(f, "num 1\nnum 2 => 3\nnum 4\n");
        Cli.Run r = memcrypt("run", f.toString());
        assertEquals(1, r.exit());
        assertEquals("[line 1] num 1 -> 1\n[line 2] num 2 => 3 -> 2\n", r.out());
        assertEquals(f + ":2: FAIL: num 2 => 3: expected 3, got 2\n", r.err());
    }

    @Test
    void syntaxErrorExit2(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("s.mc");
        Files.writeString(f, "num 1\nfrob 2\n");
        Cli.Run r = memcrypt("run", f.toString());
        assertEquals(2, r.exit());
        assertEquals("", r.out());
        assertEquals(f + ":2: syntax error: unknown statement 'frob'\n", r.err());
        r = memcrypt("run", "--json", f.toString());
        assertEquals(2, r.exit());
        assertEquals("{\"line\":2,\"error\":\"syntax\",\"message\":\"unknown statement 'frob'\",\"ok\":false}\n"
                + "{\"exit\":2,\"statements\":0,\"failure\":\"line 2: unknown statement 'frob'\"}\n", r.out());
    }

    @Test
    void jsonFailureRecord(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("j.mc");
        Files.writeString(f, "x = bytes 00ff\nbytes 00ff => 00fe\n");
        Cli.Run r = memcrypt("run", "--json", "--no-final-check", f.toString());
        assertEquals(1, r.exit());
        assertEquals("""
                {"line":1,"statement":"x = bytes 00ff","bind":"x","kind":"bytes","result":"00ff","ok":true}
                {"line":2,"statement":"bytes 00ff => 00fe","kind":"bytes","result":"00ff","expected":"00fe","ok":false,"failure":"expected 00fe, got 00ff (first difference at byte 1: expected fe, got ff)"}
                {"exit":1,"statements":2,"failure":"expected 00fe, got 00ff (first difference at byte 1: expected fe, got ff)"}
                """, r.out());
    }

    @Test
    void stdinDash() {
        RunCommand.stdin = new ByteArrayInputStream("print hello\n".getBytes(StandardCharsets.UTF_8));
        try {
            Cli.Run r = memcrypt("run", "-");
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().startsWith("[line 1] print hello -> \"hello\"\n"), r.out());
        } finally {
            RunCommand.stdin = System.in;
        }
    }

    @Test
    void listStatements() {
        Cli.Run r = memcrypt("run", "--list-statements");
        assertEquals(0, r.exit());
        for (String name : new String[] {"cpuid", "rdmsr", "wrmsr", "pconfig", "pstore", "pload", "clflush", "wbinvd", "dram", "cpu offline", "cpu online"}) {
            assertTrue(r.out().contains("\n" + name + " ") || r.out().startsWith(name + " "), name);
        }
    }

    @Test
    void missingFileArgumentExit2() {
        Cli.Run r = memcrypt("run");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("missing FILE"), r.err());
    }

    @Test
    void unreadableFileExit2() {
        Cli.Run r = memcrypt("run", "/nonexistent/x.mc");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("memcrypt run: cannot read /nonexistent/x.mc"), r.err());
    }
}
