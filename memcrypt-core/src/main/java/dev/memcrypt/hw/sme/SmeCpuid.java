package dev.memcrypt.hw.sme;

import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cpu.CpuidResult;

/**
 * CPUID Fn8000_001F, AMD memory-encryption enumeration (SPEC-FACTS §4; Linux
 * Documentation/arch/x86/amd-memory-encryption.rst). The one place that knows the layout.
 */
public final class SmeCpuid {
    private SmeCpuid() {}

    /** The leaf. CPUID 0x80000000 EAX reports at least this when SME is enumerated. */
    public static final int LEAF = 0x8000001F;
    /** EAX bit 0: SME supported. */
    public static final int EAX_SME = 1;
    /** EAX bit 1: SEV supported (never in this model: no SEV guests). */
    public static final int EAX_SEV = 1 << 1;
    /** EBX bits 5:0: page-table bit position of the C-bit. */
    public static final int EBX_CBIT_MASK = 0x3f;
    /** EBX bits 11:6: physical-address bits lost when memory encryption is enabled. */
    public static final int EBX_PHYS_LOST_SHIFT = 6;
    public static final int EBX_PHYS_LOST_MASK = 0x3f;
    /** CPUID.1:ECX bit 31: running under a hypervisor; Linux then refuses SME. */
    public static final int CPUID1_ECX_HYPERVISOR = 1 << 31;

    /** The leaf as this machine reports it. ECX (encrypted guests) and EDX (minimum SEV ASID) are 0: no SEV. */
    public static CpuidResult leaf(MachineConfig c) {
        if (!c.sme()) return CpuidResult.ZERO;
        int ebx = (c.cBit() & EBX_CBIT_MASK) | (c.smePhysBitsLost() & EBX_PHYS_LOST_MASK) << EBX_PHYS_LOST_SHIFT;
        return new CpuidResult(EAX_SME, ebx, 0, 0);
    }

    public static boolean sme(CpuidResult r) {
        return (r.eax() & EAX_SME) != 0;
    }

    public static int cBit(CpuidResult r) {
        return r.ebx() & EBX_CBIT_MASK;
    }

    public static int physBitsLost(CpuidResult r) {
        return (r.ebx() >>> EBX_PHYS_LOST_SHIFT) & EBX_PHYS_LOST_MASK;
    }
}
