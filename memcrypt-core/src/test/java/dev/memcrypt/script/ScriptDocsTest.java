package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/SCRIPTS.md documents every registered statement and lists every example. */
class ScriptDocsTest {
    @Test
    void everyStatementIsDocumented() throws IOException {
        String doc = Files.readString(ExamplesTest.repoRoot().resolve("docs/SCRIPTS.md"));
        for (Statement s : StatementRegistry.standard().all()) {
            assertTrue(doc.contains("`" + s.name() + " ") || doc.contains("`" + s.name() + "`") || doc.contains("/ `" + s.name()),
                    () -> "docs/SCRIPTS.md does not document statement '" + s.name() + "' (usage: " + s.usage() + ")");
        }
    }

    @Test
    void everyExampleIsListed() throws IOException {
        String doc = Files.readString(ExamplesTest.repoRoot().resolve("docs/SCRIPTS.md"));
        for (Path p : ExamplesTest.examples()) {
            assertTrue(doc.contains("`" + p.getFileName() + "`"), () -> "docs/SCRIPTS.md does not list " + p.getFileName());
        }
    }
}
