package dev.memcrypt.hw.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.PconfigCommand;
import java.util.List;
import net.jqwik.api.*;

/**
 * Properties of the controllers' speed-only write paths: posted zero pages and bulk posting of
 * partial write-back runs. Machine A uses them (with a small bound on pending zero pages, so
 * the oldest-first materialization is exercised too); machine B is the reference: zero pages are
 * encrypted at once ({@code setZeroLimit(0)}) and every write-back run is {@code n} single
 * {@link MemoryController#writeBack} calls. Both get the same random sequence of controller
 * operations (from either package's controller), fills, copies, raw DRAM reads and writes, key
 * changes and drains; every fill and raw read must agree, and so must DRAM and pagesTouched at the end.
 * KeyIDs: 0 (TME key), 1 (a direct key, reprogrammed at random) and 2 (NO_ENCRYPT: plaintext).
 */
class PostedWritesProperties {
    record Op(int kind, int ctrl, int keyId, int page, int line, int lines, int seed) {}

    static final long BASE = 0x100000, HOME1 = 32L << 20;
    static final int PAGES = 6;

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.integers().between(0, 15), Arbitraries.integers().between(0, 1), Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 2 * PAGES - 1),
                Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)), Tuple.of(2, Arbitraries.integers().between(0, 63))),
                Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(64)), Tuple.of(3, Arbitraries.integers().between(1, 64))),
                Arbitraries.integers())
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(80);
    }

    private static Machine machine(int zeroLimit, String... opts) {
        Machine m = Hw.machine(opts);
        Hw.directAll(m, 1, Hw.key16(1), Hw.key16(2));
        for (var p : m.packages()) p.cores().get(0).pconfig(2, PconfigCommand.NO_ENCRYPT, KeyProgram.ALG_AES_XTS_128, null, null);
        for (var p : m.packages()) p.controller().setZeroLimit(zeroLimit);
        return m;
    }

    private static long pagePa(int page) {
        return (page % 2 == 0 ? BASE : HOME1 + BASE) + (long) (page / 2) * 4096;
    }

    @Property(tries = 60)
    void postedWritesLeaveDramAsEagerWrites(@ForAll("ops") List<Op> ops, @ForAll("limits") int limit) {
        Machine a = machine(limit), b = machine(0);
        for (Op o : ops) {
            long pa = pagePa(o.page()) + 64L * o.line();
            int n = Math.min(o.lines(), 64 - o.line()); // within the page
            long line = a.fullPa(pa, o.keyId()) >>> 6;
            MemoryController ca = a.pkg(o.ctrl()).controller(), cb = b.pkg(o.ctrl()).controller();
            switch (o.kind()) {
                case 0, 1, 2 -> { // clear_page: a streaming write of a whole page (or two) of zeros
                    int pages = o.kind() == 2 && o.page() + 2 < 2 * PAGES && o.page() % 2 == 0 ? 2 : 1;
                    for (int i = 0; i < pages; i++) {
                        long l = a.fullPa(pagePa(o.page() + 2 * i), o.keyId()) >>> 6;
                        a.pkg(o.ctrl()).controller().writeRun(l, new byte[4096], 0, 64);
                        b.pkg(o.ctrl()).controller().writeRun(l, new byte[4096], 0, 64);
                    }
                }
                case 3, 4, 5 -> { // write-back run (bulk) vs single write-backs; kind 5 may run into the next page
                    int m = o.kind() == 5 ? o.lines() : n;
                    byte[] d = Hw.bytes(m * 64, o.seed());
                    ca.writeBackRun(line, d, 0, m);
                    for (int i = 0; i < m; i++) cb.writeBack(line + i, d, 64 * i);
                }
                case 6 -> { // single write-back
                    byte[] d = Hw.bytes(64, o.seed());
                    ca.writeBack(line, d, 0);
                    cb.writeBack(line, d, 0);
                }
                case 7 -> { // streaming write of data (zeros in part, sometimes)
                    byte[] d = o.seed() % 3 == 0 ? new byte[n * 64] : Hw.bytes(n * 64, o.seed());
                    ca.writeRun(line, d, 0, n);
                    cb.writeRun(line, d, 0, n);
                }
                case 8 -> { // fill
                    byte[] x = new byte[64], y = new byte[64];
                    ca.fill(line, x, 0);
                    cb.fill(line, y, 0);
                    assertArrayEquals(y, x, "fill");
                }
                case 9 -> { // streaming read
                    byte[] x = new byte[n * 64], y = new byte[n * 64];
                    ca.readRun(line, x, 0, n);
                    cb.readRun(line, y, 0, n);
                    assertArrayEquals(y, x, "readRun");
                }
                case 10 -> { // copy to another page (same home range), maybe another KeyID
                    int dst = (o.page() + 2 * (1 + o.seed() % (PAGES - 1) + PAGES)) % (2 * PAGES);
                    long dl = a.fullPa(pagePa(dst) + 64L * o.line(), Math.floorMod(o.keyId() + o.seed(), 3)) >>> 6;
                    ca.copyRun(line, dl, n);
                    cb.copyRun(line, dl, n);
                }
                case 11 -> assertArrayEquals(b.dram().read(pa, n * 64 + 5), a.dram().read(pa, n * 64 + 5), "raw read");
                case 12 -> {
                    byte[] d = Hw.bytes(n * 64 - 3, o.seed());
                    a.dram().write(pa + 3, d);
                    b.dram().write(pa + 3, d);
                }
                case 13 -> { // key change: pending zero pages and posted data under the old key land first
                    byte[] k = Hw.key16(o.seed());
                    Hw.directAll(a, 1, k, Hw.key16(5));
                    Hw.directAll(b, 1, k, Hw.key16(5));
                }
                case 14 -> {
                    ca.drain();
                    cb.drain();
                }
                default -> assertEquals(b.dram().pagesTouched(), a.dram().pagesTouched(), "pagesTouched");
            }
        }
        for (long h : new long[] {BASE, HOME1 + BASE}) assertArrayEquals(b.dram().read(h, (PAGES + 1) * 4096), a.dram().read(h, (PAGES + 1) * 4096));
        assertEquals(b.dram().pagesTouched(), a.dram().pagesTouched(), "pagesTouched");
        for (var p : a.packages()) assertEquals(0, p.controller().zeroPending(), "a raw read of everything materializes every zero page");
    }

    @Provide
    Arbitrary<Integer> limits() {
        return Arbitraries.of(1, 2, 3, MemoryController.ZERO_LIMIT);
    }

    record Bulk(int kind, int page, int line, int lines) {}

    @Provide
    Arbitrary<List<Bulk>> bulk() {
        Arbitrary<Bulk> op = Combinators.combine(Arbitraries.integers().between(0, 9), Arbitraries.integers().between(0, 2047),
                Arbitraries.integers().between(0, 63), Arbitraries.integers().between(1, 64)).as(Bulk::new);
        return op.list().ofMinSize(200).ofMaxSize(3000);
    }

    @Provide
    Arbitrary<List<Integer>> pool() { // pages scattered over 1 GiB, so the pending-page table sees collisions
        return Arbitraries.integers().between(0, (1 << 18) - 300).list().uniqueElements().ofSize(2048);
    }

    /** Many pending zero pages at once (hash-table collisions, removals in any order, the bound), one controller. */
    @Property(tries = 12)
    void manyPendingZeroPagesLeaveDramAsEagerWrites(@ForAll("bulk") List<Bulk> ops, @ForAll("pool") List<Integer> pool, @ForAll("bigLimits") int limit) {
        Machine a = machine(limit, "dram=2G"), b = machine(0, "dram=2G");
        MemoryController ca = a.pkg(0).controller(), cb = b.pkg(0).controller();
        for (Bulk o : ops) {
            long pa = BASE + (long) pool.get(o.page()) * 4096;
            long line = a.fullPa(pa, 1) >>> 6;
            int n = Math.min(o.lines(), 64 - o.line());
            switch (o.kind()) {
                case 0, 1, 2, 3, 4 -> {
                    ca.writeRun(line, new byte[4096], 0, 64);
                    cb.writeRun(line, new byte[4096], 0, 64);
                }
                case 5, 6, 7 -> {
                    byte[] d = Hw.bytes(n * 64, o.page());
                    ca.writeBackRun(line + o.line(), d, 0, n);
                    cb.writeBackRun(line + o.line(), d, 0, n);
                }
                case 8 -> {
                    byte[] d = Hw.bytes(64 * 64, o.line());
                    ca.writeBackRun(line, d, 0, 64);
                    cb.writeBackRun(line, d, 0, 64);
                }
                default -> {
                    byte[] x = new byte[64], y = new byte[64];
                    ca.fill(line + o.line(), x, 0);
                    cb.fill(line + o.line(), y, 0);
                    assertArrayEquals(y, x, "fill");
                }
            }
        }
        assertEquals(0, cb.zeroPosts() - cb.zeroMaterialized(), "the reference never leaves a zero page pending");
        for (int page : pool) assertArrayEquals(b.dram().read(BASE + (long) page * 4096, 4096), a.dram().read(BASE + (long) page * 4096, 4096));
        assertEquals(b.dram().pagesTouched(), a.dram().pagesTouched());
    }

    @Provide
    Arbitrary<Integer> bigLimits() {
        return Arbitraries.of(100, 1000, MemoryController.ZERO_LIMIT);
    }
}
