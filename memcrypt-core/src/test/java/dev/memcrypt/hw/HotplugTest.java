package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.controller.KeyTable;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CPU hotplug: cores and packages offline/online; a powered-off package loses its key table. */
class HotplugTest {
    static final byte[] K1 = Hw.key16(41), K2 = Hw.key16(42);

    @Test
    void offlineCoreWritesBackItsL1AndRefusesAccess() {
        Machine m = Hw.machine();
        m.pstore(1, 0x1000, 0, Hw.bytes(64, 1));
        m.cpuOffline(1);
        assertFalse(m.isOnline(1));
        assertEquals(0, m.caches().l1(1).validLines());
        assertArrayEquals(Hw.bytes(64, 1), m.pload(0, 0x1000, 0, 64));
        assertThrows(IllegalArgumentException.class, () -> m.pload(1, 0x1000, 0, 8));
        assertTrue(m.pkg(0).powered(), "cpu 0 keeps package 0 powered");
        assertEquals(KeyTable.Mode.TME, m.pkg(0).keyTable().get(1).mode());
    }

    @Test
    void lastCoreOfPackageOfflinePowersPackageOffAndLosesKeyTable() {
        Machine m = Hw.machine();
        Hw.directAll(m, 3, K1, K2);
        m.pstore(2, 0x2002000L, 3, Hw.bytes(64, 2)); // dirty in package 1 under KeyID 3, homed at package 1 (32M..64M)
        m.cpuOffline(2);
        m.cpuOffline(3);
        assertFalse(m.pkg(1).powered());
        assertEquals(0, m.caches().llc(1).validLines());
        assertEquals(KeyTable.Mode.TME, m.pkg(1).keyTable().get(3).mode(), "key table lost");
        assertArrayEquals(ControllerTest.expectedXts(K1, K2, 0x2002000L, Hw.bytes(64, 2)), m.dram().read(0x2002000L, 64),
                "dirty lines were written back with the key still present");
        assertEquals(List.of(), m.checkInvariants(), "only online packages are compared");
    }

    @Test
    void dataUnderKeyIdIsGarbageAfterPackagePowerCycleUntilReprogrammed() {
        Machine m = Hw.machine();
        Hw.directAll(m, 3, K1, K2);
        m.pstore(2, 0x2002000L, 3, Hw.bytes(64, 2));
        m.cpuOffline(2);
        m.cpuOffline(3);
        m.cpuOnline(2);
        assertTrue(m.pkg(1).powered());
        assertFalse(Arrays.equals(Hw.bytes(64, 2), m.pload(2, 0x2002000L, 3, 64)), "KeyID 3 falls back to the TME key");
        assertTrue(m.checkInvariants().stream().anyMatch(s -> s.contains("disagree on KeyID 3")));
        m.clflush(2, 0x2002000L, 3);
        Hw.direct(m, 2, 3, K1, K2);
        assertArrayEquals(Hw.bytes(64, 2), m.pload(2, 0x2002000L, 3, 64));
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void onlinedCoreStartsAtCpl0WithPagingOff() {
        Machine m = Hw.machine();
        m.core(1).setCpl(3);
        m.core(1).setPagingEnabled(true);
        m.cpuOffline(1);
        m.cpuOnline(1);
        assertEquals(0, m.core(1).cpl());
        assertFalse(m.core(1).pagingEnabled());
        assertEquals(0, m.mmu(1).cr3());
    }

    @Test
    void lastOnlineCpuCannotGoOffline() {
        Machine m = Hw.machine("packages=1", "cores=2");
        m.cpuOffline(0);
        assertThrows(IllegalArgumentException.class, () -> m.cpuOffline(1));
        assertTrue(m.isOnline(1));
    }

    @Test
    void doubleOfflineOrOnlineRejected() {
        Machine m = Hw.machine();
        assertThrows(IllegalArgumentException.class, () -> m.cpuOnline(0));
        m.cpuOffline(0);
        assertThrows(IllegalArgumentException.class, () -> m.cpuOffline(0));
        assertThrows(IllegalArgumentException.class, () -> m.cpuOffline(9));
    }

    @Test
    void tmeKeyAndActivationSurvivePackagePowerCycle() {
        Machine m = Hw.machine();
        m.pstore(0, 0x3000, 0, Hw.bytes(64, 3));
        m.wbinvdAll();
        m.cpuOffline(0);
        m.cpuOffline(1);
        m.cpuOnline(0);
        assertArrayEquals(Hw.bytes(64, 3), m.pload(0, 0x3000, 0, 64), "KeyID 0 (TME key) still decrypts");
        assertEquals(0b011, m.core(0).rdmsr(0x982) & 0b111);
    }
}
