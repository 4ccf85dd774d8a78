package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.util.Hex;
import org.junit.jupiter.api.Test;

class MachineSmokeTest {
    @Test
    void storeLoadRoundTripThroughCachesAndDram() {
        Machine m = Machine.powerOn(MachineConfig.defaults());
        byte[] data = "hello, encrypted world".getBytes();
        m.pstore(0, 0x10030, 0, data);
        assertArrayEquals(data, m.pload(1, 0x10030, 0, data.length));
        assertArrayEquals(data, m.pload(3, 0x10030, 0, data.length));
        m.clflush(0, 0x10030, 0);
        assertFalse(Hex.of(m.dram().read(0x10030, data.length)).equals(Hex.of(data)));
        assertArrayEquals(data, m.pload(2, 0x10030, 0, data.length));
        PconfigResult r = m.core(0).pconfig(5, PconfigCommand.SET_KEY_RANDOM, KeyProgram.ALG_AES_XTS_128, null, null);
        assertTrue(r.ok(), r.toString());
        assertEquals(java.util.List.of(), m.checkInvariants().stream().filter(s -> !s.contains("disagree")).toList());
    }
}
