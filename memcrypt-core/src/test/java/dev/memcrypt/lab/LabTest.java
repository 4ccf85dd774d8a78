package dev.memcrypt.lab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every experiment reaches the verdicts the seed thread reached (the claims hold as the thread
 * says; Kirill's "what replay attack?" fails as Jarkko and Kai answered), with the evidence the
 * experiment names. Results of the default run are computed once per experiment.
 */
class LabTest {
    private static final Map<String, Result> RESULTS = new ConcurrentHashMap<>();

    static Result result(String name) {
        return RESULTS.computeIfAbsent(name, Lab::run);
    }

    static List<String> names() {
        return Lab.names();
    }

    @ParameterizedTest
    @MethodSource("names")
    void everyVerdictAgreesWithTheThread(String name) {
        Result r = result(name);
        assertTrue(r.agreesWithThread(), r::toText);
        assertEquals(Lab.get(name).claims().size(), r.findings().size());
        for (int i = 0; i < r.findings().size(); i++) assertEquals(Lab.get(name).claims().get(i), r.findings().get(i).claim());
        assertTrue(r.steps().size() >= 4, "steps");
        assertFalse(r.picture().isEmpty(), "picture");
        for (Finding f : r.findings()) assertTrue(f.verdict() != Verdict.INCONCLUSIVE, f.claim().id());
    }

    @Test
    void sevenExperimentsInRunningOrderWithDistinctClaimIds() {
        assertEquals(List.of("cold-boot", "replay", "relocation", "alias-without-flush", "kernel-direct-map", "plaintext-in-caches", "compromised-hypervisor"), Lab.names());
        List<String> ids = new ArrayList<>();
        for (Experiment e : Lab.all()) for (Claim c : e.claims()) ids.add(c.id());
        assertEquals(ids.size(), ids.stream().distinct().count(), ids.toString());
        assertThrows(IllegalArgumentException.class, () -> Lab.get("nope"));
    }

    @Test
    void coldBootImageFileHoldsSecretOnlyUnencrypted(@TempDir Path dir) throws Exception {
        Result r = new ColdBoot().run(LabRun.defaults().withWorkDir(dir));
        assertEquals(Verdict.HOLDS, r.verdict());
        assertEquals(Verdict.HOLDS, r.finding("luto-user-mode-weaker").verdict());
        assertEquals(Verdict.HOLDS, r.finding("kai-cpu-key-gone").verdict());
        assertEquals(LabRun.defaultConfig().dramBytes(), Files.size(dir.resolve("cold-boot.img")));
        String map = String.join("\n", r.picture());
        assertEquals("P".repeat(64), row(r, "type=no-encrypt"), map);
        assertEquals("C".repeat(64), row(r, "type=cpu"), map);
        assertEquals("C".repeat(64), row(r, "KeyID 0 (TME)"), map);
        assertEquals("P".repeat(64), row(r, "KeyID 0, TME bypass"), map);
        assertEquals("!".repeat(64), row(r, "KeyID 0 (new TME key)"), map);
        assertEquals("!".repeat(64), row(r, "new type=cpu key"), map);
        assertEquals("C".repeat(64), row(r, "re-added type=user key"), map);
        assertTrue(map.endsWith(Pictures.LINE_LEGEND), map);
    }

    /** The map characters of the first picture row whose label contains {@code label}. */
    static String row(Result r, String label) {
        for (String l : r.picture()) if (l.contains(label) && l.length() > 41) return l.substring(41);
        throw new AssertionError("no row " + label + " in " + r.picture());
    }

    @Test
    void coldBootSearchFindsNothingInEncryptedPages() {
        Result r = result("cold-boot");
        String text = r.toText();
        assertTrue(text.contains("hits in the KeyID 0 (TME key) page: 0 of 64 lines"), text);
        assertTrue(text.contains("(no-encrypt) page: 64 of 64 lines"), text);
        assertTrue(text.contains("hits elsewhere: 0"), text);
    }

    @Test
    void replayReturnsTheOldValueAndAddressTweakDoesNotPreventIt() {
        Result r = result("replay");
        assertEquals(Verdict.HOLDS, r.verdict());
        assertEquals(Verdict.HOLDS, r.finding("kai-no-nonce").verdict());
        assertEquals(Verdict.FAILS, r.finding("kirill-what-replay").verdict());
        assertTrue(r.finding("kirill-what-replay").agreesWithThread());
        assertEquals(Verdict.HOLDS, r.finding("luto-page-table-replay").verdict());
        Observation read = r.steps().get(4).observations().get(0);
        assertArrayEquals(Replay.V1, read.evidence());
    }

    @Test
    void relocationGarbageElsewhereAndSaltedTweakOneBootOnly() {
        Result r = result("relocation");
        assertEquals(Verdict.HOLDS, r.verdict());
        assertEquals(Verdict.HOLDS, r.finding("luto-predetermined-pa").verdict());
        assertEquals(Verdict.HOLDS, r.finding("dave-tweak-per-boot").verdict());
    }

    @Test
    void aliasHazardsAndTheFlushRules() {
        Result r = result("alias-without-flush");
        for (Claim c : new AliasWithoutFlush().claims()) assertEquals(Verdict.HOLDS, r.finding(c.id()).verdict(), c.id());
        String table = String.join("\n", r.picture());
        assertTrue(table.contains("(e) PCONFIG with dirty line") && table.contains("garbage"), table);
    }

    @Test
    void cachesHoldPlaintextWhileDramHoldsOlderCiphertext() {
        Result r = result("plaintext-in-caches");
        assertEquals(Verdict.HOLDS, r.verdict());
        assertArrayEquals(PlaintextInCaches.NEWEST, r.steps().get(1).observations().get(0).evidence());
        assertTrue(r.picture().get(1).contains("newest value: pa"), r.picture().toString());
    }

    @Test
    void hypervisorWithoutKeyIdSeesGarbageButCanCorruptAndReplay() {
        Result r = result("compromised-hypervisor");
        for (Claim c : new CompromisedHypervisor().claims()) assertEquals(Verdict.HOLDS, r.finding(c.id()).verdict(), c.id());
        assertTrue(r.toText().contains("block0=intact block1=garbage block2=intact block3=intact"));
    }

    @Test
    void kernelDirectMapAliasReadsWrongAndAliasWriteCorruptsOnWriteBack() {
        Result r = result("kernel-direct-map");
        for (Claim c : new KernelDirectMap().claims()) assertEquals(Verdict.HOLDS, r.finding(c.id()).verdict(), c.id());
        assertEquals("seed 003", r.finding("luto-dax-coherence").claim().source());
        String text = r.toText();
        assertTrue(text.contains("lines changed: 1 of 64; no fault"), text);
        assertTrue(text.contains("stray write via KeyID-0 direct map: #PF"), text);
        assertTrue(text.contains("exploit read via KeyID-1 direct map: #PF"), text);
        String map = String.join("\n", r.picture());
        String written = "C".repeat(KernelDirectMap.LINES_WRITTEN) + ".".repeat(64 - KernelDirectMap.LINES_WRITTEN);
        assertTrue(map.contains("user wrote, written back                 " + written), map);
        assertTrue(map.contains("what the KeyID-0 direct map reads        " + "!".repeat(64)), map);
        assertTrue(map.contains("stray KeyID-0 write, still cached        " + written), map);
        assertTrue(map.contains("after the KeyID-0 line is written back   !" + written.substring(1)), map);
        assertTrue(map.contains("KeyID-0 write + immediate CLFLUSH        !" + written.substring(1)), map);
        assertTrue(map.contains("kernel writes via KeyID-N map (fix 1)    " + written), map);
        assertTrue(map.contains("page out of the direct map (fix 2)       " + written), map);
        assertTrue(map.contains(Pictures.LINE_LEGEND), map);
    }

    @Test
    void hypervisorOnKvmClusterSharesPlaintextOtherKeyIdsGarbage() {
        Result r = result("compromised-hypervisor");
        assertEquals(Verdict.HOLDS, r.finding("dave-cluster").verdict());
        String text = r.toText();
        assertTrue(text.contains("10 VMs use 2 hardware KeyIDs"), text);
        String map = String.join("\n", r.picture());
        String page = "CCCC" + ".".repeat(60);
        assertTrue(map.contains("host, KeyID 0                            " + "!".repeat(64)), map);
        assertTrue(map.contains("Pepsi, KeyID 2                           " + "!".repeat(64)), map);
        assertTrue(map.contains("coke-2, same cluster, KeyID 1            " + page), map);
        assertTrue(map.contains("host PTE with Coke's KeyID 1             " + page), map);
        assertTrue(map.contains("coke-1 after a 1-bit flip in DRAM        !CCC" + ".".repeat(60)), map);
        assertTrue(map.contains("coke-1 page 0x6000 after host replay     !" + ".".repeat(63)), map);
    }

    @Test
    void jsonOfTheNewClaims() {
        List<String> dm = result("kernel-direct-map").jsonRecords();
        assertTrue(dm.get(0).contains("{\"id\":\"luto-dax-coherence\",\"author\":\"Andy Lutomirski\",\"date\":\"Jun 17, 2019\",\"source\":\"seed 003\",\"quote\":"), dm.get(0));
        assertTrue(dm.stream().anyMatch(l -> l.startsWith("{\"record\":\"picture\",\"experiment\":\"kernel-direct-map\",\"lines\":[") && l.contains("legend: one character per 64-byte line")));
        String last = dm.get(dm.size() - 1);
        for (Claim c : new KernelDirectMap().claims()) {
            assertTrue(last.contains("{\"claim\":\"" + c.id() + "\",\"verdict\":\"HOLDS\",\"thread\":\"HOLDS\",\"because\":"), c.id() + " in " + last);
        }
        List<String> hv = result("compromised-hypervisor").jsonRecords();
        assertTrue(hv.get(hv.size() - 1).contains("{\"claim\":\"dave-cluster\",\"verdict\":\"HOLDS\",\"thread\":\"HOLDS\""), hv.get(hv.size() - 1));
    }

    @Test
    void everyDramPictureUsesTheLineLegend() {
        for (String name : Lab.names()) assertTrue(result(name).picture().contains(Pictures.LINE_LEGEND), name + ": " + result(name).picture());
        assertEquals("C", row(result("replay"), "t2 victim wrote V2"));
        assertEquals("!", row(result("replay"), "t4 after the attacker wrote C1 back"));
        assertEquals("!", row(result("relocation"), "C copied here"));
        assertEquals("C", row(result("relocation"), "customer image, its PA"));
        assertEquals("!", row(result("relocation"), "customer image, other PA"));
        assertEquals("P", row(result("plaintext-in-caches"), "L1, newest value dirty"));
        assertEquals("!", row(result("plaintext-in-caches"), "DRAM at that moment"));
        assertEquals("C", row(result("plaintext-in-caches"), "DRAM after WBINVD"));
        List<String> alias = result("alias-without-flush").picture();
        assertTrue(alias.stream().anyMatch(l -> l.startsWith(" !  (b) remap without flush")), alias.toString());
        assertTrue(alias.stream().anyMatch(l -> l.startsWith(" C  (c) flush rule")), alias.toString());
    }

    @Test
    void lineCellsFollowTheLegend() {
        byte[] zero = new byte[64], text = Rig.line("plain text"), noise = new byte[64];
        for (int i = 0; i < 64; i++) noise[i] = (byte) (i * 37 + 11);
        assertEquals('.', Pictures.lineCell(noise, zero, zero));
        assertEquals('C', Pictures.lineCell(noise, text, text));
        assertEquals('P', Pictures.lineCell(text, text, text));
        assertEquals('!', Pictures.lineCell(noise, noise, text));
        assertEquals('!', Pictures.lineCell(noise, noise, zero));
        assertEquals('C', Pictures.lineCell(noise, null, text));
    }

    @Test
    void textAndJsonAreDeterministicForASeed() {
        for (Experiment e : List.of(new Replay(), new KernelDirectMap(), new CompromisedHypervisor())) {
            Result a = e.run(LabRun.defaults());
            Result b = e.run(LabRun.defaults());
            assertEquals(a.toText(), b.toText(), e.name());
            assertEquals(a.jsonRecords(), b.jsonRecords(), e.name());
        }
    }

    @Test
    void jsonRecordsShape() {
        for (String name : Lab.names()) {
            List<String> recs = result(name).jsonRecords();
            assertTrue(recs.get(0).startsWith("{\"record\":\"experiment\",\"experiment\":\"" + name + "\",\"title\":"), recs.get(0));
            assertTrue(recs.get(0).contains("\"claims\":[{\"id\":"), recs.get(0));
            assertTrue(recs.get(1).startsWith("{\"record\":\"step\",\"experiment\":\"" + name + "\",\"n\":1,\"action\":"), recs.get(1));
            String last = recs.get(recs.size() - 1);
            assertTrue(last.startsWith("{\"record\":\"result\",\"experiment\":\"" + name + "\",\"verdict\":\"HOLDS\",\"agrees\":true,\"findings\":[{\"claim\":"), last);
            for (String rec : recs) {
                assertTrue(rec.startsWith("{") && rec.endsWith("}") && !rec.contains("\n"), rec);
            }
        }
    }

    @Test
    void progressReportsEveryStep() {
        List<String> lines = new ArrayList<>();
        Result r = new Relocation().run(LabRun.defaults().withProgress(lines::add));
        assertEquals(r.steps().size(), lines.size());
        assertTrue(lines.get(0).startsWith("relocation: 1. "), lines.get(0));
    }

    @ParameterizedTest
    @ValueSource(longs = {2, 77})
    void verdictsDoNotDependOnTheSeed(long seed) {
        for (Experiment e : List.of(new Replay(), new AliasWithoutFlush(), new PlaintextInCaches(), new KernelDirectMap(), new CompromisedHypervisor())) {
            Result r = e.run(new LabRun(LabRun.defaultConfig(), seed, null, s -> {}));
            assertTrue(r.agreesWithThread(), r::toText);
        }
    }

    @Tag("slow")
    @ParameterizedTest
    @ValueSource(longs = {3, 4, 5, 1234567})
    void everyExperimentAgreesForOtherSeedsAndTwoPackages(long seed) {
        for (var cfg : List.of(LabRun.defaultConfig(), LabRun.defaultConfig().with("packages", "2"))) {
            for (Experiment e : Lab.all()) {
                Result r = e.run(new LabRun(cfg, seed, null, s -> {}));
                assertTrue(r.agreesWithThread(), () -> cfg.packages() + " packages:\n" + r.toText());
                assertNotNull(r.verdict());
            }
        }
    }
}
