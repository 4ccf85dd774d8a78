package dev.memcrypt.lab;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The claims are quoted verbatim from seed 001 (checked when the seed is on this machine). */
class ClaimsTest {
    static final Path SEED = Path.of("/work/shared/seeds/001_6052fdfb88bab12e.txt");

    /** Whitespace collapsed, mail quote markers removed, typographic apostrophes made plain. */
    static String norm(String s) {
        return s.replaceAll("(?m)^[> ]*>", " ").replace('\u2019', '\'').replaceAll("\\s+", " ");
    }

    @Test
    void everyQuoteIsInTheSeed() throws IOException {
        assumeTrue(Files.exists(SEED), "seed 001 not present");
        String seed = norm(Files.readString(SEED));
        for (Experiment e : Lab.all()) {
            for (Claim c : e.claims()) {
                for (String part : c.quote().split(" \\.\\.\\. ")) {
                    String p = norm(part);
                    assertTrue(seed.contains(p), c.id() + ": not verbatim in seed 001: " + p);
                }
                assertTrue(c.source().startsWith("seed 001 #"), c.source());
            }
        }
    }
}
