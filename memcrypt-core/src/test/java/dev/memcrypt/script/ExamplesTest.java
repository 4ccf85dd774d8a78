package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every {@code examples/*.mc} with the standard statements and expects exit 0. The
 * end-of-script checks (the machine invariant checker) run after each one, so every example that
 * follows the flush rules is checked; an example that deliberately breaks them says so with
 * {@code invariants expect-violation} and the checker must then find the violation.
 */
class ExamplesTest {
    /** The repository root: the nearest directory upwards with an {@code examples} folder and a pom.xml. */
    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isDirectory(p.resolve("examples")) && Files.exists(p.resolve("pom.xml"))) return p;
            p = p.getParent();
        }
        throw new IllegalStateException("no examples/ directory above " + Path.of("").toAbsolutePath());
    }

    static List<Path> examples() throws IOException {
        try (Stream<Path> s = Files.list(repoRoot().resolve("examples"))) {
            return s.filter(f -> f.getFileName().toString().endsWith(".mc")).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyExampleRunsClean() throws IOException {
        List<Path> all = examples();
        assertFalse(all.isEmpty(), "no examples found");
        return all.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
            String text = Files.readString(f);
            ScriptHarness.Run r = ScriptHarness.run(Interpreter.standard(), f.getFileName().toString(), text, true);
            assertEquals(0, r.exit(), () -> f + " failed:\n" + r.err());
            assertTrue(r.err().isEmpty(), r.err());
        }));
    }
}
