package dev.memcrypt.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every experiment reaches the verdicts the seed thread reached. */
class LabTest {
    static List<String> names() {
        return Lab.names();
    }

    @ParameterizedTest
    @MethodSource("names")
    void everyVerdictAgreesWithTheThread(String name) {
        Result r = Lab.run(name);
        assertTrue(r.agreesWithThread(), r::toText);
        assertEquals(Lab.get(name).claims().size(), r.findings().size());
        assertTrue(r.steps().size() >= 3, "steps");
    }

    @Test
    void coldBootSecretNotInImageButInControls(@TempDir Path dir) throws Exception {
        Result r = new ColdBoot().run(LabRun.defaults().withWorkDir(dir));
        System.out.println(r.toText());
        assertEquals(Verdict.HOLDS, r.verdict());
        assertEquals(Verdict.HOLDS, r.finding("luto-user-mode-weaker").verdict());
        assertEquals(Verdict.HOLDS, r.finding("kai-cpu-key-gone").verdict());
        assertTrue(Files.size(dir.resolve("cold-boot.img")) == LabRun.defaultConfig().dramBytes());
    }

    @Test
    void replayHoldsAndAddressTweakDoesNotPreventIt() {
        Result r = Lab.run("replay");
        System.out.println(r.toText());
        assertEquals(Verdict.HOLDS, r.verdict());
        assertEquals(Verdict.HOLDS, r.finding("kai-no-nonce").verdict());
        assertEquals(Verdict.FAILS, r.finding("kirill-what-replay").verdict());
        assertEquals(Verdict.HOLDS, r.finding("luto-page-table-replay").verdict());
        assertNotNull(r.picture());
    }
}
