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
    static final Path SEED_003 = Path.of("/work/shared/seeds/003_043aba226faec6e4.txt");

    /** Whitespace collapsed, mail quote markers removed, typographic apostrophes made plain. */
    static String norm(String s) {
        return s.replaceAll("(?m)^[> ]*>", " ").replace('\u2019', '\'').replaceAll("\\s+", " ");
    }

    @Test
    void everyQuoteIsInTheSeed() throws IOException {
        assumeTrue(Files.exists(SEED) && Files.exists(SEED_003), "seeds 001 and 003 not present");
        String seed001 = norm(Files.readString(SEED));
        String seed003 = norm(Files.readString(SEED_003));
        for (Experiment e : Lab.all()) {
            for (Claim c : e.claims()) {
                assertTrue(c.source().startsWith("seed 001 #") || c.source().equals("seed 003"), c.source());
                String seed = c.source().equals("seed 003") ? seed003 : seed001;
                for (String part : c.quote().split(" \\.\\.\\. ")) {
                    String p = norm(part);
                    assertTrue(seed.contains(p), c.id() + ": not verbatim in " + c.source() + ": " + p);
                }
            }
        }
    }
}
