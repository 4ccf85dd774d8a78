package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code memcrypt lab}: listing, narrated text, JSON records (parsed with Jackson), progress, exit statuses. */
class LabCommandTest {
    static Cli.Run memcrypt(String... args) {
        return RunCommandTest.memcrypt(args);
    }

    @Test
    void listNamesEveryExperimentAndClaim() {
        Cli.Run r = memcrypt("lab", "--list");
        assertEquals(0, r.exit(), r.err());
        for (String n : List.of("cold-boot", "replay", "relocation", "alias-without-flush", "kernel-direct-map", "plaintext-in-caches", "compromised-hypervisor")) {
            assertTrue(r.out().contains(n + " "), n);
        }
        assertTrue(r.out().contains("kirill-what-replay") && r.out().contains("Kirill A. Shutemov, Dec. 7, 2018 (seed 001 #24)"), r.out());
    }

    @Test
    void listJsonIsOneRecordPerExperimentWithItsClaims() throws Exception {
        Cli.Run r = memcrypt("lab", "--list", "--json");
        assertEquals(0, r.exit(), r.err());
        ObjectMapper m = new ObjectMapper();
        List<String> names = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            JsonNode n = m.readTree(line);
            assertEquals("experiment", n.get("record").asText());
            assertTrue(n.get("claims").size() > 0, line);
            for (JsonNode c : n.get("claims")) assertTrue(c.hasNonNull("id") && c.hasNonNull("author") && c.hasNonNull("quote") && c.hasNonNull("thread_says"), line);
            names.add(n.get("name").asText());
        }
        assertEquals(List.of("cold-boot", "replay", "relocation", "alias-without-flush", "plaintext-in-caches", "kernel-direct-map", "compromised-hypervisor").stream().sorted().toList(),
                names.stream().sorted().toList());
    }

    @Test
    void textNarratesWithProgressOnStderr() {
        Cli.Run r = memcrypt("lab", "replay");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("== replay: "), r.out());
        assertTrue(r.out().contains("Claim: \"For me it looks like that you can read, write and even replay encrypted pages both in SME and TME.\""), r.out());
        assertTrue(r.out().contains("[CLAIM HOLDS] jarkko-replay") && r.out().contains("[CLAIM FAILS] kirill-what-replay"), r.out());
        assertFalse(r.out().contains("Summary:"), "single experiment: no summary");
        assertTrue(r.err().contains("lab: [1/1] replay ...") && r.err().contains("lab:   replay: 1. ") && r.err().contains("lab: [1/1] replay: claim holds in "), r.err());
        Cli.Run q = memcrypt("lab", "-q", "replay");
        assertEquals("", q.err());
    }

    @Test
    void jsonRecordsParseAndHaveTheirFields() throws Exception {
        Cli.Run r = memcrypt("lab", "--json", "-q", "relocation", "plaintext-in-caches");
        assertEquals(0, r.exit(), r.err());
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> recs = new ArrayList<>();
        for (String line : r.out().split("\n")) recs.add(m.readTree(line));
        List<String> kinds = recs.stream().map(n -> n.get("record").asText()).toList();
        assertEquals("experiment", kinds.get(0));
        assertEquals(2, kinds.stream().filter("result"::equals).count());
        assertEquals("summary", kinds.get(kinds.size() - 1));
        for (JsonNode n : recs) {
            if (!n.get("record").asText().equals("summary")) assertTrue(n.get("experiment").isTextual(), n.toString());
            switch (n.get("record").asText()) {
                case "experiment" -> {
                    assertTrue(n.get("title").isTextual());
                    for (JsonNode c : n.get("claims")) {
                        for (String f : List.of("id", "author", "date", "source", "quote", "thread")) assertTrue(c.get(f).isTextual(), f);
                    }
                }
                case "step" -> {
                    assertTrue(n.get("n").isInt() && n.get("action").isTextual());
                    for (JsonNode o : n.get("observations")) {
                        assertTrue(o.get("label").isTextual() && o.get("value").isTextual());
                        if (o.has("hex")) assertTrue(o.get("hex").asText().matches("([0-9a-f]{2})+"), o.toString());
                    }
                }
                case "picture" -> assertTrue(n.get("lines").isArray() && n.get("lines").size() > 0);
                case "result" -> {
                    assertEquals("HOLDS", n.get("verdict").asText());
                    assertTrue(n.get("agrees").asBoolean());
                    for (JsonNode f : n.get("findings")) {
                        assertTrue(f.get("claim").isTextual() && f.get("because").isTextual());
                        assertEquals(f.get("thread").asText(), f.get("verdict").asText());
                    }
                }
                case "summary" -> {
                    assertEquals(2, n.get("experiments").asInt());
                    assertEquals(2, n.get("agree").asInt());
                    assertEquals(0, n.get("exit").asInt());
                }
                default -> throw new AssertionError("unknown record " + n);
            }
        }
    }

    @Test
    void allExperimentsAgreeAndSummarise(@TempDir Path dir) throws Exception {
        Cli.Run r = memcrypt("lab", "-q", "--image-dir", dir.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Summary:\n  cold-boot                claim holds    agrees with the thread"), r.out());
        assertEquals(7, r.out().split("agrees with the thread", -1).length - 1);
        assertTrue(Files.exists(dir.resolve("cold-boot.img")));
    }

    @Test
    void unknownExperimentExits2() {
        Cli.Run r = memcrypt("lab", "nope");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no experiment 'nope' (experiments: cold-boot, replay"), r.err());
    }
}
