package dev.memcrypt.hw.controller;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Posted zero pages (speed only): whatever observes DRAM sees exactly what eager zeroing gives.
 * Each test runs the same steps on a machine with posting and on one without (the reference).
 */
class PostedZeroPageTest {
    static final long PA = 0x200000;
    static final int KEYID = 3;

    private static Machine machine(boolean posting, String... opts) {
        Machine m = Hw.machine(opts);
        Hw.directAll(m, KEYID, Hw.key16(7), Hw.key16(8));
        if (!posting) for (var p : m.packages()) p.controller().setZeroLimit(0);
        return m;
    }

    private static MemoryController home(Machine m) {
        return m.pkg(m.homePackage(PA)).controller();
    }

    /** clear_page through the KeyID, as the page allocator does. */
    private static void clearPage(Machine m, long pa) {
        m.pstoreStream(0, pa, KEYID, new byte[4096]);
    }

    @Test
    void rawReadOfAPendingZeroPageShowsTheEncryptedZeros() {
        Machine a = machine(true), b = machine(false);
        clearPage(a, PA);
        clearPage(b, PA);
        assertEquals(1, home(a).zeroPending());
        assertEquals(0, home(b).zeroPending());
        assertArrayEquals(b.dram().read(PA, 4096), a.dram().read(PA, 4096));
        assertEquals(0, home(a).zeroPending(), "the raw read materialized it");
        assertArrayEquals(new byte[4096], a.pload(1, PA, KEYID, 4096), "and it decrypts to zeros");
    }

    @Test
    void aZeroPageOverwrittenEntirelyIsDroppedAndDramIsTheSame() {
        Machine a = machine(true), b = machine(false);
        byte[] data = Hw.bytes(4096, 5);
        for (Machine m : new Machine[] {a, b}) {
            clearPage(m, PA);
            m.pstore(0, PA, KEYID, data); // the user's first touch writes the whole page (in the caches)
            m.wbinvdAll(); // ... and it is written back
        }
        assertEquals(0, home(a).zeroPending());
        assertEquals(0, home(a).zeroMaterialized(), "the zeros never needed encrypting");
        assertArrayEquals(b.dram().read(PA, 4096), a.dram().read(PA, 4096));
    }

    @Test
    void aPartlyOverwrittenZeroPageKeepsItsZerosInTheOtherLines() {
        Machine a = machine(true), b = machine(false);
        for (Machine m : new Machine[] {a, b}) {
            clearPage(m, PA);
            m.pstore(0, PA + 640, KEYID, Hw.bytes(192, 9)); // whole lines: no fill, so nothing reads the page yet
            m.clflushRange(0, PA + 640, KEYID, 192);
        }
        assertEquals(1, home(a).zeroPending());
        assertArrayEquals(b.pload(2, PA, KEYID, 4096), a.pload(2, PA, KEYID, 4096));
        assertArrayEquals(b.dram().read(PA, 4096), a.dram().read(PA, 4096));
    }

    @Test
    void aKeyChangeMaterializesPendingZeroPagesUnderTheOldKey() {
        Machine a = machine(true), b = machine(false);
        for (Machine m : new Machine[] {a, b}) {
            clearPage(m, PA);
            Hw.directAll(m, KEYID, Hw.key16(1), Hw.key16(2)); // the old key is wiped after the controllers settle
        }
        assertEquals(0, home(a).zeroPending());
        assertArrayEquals(b.dram().read(PA, 4096), a.dram().read(PA, 4096));
    }

    @Test
    void pagesTouchedAndSaveImageSeePendingZeroPages(@TempDir Path dir) throws Exception {
        Machine a = machine(true), b = machine(false);
        clearPage(a, PA);
        clearPage(b, PA);
        clearPage(a, PA + 8192);
        clearPage(b, PA + 8192);
        a.dram().saveImage(dir.resolve("a.img"));
        b.dram().saveImage(dir.resolve("b.img"));
        assertEquals(-1, Files.mismatch(dir.resolve("a.img"), dir.resolve("b.img")));
        clearPage(a, PA + 3 * 4096);
        clearPage(b, PA + 3 * 4096);
        assertEquals(b.dram().pagesTouched(), a.dram().pagesTouched());
    }

    @Test
    void aMachineBootedOnTheSameDramSeesTheZeroPagesTheOldOnePosted() {
        Machine a = machine(true), b = machine(false);
        clearPage(a, PA);
        clearPage(b, PA);
        MachineConfig c = a.config();
        Machine a2 = Machine.powerOn(c, Entropy.seeded(99L), a.dram()), b2 = Machine.powerOn(c, Entropy.seeded(99L), b.dram());
        assertArrayEquals(b2.dram().read(PA, 4096), a2.dram().read(PA, 4096));
    }

    @Test
    void theBoundMaterializesTheOldestFirst() {
        Machine a = machine(true);
        home(a).setZeroLimit(2);
        for (int i = 0; i < 3; i++) clearPage(a, PA + i * 4096L);
        assertEquals(2, home(a).zeroPending());
        assertEquals(1, home(a).zeroMaterialized());
        assertNotNull(a.dram().read(PA, 3 * 4096)); // settles the rest
        assertEquals(0, home(a).zeroPending());
    }

    @Test
    void plaintextZeroPagesUnderNoEncryptArePostedToo() {
        Machine a = machine(true), b = machine(false);
        for (Machine m : new Machine[] {a, b}) {
            for (var p : m.packages()) p.cores().get(0).pconfig(4, dev.memcrypt.hw.cpu.PconfigCommand.NO_ENCRYPT, dev.memcrypt.hw.cpu.KeyProgram.ALG_AES_XTS_128, null, null);
            m.dram().write(PA, Hw.bytes(4096, 3)); // old contents that the zeroing must replace
            m.pstoreStream(0, PA, 4, new byte[4096]);
        }
        assertEquals(1, home(a).zeroPending());
        assertArrayEquals(new byte[4096], a.dram().read(PA, 4096));
        assertArrayEquals(b.dram().read(PA, 4096), a.dram().read(PA, 4096));
    }
}
