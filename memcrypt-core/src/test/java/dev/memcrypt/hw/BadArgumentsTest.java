package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cpu.KeyProgram;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Caller bugs give IllegalArgumentException naming the value and leave the machine consistent. */
class BadArgumentsTest {
    static void iae(String expect, Runnable r) {
        String msg = assertThrows(IllegalArgumentException.class, r::run).getMessage();
        assertTrue(msg.contains(expect), msg);
    }

    @Test
    void badPhysicalAccessesRejectedWithoutSideEffects() {
        Machine m = Hw.machine();
        m.pstore(0, 0x1000, 0, Hw.bytes(64, 1));
        iae("KeyID 64", () -> m.pstore(0, 0x1000, 64, new byte[8]));
        iae("KeyID -1", () -> m.pload(0, 0x1000, -1, 8));
        iae("outside DRAM", () -> m.pstore(0, m.config().dramBytes() - 4, 0, new byte[8]));
        iae("no cpu 7", () -> m.pload(7, 0x1000, 0, 8));
        iae("negative length", () -> m.pload(0, 0x1000, 0, -1));
        iae("bits at or above", () -> m.pload(0, 1L << 40, 0, 1));
        iae("data must not be null", () -> m.pstore(0, 0x1000, 0, null));
        assertArrayEquals(Hw.bytes(64, 1), m.pload(0, 0x1000, 0, 64));
        assertEquals(List.of(), m.checkInvariants());
    }

    @Test
    void keyIdAboveZeroRejectedBeforeActivation() {
        Machine m = Hw.machine("activate=false");
        iae("KeyID 1 out of range 0..0", () -> m.pload(0, 0x1000, 1, 8));
    }

    @Test
    void badConfigurationRejected() {
        iae("unknown machine option", () -> MachineConfig.defaults().with("bogus", "1"));
        iae("keyid_bits", () -> MachineConfig.defaults().with("keyid_bits", "9"));
        iae("firmware could not activate", () -> Machine.powerOn(MachineConfig.defaults().with("algorithms", "4").with("l1", "4K"))); // policy 0 (AES-XTS-128) not in the capability
    }

    @Test
    void badKeyProgramArgumentsRejected() {
        iae("keyid 65536", () -> KeyProgram.build(65536, 0, 1, 0, null, null));
        iae("longer than 64", () -> KeyProgram.build(1, 0, 1, 0, new byte[65], null));
        iae("192..256", () -> Hw.machine().core(0).pconfig(new byte[10]));
    }

    @Test
    void badCplAndEntropyRejected() {
        Machine m = Hw.machine();
        iae("CPL must be 0..3", () -> m.core(0).setCpl(4));
        iae("entropy must not be null", () -> m.setEntropy(null));
    }
}
