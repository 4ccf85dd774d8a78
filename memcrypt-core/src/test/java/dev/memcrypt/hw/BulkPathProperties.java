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

    /** LLC: 64 sets, so a page's lines fill one way of all sets; an L1 of {@code l1} (4K: 8 sets; 32K: 64 sets, a page's lines in distinct sets). */
    private static Machine machine(String l1) {
        Machine m = Hw.machine("l1=" + l1, "llc=64K", "dram=64M");
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

    private static void sameAsPerLine(List<Op> ops, String l1) {
        Machine a = machine(l1), b = machine(l1);
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
