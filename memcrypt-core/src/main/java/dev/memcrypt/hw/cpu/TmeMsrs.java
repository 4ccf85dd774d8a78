package dev.memcrypt.hw.cpu;

import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.controller.TmeState;
import java.util.List;

/**
 * The TME/MKTME MSRs and their bit layouts (SPEC-FACTS §1: intel/tdx-module msr_defs.h, Linux
 * arch/x86/kernel/cpu/intel.c). Each register is a small {@link Msr}: side-effect-free read,
 * checked write. All are platform-scoped in the model (see {@link TmeState}).
 */
public final class TmeMsrs {
    private TmeMsrs() {}

    // ---- 0x981 IA32_TME_CAPABILITY (read-only)
    public static final int IA32_TME_CAPABILITY = 0x981;
    /** bit 0: AES-XTS-128 supported. */
    public static final long CAP_AES_XTS_128 = 1L;
    /** bit 1: AES-XTS-128 with integrity. */
    public static final long CAP_AES_XTS_128_INTEGRITY = 1L << 1;
    /** bit 2: AES-XTS-256. */
    public static final long CAP_AES_XTS_256 = 1L << 2;
    /** bit 3: AES-XTS-256 with integrity. */
    public static final long CAP_AES_XTS_256_INTEGRITY = 1L << 3;
    /** bit 31: TME encryption bypass supported. */
    public static final long CAP_BYPASS = 1L << 31;
    /** bits 35:32: MK_TME_MAX_KEYID_BITS. */
    public static final int CAP_MAX_KEYID_BITS_SHIFT = 32;
    /** bits 50:36: MK_TME_MAX_KEYS (KeyID 0 not counted). */
    public static final int CAP_MAX_KEYS_SHIFT = 36;

    // ---- 0x982 IA32_TME_ACTIVATE
    public static final int IA32_TME_ACTIVATE = 0x982;
    /** bit 0: lock (set by the first successful write). */
    public static final long ACT_LOCK = 1L;
    /** bit 1: TME enable. */
    public static final long ACT_ENABLE = 1L << 1;
    /** bit 2: key select (0 new random key, 1 restore the saved key). */
    public static final long ACT_KEY_SELECT = 1L << 2;
    /** bit 3: save the key for standby. */
    public static final long ACT_SAVE_KEY = 1L << 3;
    /** bits 7:4: TME policy (0 AES-XTS-128, 1 +integrity, 2 AES-XTS-256). */
    public static final int ACT_POLICY_SHIFT = 4;
    /** bit 31: TME bypass (KeyID 0 not encrypted). */
    public static final long ACT_BYPASS = 1L << 31;
    /** bits 35:32: MK_TME_KEYID_BITS. */
    public static final int ACT_KEYID_BITS_SHIFT = 32;
    /** bits 63:48: MK_TME_CRYPTO_ALGS (bit 48 AES-XTS-128, 49 +integrity, 50 AES-XTS-256, 51 256+integrity). */
    public static final int ACT_ALGS_SHIFT = 48;
    /** bits 30:8 and 47:36: reserved. */
    public static final long ACT_RESERVED = (((1L << 31) - 1) & ~0xffL) | (((1L << 48) - 1) & ~((1L << 36) - 1));

    // ---- 0x983 IA32_TME_EXCLUDE_MASK, 0x984 IA32_TME_EXCLUDE_BASE
    public static final int IA32_TME_EXCLUDE_MASK = 0x983;
    public static final int IA32_TME_EXCLUDE_BASE = 0x984;
    /** EXCLUDE_MASK bit 11: exclusion enable; bits MAXPHYADDR-1:12 the (contiguous) mask. */
    public static final long EXCL_ENABLE = 1L << 11;

    // ---- 0x87 IA32_MKTME_KEYID_PARTITIONING (read-only)
    public static final int IA32_MKTME_KEYID_PARTITIONING = 0x87;
    /** bits 31:0 MKTME KeyIDs; bits 63:32 TDX private KeyIDs (0 in this model). */
    public static final long PART_MKTME_MASK = 0xffff_ffffL;

    /** IA32_TME_CAPABILITY as the configuration fixes it. */
    public static long capability(MachineConfig c) {
        return (c.algorithms() & 0xfL) | (c.bypassSupported() ? CAP_BYPASS : 0) | ((long) c.maxKeyIdBits() << CAP_MAX_KEYID_BITS_SHIFT)
                | ((long) c.maxKeys() << CAP_MAX_KEYS_SHIFT);
    }

    /** The MSR objects to register in a machine. */
    public static List<Msr> all() {
        return List.of(new Capability(), new Activate(), new ExcludeMask(), new ExcludeBase(), new Partitioning());
    }

    private static void needTme(Core c) {
        if (!c.machine().config().tme()) throw new GeneralProtectionFault("TME not enumerated (CPUID.7.0:ECX[13] = 0)");
    }

    static final class Capability implements Msr {
        public int address() { return IA32_TME_CAPABILITY; }
        public String name() { return "IA32_TME_CAPABILITY"; }

        public long read(Core c) {
            needTme(c);
            return capability(c.machine().config());
        }

        public void write(Core c, long v) {
            throw new GeneralProtectionFault("IA32_TME_CAPABILITY is read-only");
        }
    }

    /** IA32_TME_ACTIVATE: the write checks run in the order of SPEC-FACTS §1. */
    static final class Activate implements Msr {
        public int address() { return IA32_TME_ACTIVATE; }
        public String name() { return "IA32_TME_ACTIVATE"; }

        public long read(Core c) {
            needTme(c);
            return c.machine().tme().activateValue();
        }

        public void write(Core c, long v) {
            needTme(c);
            MachineConfig cfg = c.machine().config();
            TmeState tme = c.machine().tme();
            if (tme.locked()) throw new GeneralProtectionFault("IA32_TME_ACTIVATE is locked");
            if ((v & ACT_RESERVED) != 0) throw new GeneralProtectionFault(String.format("IA32_TME_ACTIVATE reserved bits set (0x%x)", v & ACT_RESERVED));
            if ((v & ACT_BYPASS) != 0 && !cfg.bypassSupported()) throw new GeneralProtectionFault("IA32_TME_ACTIVATE bit 31 (bypass) set but bypass not supported");
            int policy = (int) (v >>> ACT_POLICY_SHIFT) & 0xf;
            if (policy > 3 || (cfg.algorithms() & (1 << policy)) == 0) throw new GeneralProtectionFault("TME policy " + policy + " not in IA32_TME_CAPABILITY");
            int bits = (int) (v >>> ACT_KEYID_BITS_SHIFT) & 0xf;
            if (bits > cfg.maxKeyIdBits()) throw new GeneralProtectionFault("MK_TME_KEYID_BITS " + bits + " > MK_TME_MAX_KEYID_BITS " + cfg.maxKeyIdBits());
            boolean enable = (v & ACT_ENABLE) != 0;
            if (bits > 0 && !enable) throw new GeneralProtectionFault("MK_TME_KEYID_BITS " + bits + " with TME enable = 0");
            int algs = (int) (v >>> ACT_ALGS_SHIFT) & 0xffff;
            if ((algs & ~cfg.algorithms()) != 0) throw new GeneralProtectionFault(String.format("MK_TME_CRYPTO_ALGS 0x%x has reserved or unsupported bits", algs));
            if (bits > 0 && cfg.maxPhysAddr() - bits < 32) throw new GeneralProtectionFault("MK_TME_KEYID_BITS leaves fewer than 32 address bits");
            boolean bypass = (v & ACT_BYPASS) != 0;
            XtsKey key = null;
            if (enable) {
                int keyBytes = policy == 2 ? 64 : 32; // policy 2: AES-XTS-256, two 256-bit halves
                if ((v & ACT_KEY_SELECT) == 0) {
                    byte[] raw = new byte[keyBytes];
                    boolean ok = c.machine().entropy().fill(raw);
                    if (ok) key = XtsKey.of(raw);
                    java.util.Arrays.fill(raw, (byte) 0);
                } else if (tme.hasSavedKey() && tme.savedKeyBits() == keyBytes * 4) {
                    key = tme.savedKeyCopy(); // a key saved under another policy does not restore
                }
                if (key == null) { // RNG failure, or nothing saved to restore: reads back ...000b, not locked
                    tme.recordFailedActivation(v);
                    return;
                }
            }
            tme.install(v, enable, bits, bypass, algs, key, (v & ACT_SAVE_KEY) != 0);
        }
    }

    private static long maskField(Core c) {
        return ((1L << c.machine().config().maxPhysAddr()) - 1) & ~0xfffL;
    }

    static final class ExcludeMask implements Msr {
        public int address() { return IA32_TME_EXCLUDE_MASK; }
        public String name() { return "IA32_TME_EXCLUDE_MASK"; }

        public long read(Core c) {
            needTme(c);
            return c.machine().tme().excludeMask();
        }

        public void write(Core c, long v) {
            needTme(c);
            if (c.machine().tme().locked()) throw new GeneralProtectionFault("IA32_TME_EXCLUDE_MASK written after IA32_TME_ACTIVATE lock");
            long field = maskField(c);
            long reserved = ~(field | EXCL_ENABLE);
            if ((v & reserved) != 0) throw new GeneralProtectionFault(String.format("IA32_TME_EXCLUDE_MASK reserved bits set (0x%x)", v & reserved));
            // the mask must be ones from MAXPHYADDR-1 down, then zeros (contiguous)
            long inv = ~v & field;
            long low = inv >>> 12;
            if ((low & (low + 1)) != 0) throw new GeneralProtectionFault(String.format("IA32_TME_EXCLUDE_MASK 0x%x is not contiguous", v & field));
            c.machine().tme().setExcludeMask(v);
        }
    }

    static final class ExcludeBase implements Msr {
        public int address() { return IA32_TME_EXCLUDE_BASE; }
        public String name() { return "IA32_TME_EXCLUDE_BASE"; }

        public long read(Core c) {
            needTme(c);
            return c.machine().tme().excludeBase();
        }

        public void write(Core c, long v) {
            needTme(c);
            if (c.machine().tme().locked()) throw new GeneralProtectionFault("IA32_TME_EXCLUDE_BASE written after IA32_TME_ACTIVATE lock");
            long reserved = ~maskField(c);
            if ((v & reserved) != 0) throw new GeneralProtectionFault(String.format("IA32_TME_EXCLUDE_BASE reserved bits set (0x%x)", v & reserved));
            c.machine().tme().setExcludeBase(v);
        }
    }

    static final class Partitioning implements Msr {
        public int address() { return IA32_MKTME_KEYID_PARTITIONING; }
        public String name() { return "IA32_MKTME_KEYID_PARTITIONING"; }

        public long read(Core c) {
            needTme(c);
            return c.machine().mktmeKeyIds() & PART_MKTME_MASK;
        }

        public void write(Core c, long v) {
            throw new GeneralProtectionFault("IA32_MKTME_KEYID_PARTITIONING is read-only");
        }
    }
}
