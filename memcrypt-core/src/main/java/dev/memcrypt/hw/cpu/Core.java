package dev.memcrypt.hw.cpu;

import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.hw.controller.TmeState;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import dev.memcrypt.hw.mmu.Mmu;
import java.util.Arrays;

/**
 * One logical CPU: CPUID, RDMSR/WRMSR, PCONFIG, its privilege level and its MMU. Memory accesses
 * go through {@link Machine} (physical) or {@link #mmu()} (linear).
 */
public final class Core {
    // ---- CPUID bit layout (SPEC-FACTS §1; Intel SDM Vol. 2A CPUID)
    /** CPUID.(7,0):ECX[13]: TME enumerated. */
    public static final int CPUID7_ECX_TME = 1 << 13;
    /** CPUID.(7,0):ECX[3]: PKU, protection keys for user pages (always enumerated by the model). */
    public static final int CPUID7_ECX_PKU = 1 << 3;
    /** CPUID.(7,0):ECX[4]: OSPKE, a copy of CR4.PKE. */
    public static final int CPUID7_ECX_OSPKE = 1 << 4;
    /** CPUID.(7,0):EDX[18]: PCONFIG enumerated. */
    public static final int CPUID7_EDX_PCONFIG = 1 << 18;
    /** CPUID.0x1B.n:EAX[11:0]: sub-leaf type, 0 invalid, 1 = target identifiers in EBX/ECX/EDX. */
    public static final int CPUID1B_TYPE_TARGETS = 1;
    /** PCONFIG target identifier 1: MKTME. */
    public static final int PCONFIG_TARGET_MKTME = 1;
    /** Highest basic leaf the model implements. */
    public static final int MAX_BASIC_LEAF = 0x1b;
    public static final int MAX_EXT_LEAF = 0x80000008;
    /** CPUID.1:EDX bits: FPU(0), TSC(4), MSR(5), CLFSH(19). */
    public static final int CPUID1_EDX = 1 | 1 << 4 | 1 << 5 | 1 << 19;
    /** CPUID.1:ECX bit 31: running under a hypervisor (MachineConfig.hypervisor). */
    public static final int CPUID1_ECX_HYPERVISOR = 1 << 31;

    // ---- RFLAGS (SDM Vol. 1 §3.4.3)
    public static final long RFLAGS_CF = 1L, RFLAGS_PF = 1L << 2, RFLAGS_AF = 1L << 4, RFLAGS_ZF = 1L << 6, RFLAGS_SF = 1L << 7, RFLAGS_OF = 1L << 11;
    /** OF, SF, ZF, AF, PF, CF: the status flags Key Locker and PCONFIG define. */
    public static final long RFLAGS_STATUS = RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF;

    // ---- CR4 (SDM Vol. 3A §2.5)
    /** CR4.VMXE (bit 13). */
    public static final long CR4_VMXE = 1L << 13;
    /** CR4.KL (bit 19): Key Locker enabled (SPEC-FACTS §3). */
    public static final long CR4_KL = 1L << 19;
    /** CR4.PKE (bit 22): protection keys for user-mode pages (SDM Vol. 3A §4.6.2); enables RDPKRU/WRPKRU. */
    public static final long CR4_PKE = 1L << 22;
    // ---- PKRU (SDM Vol. 3A §2.7): for protection key i, bit 2i AD (access disable), bit 2i+1 WD (write disable)
    /** PKRU AD bit of key {@code i}. */
    public static int pkruAd(int i) {
        return 1 << (2 * i);
    }

    /** PKRU WD bit of key {@code i}. */
    public static int pkruWd(int i) {
        return 1 << (2 * i + 1);
    }
    /** CR4 bits the model treats as reserved: 15 and 26..63 (MOV to CR4 #GP). */
    public static final long CR4_RESERVED = 1L << 15 | -(1L << 26);

    private final Machine machine;
    private final int id;
    private final CpuPackage pkg;
    private final Mmu mmu;
    private int cpl;
    private boolean online = true;
    private boolean paging;
    private long rflags = 0x2;
    private long cr4;
    private int pkru;
    private final XmmFile xmm = new XmmFile();
    private final KeyLockerUnit keyLocker;
    private VmxNonRoot vmx; // null = VMX root operation (or VMX off)

    public Core(Machine machine, int id, CpuPackage pkg) {
        this.machine = machine;
        this.id = id;
        this.pkg = pkg;
        this.mmu = new Mmu(machine, this);
        this.keyLocker = new KeyLockerUnit(this);
    }

    public Machine machine() {
        return machine;
    }

    public int id() {
        return id;
    }

    public CpuPackage pkg() {
        return pkg;
    }

    public Mmu mmu() {
        return mmu;
    }

    public int cpl() {
        return cpl;
    }

    /** Sets the current privilege level (0..3). */
    public void setCpl(int cpl) {
        if (cpl < 0 || cpl > 3) throw new IllegalArgumentException("CPL must be 0..3, got " + cpl);
        this.cpl = cpl;
    }

    public boolean online() {
        return online;
    }

    /** For {@link Machine}'s hotplug: also resets the architectural state an INIT/SIPI resets. */
    public void setOnline(boolean on) {
        online = on;
        if (on) {
            cpl = 0;
            paging = false;
            mmu.reset();
        } else {
            powerLoss();
        }
    }

    /** What a core loses when it powers off (hotplug, S3): registers, CR4, IWKey. */
    public void powerLoss() {
        xmm.clear();
        cr4 = 0;
        pkru = 0;
        rflags = 0x2;
        vmx = null;
        keyLocker.powerLoss();
    }

    /** CR0.PG: whether PCONFIG's RBX is a linear address (translated by the MMU) or physical. */
    public boolean pagingEnabled() {
        return paging;
    }

    public void setPagingEnabled(boolean on) {
        paging = on;
    }

    public long rflags() {
        return rflags;
    }

    /** Sets RFLAGS (POPF; instruction implementations set their status flags through this). Bit 1 always reads 1. */
    public void setRflags(long v) {
        rflags = v | 0x2;
    }

    /** RFLAGS.ZF. */
    public boolean zf() {
        return (rflags & RFLAGS_ZF) != 0;
    }

    /** Clears OF, SF, AF, PF, CF and sets ZF as given (Key Locker's flag rule). */
    public void setStatusFlags(boolean zf) {
        rflags = (rflags & ~RFLAGS_STATUS) | (zf ? RFLAGS_ZF : 0);
    }

    /** XMM0..XMM15. */
    public XmmFile xmm() {
        return xmm;
    }

    public long cr4() {
        return cr4;
    }

    /**
     * MOV to CR4: #GP at CPL > 0, for reserved bits, or for CR4.KL when Key Locker is not
     * enumerated (CPUID.7.0:ECX[23] = 0). In VMX non-root operation a change of a bit owned by the
     * hypervisor (CR4 guest/host mask) exits with reason 28.
     */
    public void writeCr4(long v) {
        if (cpl > 0) throw new GeneralProtectionFault("MOV to CR4 at CPL " + cpl);
        if ((v & CR4_RESERVED) != 0) throw new GeneralProtectionFault(String.format("MOV to CR4 with reserved bits 0x%x", v & CR4_RESERVED));
        if ((v & CR4_KL) != 0 && !machine.config().keyLocker()) throw new GeneralProtectionFault("CR4.KL set but Key Locker is not enumerated");
        if (vmx != null && ((v ^ cr4) & vmx.cr4Exits()) != 0) throw new VmExit(VmExit.CR_ACCESS, v, "MOV to CR4");
        cr4 = v;
    }

    /**
     * RDPKRU (any CPL): EAX = PKRU. #UD when CR4.PKE = 0; #GP when ECX is not 0 (SDM Vol. 2B).
     */
    public int rdpkru(long ecx) {
        if ((cr4 & CR4_PKE) == 0) throw new InvalidOpcodeFault("RDPKRU with CR4.PKE = 0");
        if (ecx != 0) throw new GeneralProtectionFault(String.format("RDPKRU with ECX = 0x%x (must be 0)", ecx));
        return pkru;
    }

    /**
     * WRPKRU (any CPL): PKRU = EAX. #UD when CR4.PKE = 0; #GP when ECX or EDX is not 0. Takes
     * effect on the next access; the TLB is not flushed (PKRU is checked on every access).
     */
    public void wrpkru(long eax, long ecx, long edx) {
        if ((cr4 & CR4_PKE) == 0) throw new InvalidOpcodeFault("WRPKRU with CR4.PKE = 0");
        if (ecx != 0 || edx != 0) throw new GeneralProtectionFault(String.format("WRPKRU with ECX = 0x%x, EDX = 0x%x (both must be 0)", ecx, edx));
        pkru = (int) eax;
    }

    /** PKRU as the MMU reads it (no fault: the register's value whatever CR4.PKE says). */
    public int pkru() {
        return pkru;
    }

    /** The core's Key Locker unit: IWKey and the Key Locker instructions (dev.memcrypt.hw.keylocker). */
    public KeyLockerUnit keyLocker() {
        return keyLocker;
    }

    // ------------------------------------------------------------------ VMX

    /** The non-root controls in force, or null in VMX root operation. */
    public VmxNonRoot vmx() {
        return vmx;
    }

    /** VM entry: the core runs guest code under {@code controls} until {@link #vmExitToRoot}. */
    public void vmEnter(VmxNonRoot controls) {
        if (controls == null) throw new IllegalArgumentException("VM entry needs controls");
        vmx = controls;
    }

    /** Back to VMX root operation (after a VM exit). */
    public void vmExitToRoot() {
        vmx = null;
    }

    // ------------------------------------------------------------------ CPUID

    public CpuidResult cpuid(int leaf, int subleaf) {
        if (vmx != null) throw new VmExit(VmExit.CPUID, leaf, "CPUID");
        MachineConfig c = machine.config();
        switch (leaf) {
            case 0:
                if (c.sme()) return new CpuidResult(MAX_BASIC_LEAF, 0x68747541, 0x444d4163, 0x69746e65); // "AuthenticAMD"
                return new CpuidResult(MAX_BASIC_LEAF, 0x756e6547, 0x6c65746e, 0x49656e69); // "GenuineIntel"
            case 1: {
                int ebx = 8 << 8 | (Math.min(c.coresPerPackage(), 255) << 16) | (id & 0xff) << 24;
                return new CpuidResult(0x000606a6, ebx, c.hypervisor() ? CPUID1_ECX_HYPERVISOR : 0, CPUID1_EDX);
            }
            case 7:
                if (subleaf != 0) return CpuidResult.ZERO;
                return new CpuidResult(0, 0, CPUID7_ECX_PKU | ((cr4 & CR4_PKE) != 0 ? CPUID7_ECX_OSPKE : 0) | (c.tme() ? CPUID7_ECX_TME : 0)
                        | (c.keyLocker() ? KeyLockerUnit.CPUID7_ECX_KL : 0),
                        c.pconfig() ? CPUID7_EDX_PCONFIG : 0);
            case KeyLockerUnit.CPUID_LEAF:
                return subleaf == 0 ? keyLocker.cpuid19() : CpuidResult.ZERO;
            case 0x1b:
                if (!c.pconfig() || subleaf != 0) return CpuidResult.ZERO;
                return new CpuidResult(CPUID1B_TYPE_TARGETS, PCONFIG_TARGET_MKTME, 0, 0);
            case 0x80000000:
                return new CpuidResult(c.sme() ? dev.memcrypt.hw.sme.SmeCpuid.LEAF : MAX_EXT_LEAF, 0, 0, 0);
            case dev.memcrypt.hw.sme.SmeCpuid.LEAF:
                return dev.memcrypt.hw.sme.SmeCpuid.leaf(c);
            case 0x80000008:
                return new CpuidResult(c.maxPhysAddr() | 48 << 8, 0, 0, 0);
            default:
                return CpuidResult.ZERO;
        }
    }

    // ------------------------------------------------------------------ MSRs

    public long rdmsr(long msr) {
        if (cpl > 0) throw new GeneralProtectionFault("RDMSR at CPL " + cpl);
        if (vmx != null && vmx.rdmsrExits().test(msr)) throw new VmExit(VmExit.RDMSR, msr, String.format("RDMSR 0x%x", msr));
        return machine.msr(msr).read(this);
    }

    public void wrmsr(long msr, long value) {
        if (cpl > 0) throw new GeneralProtectionFault("WRMSR at CPL " + cpl);
        if (vmx != null && vmx.wrmsrExits().test(msr)) throw new VmExit(VmExit.WRMSR, msr, String.format("WRMSR 0x%x", msr));
        machine.msr(msr).write(this, value);
    }

    // ------------------------------------------------------------------ PCONFIG

    /**
     * PCONFIG (0F 01 C5), architectural form: EAX = leaf, RBX = address of the MKTME_KEY_PROGRAM
     * structure (linear if paging is enabled, else physical under KeyID 0). Faults are thrown;
     * status codes are returned in RAX with ZF.
     */
    public PconfigResult pconfig(long rax, long rbx) {
        return pconfig(rax, rbx, !paging);
    }

    private PconfigResult pconfig(long rax, long rbx, boolean physical) {
        MachineConfig cfg = machine.config();
        if (cpl > 0) throw new InvalidOpcodeFault("PCONFIG at CPL " + cpl);
        if (!cfg.pconfig()) throw new InvalidOpcodeFault("PCONFIG not enumerated (CPUID.7.0:EDX[18] = 0)");
        if ((int) rax != 0) throw new GeneralProtectionFault("PCONFIG leaf " + (int) rax + " not supported");
        TmeState tme = machine.tme();
        if (!tme.locked() || !tme.active()) throw new GeneralProtectionFault("IA32_TME_ACTIVATE not locked and enabled");
        if (tme.keyIdBits() == 0) throw new GeneralProtectionFault("MK_TME_KEYID_BITS = 0");
        if ((rbx & (KeyProgram.ALIGN - 1)) != 0) throw new GeneralProtectionFault(String.format("MKTME_KEY_PROGRAM at 0x%x not 256-byte aligned", rbx));
        byte[] s;
        if (physical) {
            if (rbx < 0 || rbx + KeyProgram.SIZE > machine.physLimit()) throw new GeneralProtectionFault(String.format("MKTME_KEY_PROGRAM at 0x%x outside memory", rbx));
            s = machine.pload(id, rbx, 0, KeyProgram.SIZE);
        } else {
            s = mmu.load(rbx, KeyProgram.SIZE); // may #PF
        }
        try {
            return program(s);
        } finally {
            Arrays.fill(s, (byte) 0);
        }
    }

    private PconfigResult program(byte[] s) {
        if (!KeyProgram.reservedClear(s)) throw new GeneralProtectionFault("MKTME_KEY_PROGRAM reserved bits set");
        if (!KeyProgram.keyHighBytesClear(s)) throw new GeneralProtectionFault("MKTME_KEY_PROGRAM key field bytes 16..63 not zero");
        int ctrl = KeyProgram.ctrl(s);
        int cmd = ctrl & KeyProgram.CTRL_COMMAND_MASK;
        int alg = (ctrl >>> KeyProgram.CTRL_ALG_SHIFT) & KeyProgram.CTRL_ALG_MASK;
        int keyId = KeyProgram.keyId(s);
        TmeState tme = machine.tme();
        if (cmd > PconfigCommand.NO_ENCRYPT.code) return done(PconfigStatus.INVALID_PROG_CMD);
        if (keyId == 0 || keyId > (1 << tme.keyIdBits()) - 1 || keyId > machine.config().maxKeys()) return done(PconfigStatus.INVALID_KEYID);
        if (alg != KeyProgram.ALG_AES_XTS_128 || (tme.cryptoAlgs() & KeyProgram.ALG_AES_XTS_128) == 0) return done(PconfigStatus.INVALID_ENC_ALG);
        KeyTable table = pkg.keyTable();
        int holder = pkg.busyHolder();
        if (holder >= 0 && holder != id) return done(PconfigStatus.DEVICE_BUSY);
        if (!table.tryLock()) return done(PconfigStatus.DEVICE_BUSY);
        try {
            switch (cmd) {
                case 0 -> { // SET_KEY_DIRECT
                    byte[] k1 = KeyProgram.keyLow(s, KeyProgram.OFF_KEY_FIELD_1);
                    byte[] k2 = KeyProgram.keyLow(s, KeyProgram.OFF_KEY_FIELD_2);
                    XtsKey key = XtsKey.of(k1, k2);
                    Arrays.fill(k1, (byte) 0);
                    Arrays.fill(k2, (byte) 0);
                    table.setKey(keyId, key);
                }
                case 1 -> { // SET_KEY_RANDOM
                    byte[] r = new byte[32];
                    if (!machine.entropy().fill(r)) {
                        Arrays.fill(r, (byte) 0);
                        return done(PconfigStatus.ENTROPY_ERROR);
                    }
                    for (int i = 0; i < 16; i++) {
                        r[i] ^= s[KeyProgram.OFF_KEY_FIELD_1 + i];
                        r[16 + i] ^= s[KeyProgram.OFF_KEY_FIELD_2 + i];
                    }
                    XtsKey key = XtsKey.of(r);
                    Arrays.fill(r, (byte) 0);
                    table.setRandomKey(keyId, key);
                }
                case 2 -> table.clear(keyId);
                default -> table.noEncrypt(keyId);
            }
        } finally {
            table.unlock();
        }
        return done(PconfigStatus.SUCCESS);
    }

    private PconfigResult done(PconfigStatus st) {
        PconfigResult r = PconfigResult.of(st, rflags);
        rflags = r.rflags();
        return r;
    }

    /**
     * Convenience for scripts and the kernel: builds the structure, writes it to this core's
     * firmware scratch page ({@link Machine#scratchPage}) under KeyID 0 through the caches, and
     * executes PCONFIG leaf 0 on it (the scratch address is used physically even with paging on).
     */
    public PconfigResult pconfig(int keyId, PconfigCommand cmd, int algorithm, byte[] key1, byte[] key2) {
        return pconfig(KeyProgram.build(keyId, cmd, algorithm, key1, key2));
    }

    /** Executes PCONFIG leaf 0 on an already built 256-byte structure, placed in the scratch page. */
    public PconfigResult pconfig(byte[] keyProgram) {
        if (keyProgram == null || keyProgram.length < KeyProgram.SIZE || keyProgram.length > KeyProgram.ALIGN) {
            throw new IllegalArgumentException("MKTME_KEY_PROGRAM must be 192..256 bytes");
        }
        if (!online) throw new IllegalArgumentException("cpu " + id + " is offline");
        long pa = machine.scratchPage(id);
        byte[] img = Arrays.copyOf(keyProgram, KeyProgram.ALIGN);
        try {
            machine.pstore(id, pa, 0, img);
            return pconfig(0, pa, true);
        } finally {
            Arrays.fill(img, (byte) 0);
            machine.pstore(id, pa, 0, new byte[KeyProgram.ALIGN]); // do not leave key material in the scratch page
        }
    }

    @Override
    public String toString() {
        return "cpu" + id + "(pkg " + pkg.id() + (online ? "" : ", offline") + ")";
    }
}
