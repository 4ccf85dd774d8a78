package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cache.Cache;
import dev.memcrypt.hw.cache.CacheSystem;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Caches, MESI coherence, flushes, and the two MKTME hazards of seed 001 with their avoidance. */
class CacheCoherenceTest {
    static final byte[] K1 = Hw.key16(21), K2 = Hw.key16(22), K3 = Hw.key16(23);

    static long line(Machine m, long pa, int keyId) {
        return m.fullPa(pa, keyId) >>> 6;
    }

    // ---------------------------------------------------------------- coherence

    @Test
    void storeOnOneCoreVisibleOnPeerCoreAndOtherPackage() {
        Machine m = Hw.machine();
        CacheSystem cs = m.caches();
        m.pstore(0, 0x1000, 0, Hw.bytes(8, 1));
        assertEquals(Cache.M, cs.l1State(0, line(m, 0x1000, 0)));
        assertArrayEquals(Hw.bytes(8, 1), m.pload(1, 0x1000, 0, 8));
        assertEquals(Cache.S, cs.l1State(0, line(m, 0x1000, 0)));
        assertEquals(Cache.S, cs.l1State(1, line(m, 0x1000, 0)));
        assertArrayEquals(Hw.bytes(8, 1), m.pload(2, 0x1000, 0, 8));
        assertEquals(Cache.S, cs.llcState(0, line(m, 0x1000, 0)));
        assertEquals(Cache.S, cs.llcState(1, line(m, 0x1000, 0)));
        m.pstore(3, 0x1004, 0, new byte[] {9});
        assertEquals(Cache.M, cs.l1State(3, line(m, 0x1000, 0)));
        assertEquals(Cache.I, cs.l1State(0, line(m, 0x1000, 0)), "writer invalidated every other copy");
        assertEquals(Cache.I, cs.llcState(0, line(m, 0x1000, 0)));
        assertEquals(9, m.pload(0, 0x1004, 0, 1)[0]);
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void readOfExclusiveLineByFirstReaderIsE() {
        Machine m = Hw.machine();
        m.pload(0, 0x2000, 0, 8);
        assertEquals(Cache.E, m.caches().l1State(0, line(m, 0x2000, 0)));
        m.pstore(0, 0x2000, 0, new byte[8]); // silent E -> M
        assertEquals(Cache.M, m.caches().l1State(0, line(m, 0x2000, 0)));
    }

    @Test
    void crossingLineStoreAndLoad() {
        Machine m = Hw.machine();
        byte[] d = Hw.bytes(300, 5);
        m.pstore(1, 0x3030, 0, d);
        assertArrayEquals(d, m.pload(2, 0x3030, 0, 300));
        assertArrayEquals(Arrays.copyOfRange(d, 10, 13), m.pload(0, 0x303a, 0, 3));
    }

    @Test
    void clflushWritesBackAndInvalidatesInEveryPackage() {
        Machine m = Hw.machine();
        m.pstore(2, 0x5000, 0, Hw.bytes(64, 1));
        m.pload(0, 0x5000, 0, 64);
        m.clflush(3, 0x5000, 0);
        long l = line(m, 0x5000, 0);
        for (int c = 0; c < 4; c++) assertEquals(Cache.I, m.caches().l1State(c, l));
        for (int p = 0; p < 2; p++) assertEquals(Cache.I, m.caches().llcState(p, l));
        assertArrayEquals(Hw.bytes(64, 1), m.pload(1, 0x5000, 0, 64));
    }

    @Test
    void wbinvdFlushesOnlyTheExecutingPackage() {
        Machine m = Hw.machine("bypass=true"); // plaintext DRAM makes write-backs visible
        m.pstore(0, 0x6000, 0, Hw.bytes(64, 1)); // package 0
        m.pstore(2, 0x7000, 0, Hw.bytes(64, 2)); // package 1
        m.wbinvd(1);
        assertArrayEquals(Hw.bytes(64, 1), m.dram().read(0x6000, 64));
        assertArrayEquals(new byte[64], m.dram().read(0x7000, 64), "package 1 untouched");
        assertEquals(Cache.I, m.caches().l1State(0, line(m, 0x6000, 0)), "WBINVD on cpu 1 also empties cpu 0's L1 (inclusive LLC)");
        assertEquals(Cache.M, m.caches().l1State(2, line(m, 0x7000, 0)));
        m.wbinvd(3);
        assertArrayEquals(Hw.bytes(64, 2), m.dram().read(0x7000, 64));
    }

    @Test
    void lruEvictsLeastRecentlyUsedAndWritesItBack() {
        // 4 KiB 8-way L1 = 8 sets; 64 KiB 16-way LLC = 64 sets: lines 4 KiB apart share an LLC set
        Machine m = Hw.machine("bypass=true");
        for (int i = 0; i < 16; i++) m.pstore(0, 0x100000 + i * 4096L, 0, new byte[] {(byte) (i + 1)});
        m.pload(0, 0x100000, 0, 1); // touch line 0: line 1 becomes LRU
        m.pstore(0, 0x100000 + 16 * 4096L, 0, new byte[] {17});
        assertEquals(Cache.I, m.caches().llcState(0, line(m, 0x100000 + 4096, 0)));
        assertEquals(2, m.dram().read(0x100000 + 4096, 1)[0], "evicted dirty line written back");
        assertNotEquals(Cache.I, m.caches().llcState(0, line(m, 0x100000, 0)));
    }

    @Test
    void twoKeyIdsOfOnePhysicalLineAreTwoCacheLines() {
        Machine m = Hw.machine();
        Hw.directAll(m, 1, K1, K2);
        m.pstore(0, 0x8000, 1, Hw.bytes(64, 1));
        m.pload(0, 0x8000, 2, 64);
        assertEquals(Cache.M, m.caches().l1State(0, line(m, 0x8000, 1)));
        assertEquals(Cache.E, m.caches().l1State(0, line(m, 0x8000, 2)), "not coherent with the KeyID 1 copy");
    }

    // ---------------------------------------------------------------- hazard 1: aliasing

    @Test
    void hazardWriteKeyIdAReadKeyIdBWithoutFlushGivesGarbage() {
        Machine m = Hw.machine();
        Hw.directAll(m, 1, K1, K2);
        Hw.directAll(m, 2, K2, K3);
        byte[] data = Hw.bytes(64, 7);
        m.pstore(0, 0x9000, 1, data);
        byte[] viaB = m.pload(0, 0x9000, 2, 64);
        assertFalse(Arrays.equals(data, viaB), "the KeyID 2 view does not see the KeyID 1 write");
        assertFalse(Arrays.equals(new byte[64], viaB), "it is garbage (zero DRAM decrypted with key 2)");
    }

    @Test
    void hazardStaleAliasDirtyLineOverwritesNewMapping() {
        Machine m = Hw.machine();
        Hw.directAll(m, 1, K1, K2);
        Hw.directAll(m, 2, K2, K3);
        m.pstore(0, 0x9000, 1, Hw.bytes(64, 1)); // old mapping, dirty
        m.pstore(0, 0x9000, 2, Hw.bytes(64, 2)); // new mapping, without flushing the old one
        m.clflush(0, 0x9000, 2);                 // new data reaches DRAM ...
        m.clflush(0, 0x9000, 1);                 // ... then the stale alias is written back over it
        assertFalse(Arrays.equals(Hw.bytes(64, 2), m.pload(0, 0x9000, 2, 64)), "new mapping's data corrupted");
    }

    @Test
    void hazardSpeculativelyFilledAliasIsStaleAfterFlush() {
        // Andy Lutomirski's case: mapping 2 was populated earlier, mapping 1 written and flushed
        Machine m = Hw.machine();
        Hw.directAll(m, 1, K1, K2);
        Hw.directAll(m, 2, K2, K3);
        byte[] early = m.pload(0, 0x9000, 2, 64);
        m.pstore(0, 0x9000, 1, Hw.bytes(64, 1));
        m.clflush(0, 0x9000, 1);
        assertArrayEquals(early, m.pload(0, 0x9000, 2, 64), "cache still returns the old garbage, inconsistent with DRAM");
    }

    @Test
    void flushOldMappingThenZeroThroughNewMappingAvoidsAliasingHazards() {
        Machine m = Hw.machine();
        Hw.directAll(m, 1, K1, K2);
        Hw.directAll(m, 2, K2, K3);
        m.pload(0, 0x9000, 2, 64);                          // even with a pre-populated new mapping
        m.pstore(0, 0x9000, 1, Hw.bytes(64, 1));
        m.clflush(0, 0x9000, 1);                            // 1. flush the old mapping
        m.pstore(0, 0x9000, 2, new byte[64]);               // 2. zero through the new mapping
        assertArrayEquals(new byte[64], m.pload(1, 0x9000, 2, 64));
        m.pstore(0, 0x9000, 2, Hw.bytes(64, 2));
        m.clflush(0, 0x9000, 2);
        assertArrayEquals(Hw.bytes(64, 2), m.pload(3, 0x9000, 2, 64), "no stale write-back later");
        assertEquals(List.of(), m.checkInvariants());
    }

    // ---------------------------------------------------------------- hazard 2: reprogramming with dirty lines

    @Test
    void hazardDirtyLineWrittenBackAfterKeyIdReprogrammedIsCorrupted() {
        Machine m = Hw.machine();
        Hw.directAll(m, 5, K1, K2);
        byte[] data = Hw.bytes(64, 3);
        m.pstore(0, 0xa000, 5, data);                  // dirty under key K1
        Hw.directAll(m, 5, K2, K3);                    // PCONFIG does not flush
        assertTrue(m.checkInvariants().stream().anyMatch(s -> s.contains("filled before its key changed")));
        m.clflush(0, 0xa000, 5);                       // written back under the new key
        assertArrayEquals(ControllerTest.expectedXts(K2, K3, 0xa000, data), m.dram().read(0xa000, 64));
        Hw.directAll(m, 5, K1, K2);                    // the owner's key again
        assertFalse(Arrays.equals(data, m.pload(0, 0xa000, 5, 64)), "data under the owner's key is corrupted");
    }

    @Test
    void flushBeforeReprogrammingAvoidsCorruption() {
        Machine m = Hw.machine();
        Hw.directAll(m, 5, K1, K2);
        byte[] data = Hw.bytes(64, 3);
        m.pstore(0, 0xa000, 5, data);
        m.wbinvdAll();                                  // flush before the key change
        assertEquals(List.of(), m.checkInvariants());
        Hw.directAll(m, 5, K2, K3);
        assertEquals(List.of(), m.checkInvariants());
        assertArrayEquals(ControllerTest.expectedXts(K1, K2, 0xa000, data), m.dram().read(0xa000, 64), "written under the old key");
        m.pstore(0, 0xa000, 5, new byte[64]);           // the new user zeroes through the new key
        assertArrayEquals(new byte[64], m.pload(2, 0xa000, 5, 64));
        Hw.directAll(m, 5, K1, K2);
        m.clflush(0, 0xa000, 5);
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void cleanStaleLineAfterReprogramIsReportedByInvariant() {
        Machine m = Hw.machine();
        Hw.directAll(m, 5, K1, K2);
        m.pload(0, 0xb000, 5, 8);
        Hw.directAll(m, 5, K2, K3);
        List<String> v = m.checkInvariants();
        assertEquals(2, v.size(), v.toString()); // L1 and LLC copies
        m.clflush(0, 0xb000, 5);
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void invariantReportsDisagreeingKeyTablesUntilAllPackagesProgrammed() {
        Machine m = Hw.machine();
        Hw.direct(m, 0, 6, K1, K2);
        assertEquals(1, m.checkInvariants().size());
        Hw.direct(m, 2, 6, K1, K3);
        assertEquals(1, m.checkInvariants().size(), "different keys still disagree");
        Hw.direct(m, 3, 6, K1, K2);
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void writeBacksOfOneLineFromTwoPackagesReachDramInOrder() {
        // regression: found by CoherenceProperties; two posted copies of one line, drained in package order
        Machine m = Machine.powerOn(MachineConfig.defaults().with("l1", "1K").with("l1_ways", "2").with("llc", "4K").with("llc_ways", "4").with("dram", "16M"));
        m.pstore(2, 0x30000, 0, new byte[64]);
        m.pstore(2, 0x30000, 0, new byte[] {1});
        m.pstore(0, 0x30000, 0, Hw.bytes(64, 5));   // snoop: package 1's dirty copy written back
        m.pstore(2, 0x30001, 0, new byte[] {9});     // snoop: package 0's newer copy written back, then fill
        byte[] want = Hw.bytes(64, 5);
        want[1] = 9;
        assertArrayEquals(want, m.pload(0, 0x30000, 0, 64));
    }

    @Test
    void wbinvdAtCpl3Gp() {
        Machine m = Hw.machine();
        m.pstore(0, 0x1000, 0, new byte[] {1});
        m.core(0).setCpl(3);
        assertThrows(dev.memcrypt.hw.cpu.GeneralProtectionFault.class, () -> m.wbinvd(0));
        assertEquals(Cache.M, m.caches().l1State(0, line(m, 0x1000, 0)), "nothing flushed");
    }
}
