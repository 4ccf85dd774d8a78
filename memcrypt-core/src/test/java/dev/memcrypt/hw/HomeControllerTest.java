package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Multi-socket MKTME: each physical address has a home controller, whose key table serves it. */
class HomeControllerTest {
    private static final byte[] ZERO16 = new byte[16];

    private static void randomOnEveryPackage(Machine m, int keyId) {
        for (var p : m.packages()) {
            var c = p.cores().get(0);
            var r = c.pconfig(keyId, PconfigCommand.SET_KEY_RANDOM, KeyProgram.ALG_AES_XTS_128, ZERO16, ZERO16);
            assertEquals(PconfigStatus.SUCCESS.code, (int) r.rax());
        }
    }

    @Test
    void dramIsSplitIntoContiguousHomeRanges() {
        Machine m = Hw.machine(); // 64 MiB, 2 packages
        assertEquals(0, m.homePackage(0));
        assertEquals(0, m.homePackage((32L << 20) - 1));
        assertEquals(1, m.homePackage(32L << 20));
        assertEquals(1, m.homePackage((64L << 20) - 1));
        Machine one = Hw.machine("packages=1");
        assertEquals(0, one.homePackage((64L << 20) - 1));
    }

    @Test
    void cpuKeyWrittenViaPackage0ReadsBackFromPackage1() {
        Machine m = Hw.machine();
        randomOnEveryPackage(m, 7);
        KeyTable.Entry a = m.pkg(0).keyTable().get(7), b = m.pkg(1).keyTable().get(7);
        assertTrue(a.random() && b.random());
        for (long pa : new long[] {0x5000, (32L << 20) + 0x5000}) { // one line homed at each package
            byte[] data = Hw.bytes(4096, (int) pa);
            m.pstore(0, pa, 7, data);
            assertArrayEquals(data, m.pload(2, pa, 7, 4096), "snooped from package 0");
            m.wbinvdAll();
            assertArrayEquals(data, m.pload(3, pa, 7, 4096), "filled from DRAM through the home controller");
            m.pstore(2, pa, 7, Hw.bytes(64, 9));
            m.clflush(2, pa, 7);
            assertArrayEquals(Hw.bytes(64, 9), m.pload(0, pa, 7, 64), "written back by package 1's core, read by package 0's");
        }
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void directKeysThatDifferBetweenPackagesAreStillFlagged() {
        Machine m = Hw.machine();
        Hw.direct(m, 0, 6, Hw.key16(1), Hw.key16(2));
        Hw.direct(m, 2, 6, Hw.key16(1), Hw.key16(3));
        assertTrue(m.checkInvariants().stream().anyMatch(s -> s.contains("disagree on KeyID 6")));
        Hw.direct(m, 2, 6, Hw.key16(1), Hw.key16(2));
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void modeMismatchIsFlaggedEvenForRandomKeys() {
        Machine m = Hw.machine();
        var c = m.core(0);
        c.pconfig(4, PconfigCommand.SET_KEY_RANDOM, KeyProgram.ALG_AES_XTS_128, ZERO16, ZERO16);
        assertTrue(m.checkInvariants().stream().anyMatch(s -> s.contains("disagree on KeyID 4")), "package 1 still TME");
    }

    @Test
    void memoryOfOfflinePackageStaysAccessibleButItsKeysAreLost() {
        Machine m = Hw.machine();
        randomOnEveryPackage(m, 7);
        long pa = (32L << 20) + 0x9000; // homed at package 1
        m.pstore(0, pa, 0, Hw.bytes(64, 4));
        m.pstore(0, pa + 64, 7, Hw.bytes(64, 5));
        m.wbinvdAll();
        m.cpuOffline(2);
        m.cpuOffline(3);
        assertFalse(m.pkg(1).powered());
        assertArrayEquals(Hw.bytes(64, 4), m.pload(0, pa, 0, 64), "package 1's controller still serves its DRAM (TME key survives)");
        assertFalse(java.util.Arrays.equals(Hw.bytes(64, 5), m.pload(0, pa + 64, 7, 64)), "package 1's random key for KeyID 7 is gone");
        assertEquals(List.of(), m.checkInvariants(), "only online packages are compared");
    }
}
