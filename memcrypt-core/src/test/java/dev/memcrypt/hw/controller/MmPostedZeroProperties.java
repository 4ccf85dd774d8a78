package dev.memcrypt.hw.controller;

import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.*;

/**
 * The memory manager on a machine with posted zero pages leaves DRAM exactly as on one without
 * (every page the allocator hands out is zeroed through its KeyID, then touched, discarded,
 * swapped, copied on write or unmapped). Same seed, same operations; user reads, the DRAM behind
 * user addresses, all of DRAM used and pagesTouched must agree.
 */
class MmPostedZeroProperties {
    static final int PAGES = 24;

    record Op(int kind, int page, int off, int len, int seed) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        return Combinators.combine(Arbitraries.integers().between(0, 11), Arbitraries.integers().between(0, PAGES - 1),
                Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(0, 4095))),
                Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(4096)), Tuple.of(1, Arbitraries.integers().between(1, 4096))),
                Arbitraries.integers()).as(Op::new).list().ofMinSize(1).ofMaxSize(40);
    }

    static final class Side {
        final Machine m;
        final MmKernel k;
        final Process p;
        Process child;
        final long base;

        Side(boolean posting) throws ErrnoException {
            m = Machine.powerOn(MachineConfig.defaults().with("l1", "4K").with("llc", "64K").with("dram", "128M").with("seed", "5"));
            if (!posting) for (var pk : m.packages()) pk.controller().setZeroLimit(0);
            k = MmKernel.boot(m);
            p = k.spawn(Cred.root());
            int key = k.keys().addKey(p.mainThread(), "mktme", "k", "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
            base = k.mmap(p, 0, PAGES * 4096L, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
            k.encryptMprotect(p.mainThread(), base, PAGES * 4096L, PROT_READ | PROT_WRITE, key);
        }
    }

    @Property(tries = 25)
    void memoryManagerLeavesDramAsWithEagerZeroing(@ForAll("ops") List<Op> ops) throws ErrnoException {
        Side a = new Side(true), b = new Side(false);
        for (Op o : ops) {
            int len = Math.min(o.len(), 4096 - o.off());
            long va = a.base + o.page() * 4096L + o.off();
            assertEquals(a.base, b.base);
            switch (o.kind()) {
                case 0, 1, 2 -> { for (Side s : new Side[] {a, b}) s.k.store(s.p, va, Hw.bytes(len, o.seed())); }
                case 3, 4 -> assertArrayEquals(b.k.load(b.p, va, len), a.k.load(a.p, va, len), "load");
                case 5 -> { for (Side s : new Side[] {a, b}) s.k.madvise(s.p, va & ~4095L, 4096, MADV_DONTNEED); }
                case 6 -> { for (Side s : new Side[] {a, b}) s.k.madvise(s.p, va & ~4095L, 4096, MADV_PAGEOUT); }
                case 7 -> { // fork, and the child writes (copy on write into a freshly zeroed page)
                    for (Side s : new Side[] {a, b}) {
                        if (s.child == null) s.child = s.k.fork(s.p);
                        s.k.store(s.child, va, Hw.bytes(len, o.seed() + 1));
                    }
                }
                case 8 -> {
                    if (a.child != null) assertArrayEquals(b.k.load(b.child, va, len), a.k.load(a.child, va, len), "child load");
                }
                case 9 -> assertArrayEquals(b.k.vdram(b.p, va, len, o.seed() % 2 == 0), a.k.vdram(a.p, va, len, o.seed() % 2 == 0), "vdram");
                case 10 -> assertEquals(b.m.dram().pagesTouched(), a.m.dram().pagesTouched(), "pagesTouched");
                default -> { // unmap one page and map it again (its frame goes back to the allocator)
                    for (Side s : new Side[] {a, b}) {
                        s.k.munmap(s.p, va & ~4095L, 4096);
                        s.k.mmap(s.p, va & ~4095L, 4096, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
                    }
                }
            }
        }
        assertArrayEquals(b.m.dram().read(0, 4 << 20), a.m.dram().read(0, 4 << 20), "DRAM");
        assertEquals(b.m.dram().pagesTouched(), a.m.dram().pagesTouched(), "pagesTouched");
    }
}
