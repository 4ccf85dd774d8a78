package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import java.util.List;
import net.jqwik.api.*;

/**
 * Property: loads and stores of any width and alignment through the MMU (pages on scattered
 * frames under different KeyIDs, tables under KeyID 1) behave like one flat linear memory.
 */
class MmuProperties {
    record Op(int kind, int off, int len, int seed) {}

    static final long VA = 0x7f12_3400_0000L;
    static final int PAGES = 6;

    @Provide
    Arbitrary<List<Op>> ops() {
        return Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.integers().between(0, PAGES * 4096 - 1),
                Arbitraries.integers().between(1, 5000), Arbitraries.integers()).as(Op::new).list().ofMaxSize(60);
    }

    @Property(tries = 40)
    void mmuAccessesBehaveLikeFlatMemory(@ForAll("ops") List<Op> ops, @ForAll long frameSeed) {
        Machine m = Hw.machine();
        Hw.directAll(m, 1, Hw.key16(1), Hw.key16(2));
        Hw.directAll(m, 2, Hw.key16(3), Hw.key16(4));
        PageTableBuilder pt = new PageTableBuilder(m, 0, m.frameAllocator(), 1);
        java.util.SplittableRandom r = new java.util.SplittableRandom(frameSeed);
        for (int p = 0; p < PAGES; p++) {
            long frame = (8L << 20) + (long) r.nextInt(1000) * 4096 + ((long) p << 22); // clear of the page-table frames at 1 MiB
            pt.map(VA + ((long) p << 12), frame, r.nextInt(3), Pte.RW);
        }
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        byte[] ref = new byte[PAGES * 4096];
        mmu.store(VA, ref);
        for (Op o : ops) {
            int len = Math.min(o.len(), ref.length - o.off());
            long va = VA + o.off();
            switch (o.kind()) {
                case 0 -> {
                    byte[] d = Hw.bytes(len, o.seed());
                    mmu.store(va, d);
                    System.arraycopy(d, 0, ref, o.off(), len);
                }
                case 1 -> assertArrayEquals(java.util.Arrays.copyOfRange(ref, o.off(), o.off() + len), mmu.load(va, len));
                case 2 -> {
                    if (o.off() + 8 > ref.length) break;
                    long v = o.seed() * 0x9E3779B97F4A7C15L;
                    mmu.store64(va, v);
                    for (int i = 0; i < 8; i++) ref[o.off() + i] = (byte) (v >>> (8 * i));
                }
                case 3 -> {
                    if (o.off() + 8 > ref.length) break;
                    long want = 0;
                    for (int i = 7; i >= 0; i--) want = want << 8 | (ref[o.off() + i] & 0xff);
                    assertEquals(want, mmu.load64(va));
                }
                default -> {
                    mmu.invlpg(va);
                    m.wbinvdAll();
                }
            }
        }
        assertArrayEquals(ref, mmu.load(VA, ref.length));
        assertEquals(List.of(), m.checkInvariants());
    }
}
