package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.*;

/**
 * Property: the page-granular bulk path for whole-line accesses (batched victims, batched fills)
 * leaves exactly the same machine as the per-line protocol. Machine A stores and loads whole
 * lines in one call; machine B does the same accesses in 32-byte pieces (never the bulk path).
 * After every step every cache line (level, owner, full line, MESI state, fill generation) and
 * DRAM agree. Two KeyIDs alias the same physical pages, so victims and fills overlap in DRAM.
 */
class BulkPathProperties {
    record Op(int kind, int cpu, int keySel, int page, int line, int lines, int seed) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.integers().between(0, 9), Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1),
                Arbitraries.integers().between(0, 40), Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(0, 63))),
                Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(64)), Tuple.of(2, Arbitraries.just(64 * 24)), Tuple.of(1, Arbitraries.integers().between(1, 140))),
                Arbitraries.integers())
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(60);
    }

    /** An LLC of {@code llc} (64K: 64 sets, so a page's lines fill one way of all sets) and an L1 of {@code l1} (4K: 8 sets; 32K: 64 sets, a page's lines in distinct sets). */
    private static Machine machine(String l1, String llc) {
        Machine m = Hw.machine("l1=" + l1, "llc=" + llc, "dram=64M");
        Hw.directAll(m, 1, Hw.key16(1), Hw.key16(2));
        return m;
    }

    private static List<String> lines(Machine m) {
        List<String> out = new ArrayList<>();
        m.caches().forEachLine((level, owner, line, state, gen) -> out.add(level + owner + ":" + Long.toHexString(line) + ":" + state + ":" + gen));
        return out;
    }

    @Property(tries = 40)
    void bulkPathEqualsPerLineProtocol(@ForAll("ops") List<Op> ops) {
        sameAsPerLine(ops, "4K");
    }

    /** With an L1 of 64 sets, so the single-pass loop runs, including its steady state (full L1, full LLC sets). */
    @Property(tries = 40)
    void bulkPathEqualsPerLineProtocolWithPageSizedL1Sets(@ForAll("ops") List<Op> ops) {
        sameAsPerLine(ops, "32K");
    }

    /**
     * With an LLC of 32 sets (and an L1 of 32), where lines 32 apart in a page share a set: a
     * dirty victim can be another line of the DRAM page a read fills, under the other KeyID, so
     * the batched paths must stop or decline there (the per-line order fills before it writes back).
     */
    @Property(tries = 40)
    void bulkPathEqualsPerLineProtocolWhenPageLinesShareSets(@ForAll("ops") List<Op> ops) {
        sameAsPerLine(ops, "16K", "32K");
    }

    /**
     * A fill whose victims are dirty lines of the same DRAM page under another KeyID, built on
     * purpose (random sequences rarely reach it): with 32 LLC sets of 16 ways, lines 8..31 of
     * page 2 read under KeyID 1 find as victims lines 40..63 of page 2 written under KeyID 0,
     * while lines 0..7 find lines of another page. The bulk path writes all victims back before
     * it fills; that must read the same DRAM as the per-line order (see CacheSystem's note on
     * batched write-backs).
     */
    @Example
    void fillPastDirtyVictimsOfTheSameDramPage() {
        List<Op> ops = new ArrayList<>();
        ops.add(new Op(0, 0, 1, 40, 0, 8, 1)); // sets 0..7: the oldest lines, of another page
        ops.add(new Op(0, 0, 0, 2, 40, 24, 2)); // sets 8..31: page 2, lines 40..63, KeyID 0, dirty
        for (int j = 0; j < 15; j++) ops.add(new Op(0, 0, 1, 4 + 2 * j, 0, 32, 3 + j)); // fill every set to 16 ways
        ops.add(new Op(4, 0, 1, 2, 0, 32, 0)); // read page 2, lines 0..31, under KeyID 1
        sameAsPerLine(ops, "16K", "32K");
    }

    private static void sameAsPerLine(List<Op> ops, String l1) {
        sameAsPerLine(ops, l1, "64K");
    }

    private static void sameAsPerLine(List<Op> ops, String l1, String llc) {
        Machine a = machine(l1, llc), b = machine(l1, llc);
        int[] keyIds = {0, 1};
        long base = 0x100000, home1 = 32L << 20; // pages in both home ranges
        for (Op o : ops) {
            long pa = (o.page() % 2 == 0 ? base : home1 + base) + (long) o.page() * 4096 + 64L * o.line();
            int len = 64 * o.lines();
            int k = keyIds[o.keySel()];
            switch (o.kind()) {
                case 0, 1, 2, 3 -> {
                    byte[] d = Hw.bytes(len, o.seed());
                    a.pstore(o.cpu(), pa, k, d);
                    for (int i = 0; i < len; i += 32) b.pstore(o.cpu(), pa + i, k, java.util.Arrays.copyOfRange(d, i, i + 32));
                }
                case 4, 5, 6, 7 -> {
                    byte[] x = a.pload(o.cpu(), pa, k, len);
                    byte[] y = new byte[len];
                    for (int i = 0; i < len; i += 32) System.arraycopy(b.pload(o.cpu(), pa + i, k, 32), 0, y, i, 32);
                    assertArrayEquals(y, x);
                }
                case 8 -> {
                    a.clflushRange(o.cpu(), pa, k, 64);
                    b.clflushRange(o.cpu(), pa, k, 64);
                }
                default -> {
                    a.wbinvd(o.cpu());
                    b.wbinvd(o.cpu());
                }
            }
            assertEquals(lines(b), lines(a));
            assertEquals(List.of(), a.caches().checkBookkeeping());
            assertEquals(List.of(), b.caches().checkBookkeeping());
        }
        for (long p : new long[] {base, home1 + base}) assertArrayEquals(b.dram().read(p, 68 * 4096), a.dram().read(p, 68 * 4096));
    }
}
