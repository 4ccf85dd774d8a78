package dev.memcrypt.hw.sme;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.Msr;
import java.util.List;

/**
 * The AMD MSRs of the SME variant and their bit layouts (SPEC-FACTS §4; AMD APM Vol. 2 §7.10,
 * Linux arch/x86/include/asm/msr-index.h MSR_AMD64_SYSCFG, MSR_K7_HWCR).
 *
 * <h2>SYSCFG 0xC001_0010</h2>
 * Modelled fields: bits 17..21 the MTRR/TOM2 DRAM controls (stored, no effect in the model) and
 * bit 23 MemEncryptionModEn. Model choices, where no public text fixes the behaviour:
 * <ul>
 * <li>Every other bit is treated as reserved: WRMSR with one set raises #GP (AMD MBZ rule).
 * <li>Setting bit 23 on a part without SME (CPUID 0x8000001F EAX[0] = 0) or without a platform
 *   key raises #GP.
 * <li>Lock: firmware enables SME and then sets HWCR[SmmLock] (0xC001_0015 bit 0), which is
 *   write-once. Once locked, a WRMSR that would change bit 23 raises #GP (on real parts locked
 *   fields are firmware-owned; the model makes an attempt visible). Other fields stay writable.
 * <li>Bit 23 is read by the controller on every fill and write-back: flipping it while lines are
 *   cached is the software's problem, as on hardware (posted write-backs are settled first).
 * </ul>
 */
public final class SmeMsrs {
    private SmeMsrs() {}

    // ---- 0xC0010010 SYSCFG
    public static final long SYSCFG = 0xC0010010L;
    /** bit 17 MtrrFixDramEn. */
    public static final long SYSCFG_MTRR_FIX_DRAM_EN = 1L << 17;
    /** bit 18 MtrrFixDramModEn. */
    public static final long SYSCFG_MTRR_FIX_DRAM_MOD_EN = 1L << 18;
    /** bit 19 MtrrVarDramEn. */
    public static final long SYSCFG_MTRR_VAR_DRAM_EN = 1L << 19;
    /** bit 20 MtrrTom2En. */
    public static final long SYSCFG_MTRR_TOM2_EN = 1L << 20;
    /** bit 21 Tom2ForceMemTypeWB. */
    public static final long SYSCFG_TOM2_FORCE_WB = 1L << 21;
    /** bit 23 MemEncryptionModEn: SME enabled (SPEC-FACTS §4). */
    public static final long SYSCFG_MEM_ENCRYPTION_MOD_EN = 1L << 23;
    /** The bits the model defines; every other bit is reserved (#GP if set). */
    public static final long SYSCFG_DEFINED = SYSCFG_MTRR_FIX_DRAM_EN | SYSCFG_MTRR_FIX_DRAM_MOD_EN | SYSCFG_MTRR_VAR_DRAM_EN
            | SYSCFG_MTRR_TOM2_EN | SYSCFG_TOM2_FORCE_WB | SYSCFG_MEM_ENCRYPTION_MOD_EN;

    // ---- 0xC0010015 HWCR
    public static final long HWCR = 0xC0010015L;
    /** bit 0 SmmLock: write-once; locks firmware-owned configuration (here SYSCFG bit 23). */
    public static final long HWCR_SMM_LOCK = 1L;

    public static List<Msr> all(SmeState s, boolean smeEnumerated) {
        return List.of(new Syscfg(s, smeEnumerated), new Hwcr(s));
    }

    static final class Syscfg implements Msr {
        private final SmeState s;
        private final boolean sme;

        Syscfg(SmeState s, boolean sme) {
            this.s = s;
            this.sme = sme;
        }

        @Override
        public int address() {
            return (int) SYSCFG;
        }

        @Override
        public String name() {
            return "SYSCFG";
        }

        @Override
        public long read(Core core) {
            return s.syscfg();
        }

        @Override
        public void write(Core core, long v) {
            if ((v & ~SYSCFG_DEFINED) != 0) throw new GeneralProtectionFault(String.format("SYSCFG reserved bits set: 0x%x", v & ~SYSCFG_DEFINED));
            boolean en = (v & SYSCFG_MEM_ENCRYPTION_MOD_EN) != 0;
            if (en && !sme) throw new GeneralProtectionFault("SYSCFG[MemEncryptionModEn] set but SME is not enumerated");
            if (en && !s.hasKey()) throw new GeneralProtectionFault("SYSCFG[MemEncryptionModEn] set but no platform key was generated");
            if (s.locked() && en != s.enabled()) throw new GeneralProtectionFault("SYSCFG[MemEncryptionModEn] is locked (HWCR[SmmLock] = 1)");
            s.installSyscfg(v);
        }
    }

    static final class Hwcr implements Msr {
        private final SmeState s;

        Hwcr(SmeState s) {
            this.s = s;
        }

        @Override
        public int address() {
            return (int) HWCR;
        }

        @Override
        public String name() {
            return "HWCR";
        }

        @Override
        public long read(Core core) {
            return s.locked() ? HWCR_SMM_LOCK : 0;
        }

        @Override
        public void write(Core core, long v) {
            if ((v & ~HWCR_SMM_LOCK) != 0) throw new GeneralProtectionFault(String.format("HWCR bits not modelled: 0x%x", v & ~HWCR_SMM_LOCK));
            if (s.locked() && (v & HWCR_SMM_LOCK) == 0) throw new GeneralProtectionFault("HWCR[SmmLock] is write-once");
            if ((v & HWCR_SMM_LOCK) != 0) s.lock();
        }
    }
}
