package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.memory.Dram;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sparse DRAM, raw view and images. */
class DramTest {
    @Test
    void oneTebibyteMachineStartsAtOnceAndCostsOnlyTouchedPages() {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("dram", "1T"));
        assertEquals(0, m.dram().pagesTouched());
        m.pstore(0, (1L << 40) - 8192 - 4096 * 4, 0, new byte[] {1});
        m.wbinvdAll();
        assertTrue(m.dram().pagesTouched() <= 4, "touched " + m.dram().pagesTouched());
        assertArrayEquals(new byte[16], m.dram().read(1L << 39, 16), "never-written memory reads zero");
    }

    @Test
    void rawWriteAndReadBypassCaches() {
        Machine m = Hw.machine("bypass=true");
        m.dram().write(0x1000, Hw.bytes(64, 1));
        assertArrayEquals(Hw.bytes(64, 1), m.pload(0, 0x1000, 0, 64));
        m.dram().write(0x1000, Hw.bytes(64, 2));
        assertArrayEquals(Hw.bytes(64, 1), m.pload(0, 0x1000, 0, 64), "cached copy is not updated by a raw write");
        m.clflush(0, 0x1000, 0);
        assertArrayEquals(Hw.bytes(64, 2), m.pload(0, 0x1000, 0, 64));
    }

    @Test
    void rawReadSeesPostedWriteBacks() {
        Machine m = Hw.machine("bypass=true");
        for (int i = 0; i < 8; i++) m.pstore(0, 0x2000 + 64 * i, 0, Hw.bytes(64, i));
        m.wbinvd(0);
        for (int i = 0; i < 8; i++) assertArrayEquals(Hw.bytes(64, i), m.dram().read(0x2000 + 64 * i, 64));
    }

    @Test
    void outOfRangeRawAccessRejected() {
        Dram d = new Dram(1 << 20);
        assertThrows(IllegalArgumentException.class, () -> d.read((1 << 20) - 4, 8));
        assertThrows(IllegalArgumentException.class, () -> d.write(-1, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> new Dram(1000));
    }

    @Test
    void saveImageWritesPhysicalLayout(@TempDir Path dir) throws Exception {
        Machine m = Hw.machine();
        m.pstore(0, 0x5000, 0, Hw.bytes(64, 9));
        m.wbinvdAll();
        Path img = dir.resolve("dram.img");
        m.dram().saveImage(img);
        assertEquals(m.config().dramBytes(), Files.size(img));
        byte[] all = new byte[64];
        try (var ch = java.nio.channels.FileChannel.open(img)) {
            ch.read(java.nio.ByteBuffer.wrap(all), 0x5000);
        }
        assertArrayEquals(m.dram().read(0x5000, 64), all);
    }
}
