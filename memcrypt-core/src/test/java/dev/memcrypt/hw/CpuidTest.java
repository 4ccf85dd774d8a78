package dev.memcrypt.hw;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cpu.CpuidResult;
import org.junit.jupiter.api.Test;

/** CPUID conformance (SPEC-FACTS §1 "Enumeration"). */
class CpuidTest {
    @Test
    void leaf0ReportsGenuineIntelAndMaxLeafCoveringPconfigLeaf() {
        CpuidResult r = Hw.machine().core(0).cpuid(0, 0);
        assertTrue(r.eax() >= 0x1b);
        byte[] v = new byte[12];
        int[] regs = {r.ebx(), r.edx(), r.ecx()};
        for (int i = 0; i < 12; i++) v[i] = (byte) (regs[i / 4] >>> (8 * (i % 4)));
        assertEquals("GenuineIntel", new String(v));
    }

    @Test
    void leaf1ReportsApicIdClflushSizeAndNoHypervisor() {
        Machine m = Hw.machine();
        CpuidResult r = m.core(3).cpuid(1, 0);
        assertEquals(3, r.ebx() >>> 24);
        assertEquals(8, (r.ebx() >>> 8) & 0xff, "CLFLUSH line size in 8-byte units");
        assertEquals(0, r.ecx() & (1 << 31));
        assertNotEquals(0, r.edx() & (1 << 19), "CLFSH");
    }

    @Test
    void leaf7Ecx13EnumeratesTme() {
        assertNotEquals(0, Hw.machine().core(0).cpuid(7, 0).ecx() & (1 << 13));
        assertEquals(0, Hw.machine("tme=false").core(0).cpuid(7, 0).ecx() & (1 << 13));
    }

    @Test
    void leaf7Edx18EnumeratesPconfig() {
        assertNotEquals(0, Hw.machine().core(0).cpuid(7, 0).edx() & (1 << 18));
        assertEquals(0, Hw.machine("pconfig=false").core(0).cpuid(7, 0).edx() & (1 << 18));
    }

    @Test
    void leaf7NonZeroSubleafIsEmpty() {
        assertEquals(CpuidResult.ZERO, Hw.machine().core(0).cpuid(7, 1));
    }

    @Test
    void leaf1bSubleafScanFindsMktmeTargetThenInvalid() {
        Machine m = Hw.machine();
        CpuidResult s0 = m.core(0).cpuid(0x1b, 0);
        assertEquals(1, s0.eax() & 0xfff, "sub-leaf type 1: target identifiers");
        assertEquals(1, s0.ebx(), "target 1 = MKTME");
        // the scan stops at the first EAX[11:0] = 0 sub-leaf, and every later one is invalid too
        for (int n = 1; n < 8; n++) assertEquals(0, m.core(0).cpuid(0x1b, n).eax() & 0xfff);
    }

    @Test
    void leaf1bEmptyWithoutPconfig() {
        assertEquals(0, Hw.machine("pconfig=false").core(0).cpuid(0x1b, 0).eax() & 0xfff);
    }

    @Test
    void leaf80000008ReportsFullMaxPhysAddrIncludingKeyIdBits() {
        Machine m = Hw.machine("maxphyaddr=52", "max_keyid_bits=6", "keyid_bits=6");
        assertEquals(52, m.core(0).cpuid(0x80000008, 0).eax() & 0xff);
        assertEquals(48, (m.core(0).cpuid(0x80000008, 0).eax() >>> 8) & 0xff);
        assertTrue(Integer.compareUnsigned(m.core(0).cpuid(0x80000000, 0).eax(), 0x80000008) >= 0);
    }

    @Test
    void unknownLeafReturnsZero() {
        assertEquals(CpuidResult.ZERO, Hw.machine().core(0).cpuid(0x12345, 0));
    }
}
