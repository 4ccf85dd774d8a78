package dev.memcrypt.hw.sme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The bulk (streaming) paths give the same reads and the same DRAM as ordinary accesses: a random
 * program of loads, stores, copies and WBINVDs over encrypted mappings of two sets of frames, run
 * once with ordinary and once with bulk accesses. (Not across the two C-bit aliases of one frame
 * without a flush: streaming stores reach DRAM at once, ordinary ones at eviction, so which alias
 * lands last differs - as with non-temporal stores, and undefined on real hardware.)
 */
class SmeStreamingProperties {
    static final long C = 1L << 47;
    static final int PAGES = 8;
    static final long ENC = 0x40000000L, DEC = 0x50000000L, OTHER = 0x60000000L;

    static Mmu machine(Machine[] out) {
        MachineConfig c = SmePlatform.config(64L << 20).with("l1", "4K").with("llc", "16K");
        Machine m = Machine.powerOn(c, Entropy.seeded(7));
        PageTableBuilder pt = new PageTableBuilder(m, 0, m.frameAllocator(), 0);
        for (int p = 0; p < PAGES; p++) {
            pt.map(ENC + p * 4096L, ((16L << 20) + p * 4096L) | C, 0, Pte.RW);
            pt.map(DEC + p * 4096L, (16L << 20) + p * 4096L, 0, Pte.RW);
            pt.map(OTHER + p * 4096L, ((20L << 20) + p * 4096L) | C, 0, Pte.RW);
        }
        m.mmu(0).writeCr3(pt.cr3());
        out[0] = m;
        return m.mmu(0);
    }

    @Property(tries = 40)
    void bulkEqualsOrdinary(@ForAll @Size(min = 1, max = 12) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> ops) {
        Machine[] ma = new Machine[1], mb = new Machine[1];
        Mmu a = machine(ma), b = machine(mb);
        long[] bases = {ENC, OTHER};
        for (int op : ops) {
            SplittableRandom r = new SplittableRandom(op);
            long base = bases[r.nextInt(2)], base2 = bases[r.nextInt(2)];
            int lines = 1 + r.nextInt(PAGES * 64 - 1);
            int start = r.nextInt(PAGES * 64 - lines + 1);
            long va = base + start * 64L, va2 = base2 + start * 64L;
            int len = lines * 64;
            switch (r.nextInt(4)) {
                case 0 -> {
                    byte[] d = new byte[len];
                    r.nextBytes(d);
                    a.store(va, d);
                    b.storeStream(va, d, 0, len);
                }
                case 1 -> assertArrayEquals(a.load(va, len), stream(b, va, len));
                case 2 -> {
                    byte[] t = a.load(va, len);
                    a.store(va2, t);
                    b.copyStream(va, va2, len);
                }
                default -> {
                    ma[0].wbinvdAll();
                    mb[0].wbinvdAll();
                }
            }
        }
        ma[0].wbinvdAll();
        mb[0].wbinvdAll();
        assertArrayEquals(ma[0].dram().read(16L << 20, PAGES * 4096), mb[0].dram().read(16L << 20, PAGES * 4096));
        assertArrayEquals(ma[0].dram().read(20L << 20, PAGES * 4096), mb[0].dram().read(20L << 20, PAGES * 4096));
    }

    static byte[] stream(Mmu m, long va, int len) {
        byte[] b = new byte[len];
        m.loadStream(va, b, 0, len);
        return b;
    }
}
