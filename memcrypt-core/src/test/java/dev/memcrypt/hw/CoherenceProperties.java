package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import net.jqwik.api.*;

/**
 * Property: with one KeyID per region (no aliasing), any interleaving of stores, loads, CLFLUSH,
 * WBINVD and key-preserving activity by any core behaves like one flat memory, and the invariants
 * hold throughout. Tiny caches force evictions, snoops and write-backs.
 */
class CoherenceProperties {
    record Op(int kind, int cpu, int region, int off, int len, int seed) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.integers().between(0, 9), Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 8191),
                Arbitraries.integers().between(1, 200), Arbitraries.integers())
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(120);
    }

    @Property(tries = 80)
    void memoryBehavesLikeFlatMemoryPerKeyId(@ForAll("ops") List<Op> ops) {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("l1", "1K").with("l1_ways", "2").with("llc", "4K").with("llc_ways", "4").with("dram", "16M"));
        Hw.directAll(m, 1, Hw.key16(1), Hw.key16(2));
        for (var p : m.packages()) p.cores().get(0).pconfig(2, dev.memcrypt.hw.cpu.PconfigCommand.NO_ENCRYPT, 1, null, null);
        int[] keyIds = {0, 1, 2};
        long[] base = {0x10000, 0x20000, 0x30000};
        byte[][] ref = new byte[3][8192 + 256];
        for (int r = 0; r < 3; r++) m.pstore(r, base[r], keyIds[r], ref[r]); // zero through each mapping first
        for (Op o : ops) {
            int len = Math.min(o.len(), 8192 + 256 - o.off());
            long pa = base[o.region()] + o.off();
            switch (o.kind()) {
                case 0, 1, 2, 3 -> {
                    byte[] d = Hw.bytes(len, o.seed());
                    m.pstore(o.cpu(), pa, keyIds[o.region()], d);
                    System.arraycopy(d, 0, ref[o.region()], o.off(), len);
                }
                case 4, 5, 6 -> assertArrayEquals(java.util.Arrays.copyOfRange(ref[o.region()], o.off(), o.off() + len),
                        m.pload(o.cpu(), pa, keyIds[o.region()], len));
                case 7 -> m.clflushRange(o.cpu(), pa, keyIds[o.region()], len);
                case 8 -> m.wbinvd(o.cpu());
                default -> assertEquals(List.of(), m.checkInvariants());
            }
        }
        m.wbinvdAll();
        for (int r = 0; r < 3; r++) assertArrayEquals(ref[r], m.pload(r, base[r], keyIds[r], ref[r].length));
        assertEquals(List.of(), m.checkInvariants());
        assertArrayEquals(java.util.Arrays.copyOf(ref[2], 64), m.dram().read(base[2], 64), "NO_ENCRYPT region is plaintext in DRAM");
    }

    @Property(tries = 60)
    void memoryUnderKeyIdZeroSurvivesHotplug(@ForAll("ops") List<Op> ops) {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("l1", "1K").with("l1_ways", "2").with("llc", "4K").with("llc_ways", "4").with("dram", "16M"));
        byte[] ref = new byte[8192 + 256];
        m.pstore(0, 0x10000, 0, ref);
        for (Op o : ops) {
            int len = Math.min(o.len(), ref.length - o.off());
            long pa = 0x10000 + o.off();
            int cpu = o.cpu();
            if (!m.isOnline(cpu)) cpu = m.cores().stream().filter(c -> c.online()).findFirst().orElseThrow().id();
            switch (o.kind()) {
                case 0, 1, 2 -> {
                    byte[] d = Hw.bytes(len, o.seed());
                    m.pstore(cpu, pa, 0, d);
                    System.arraycopy(d, 0, ref, o.off(), len);
                }
                case 3, 4, 5 -> assertArrayEquals(java.util.Arrays.copyOfRange(ref, o.off(), o.off() + len), m.pload(cpu, pa, 0, len));
                case 6 -> m.clflushRange(cpu, pa, 0, len);
                case 7 -> {
                    if (m.cores().stream().filter(c -> c.online()).count() > 1) m.cpuOffline(cpu);
                }
                case 8 -> {
                    if (!m.isOnline(o.cpu())) m.cpuOnline(o.cpu());
                }
                default -> assertEquals(List.of(), m.checkInvariants().stream().filter(v -> !v.contains("disagree")).toList());
            }
        }
        int cpu = m.cores().stream().filter(c -> c.online()).findFirst().orElseThrow().id();
        assertArrayEquals(ref, m.pload(cpu, 0x10000, 0, ref.length));
    }
}
