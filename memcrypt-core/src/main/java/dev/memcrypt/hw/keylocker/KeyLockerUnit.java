package dev.memcrypt.hw.keylocker;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.InvalidOpcodeFault;
import dev.memcrypt.hw.cpu.VmExit;
import dev.memcrypt.hw.cpu.XmmFile;
import java.util.Arrays;

/**
 * One core's Intel Key Locker (SPEC-FACTS §3; Intel SDM Vol. 2 LOADIWKEY, ENCODEKEY128/256,
 * AESENC/DEC128KL/256KL, AESENC/DECWIDE128KL/256KL; Key Locker spec 343965).
 *
 * <p>Architectural state: the IWKey (never readable by software), IA32_COPY_STATUS. The
 * instructions work on the core's {@link XmmFile} and RFLAGS like the real ones; memory operands
 * (handles) are passed as bytes already loaded, or as an address loaded through the core.
 *
 * <p>Speed-only state, kept apart: {@link HandleCache}, the AES key schedules of handles this
 * core has already authenticated, keyed by handle bytes and the IWKey's generation (a schedule is
 * used only while the core holds that very key again, so a hypervisor switching vCPUs keeps its
 * hits) and dropped on power loss. It never changes an outcome; it only skips re-unwrapping.
 *
 * <p>Error channels: #UD/#GP are {@link InvalidOpcodeFault}/{@link GeneralProtectionFault};
 * a refused handle or missing entropy is ZF = 1 (the boolean results); a wrong-size handle or bad
 * register number is the caller's bug (IllegalArgumentException).
 */
public final class KeyLockerUnit {
    // ---- enumeration (SPEC-FACTS §3; SDM Vol. 2A CPUID leaf 19H)
    /** CPUID.(7,0):ECX[23]: Key Locker. */
    public static final int CPUID7_ECX_KL = 1 << 23;
    /** The Key Locker CPUID leaf. */
    public static final int CPUID_LEAF = 0x19;
    /** CPUID.19H:EAX[0]: CPL0-only restriction supported. */
    public static final int EAX_CPL0_ONLY = 1;
    /** CPUID.19H:EAX[1]: no-encrypt restriction supported. */
    public static final int EAX_NO_ENCRYPT = 1 << 1;
    /** CPUID.19H:EAX[2]: no-decrypt restriction supported. */
    public static final int EAX_NO_DECRYPT = 1 << 2;
    /** CPUID.19H:EBX[0]: AESKLE, AES Key Locker instructions enabled (reads 1 only while CR4.KL = 1). */
    public static final int EBX_AESKLE = 1;
    /** CPUID.19H:EBX[2]: AESENC/DECWIDE*KL supported. */
    public static final int EBX_WIDE = 1 << 2;
    /** CPUID.19H:EBX[4]: backup MSRs (0xD91, 0xD92, 0x990, 0x991) supported. */
    public static final int EBX_BACKUP_MSRS = 1 << 4;
    /** CPUID.19H:ECX[0]: LOADIWKEY NoBackup supported. */
    public static final int ECX_NOBACKUP = 1;
    /** CPUID.19H:ECX[1]: KeySource 1 (hardware-randomized IWKey) supported. */
    public static final int ECX_KEYSOURCE1 = 1 << 1;

    // ---- LOADIWKEY EAX (SPEC-FACTS §3)
    /** EAX[0]: NoBackup. */
    public static final int LOADIWKEY_NOBACKUP = 1;
    /** EAX[4:1]: KeySource. */
    public static final int LOADIWKEY_KEYSOURCE_SHIFT = 1;
    public static final int LOADIWKEY_KEYSOURCE_MASK = 0xf;
    /** EAX[31:5]: reserved. */
    public static final int LOADIWKEY_RESERVED = ~0x1f;
    /** ENCODEKEY SRC[31:3]: reserved (bits 2:0 are the handle restrictions). */
    public static final int ENCODEKEY_RESERVED = ~Handle.RESTRICTIONS_MASK;

    private final Core core;
    private IwKey iwKey = IwKey.zero();
    private long copyStatus;
    private int enumEax = EAX_CPL0_ONLY | EAX_NO_ENCRYPT | EAX_NO_DECRYPT;
    private int enumEbx = EBX_WIDE | EBX_BACKUP_MSRS;
    private int enumEcx = ECX_NOBACKUP | ECX_KEYSOURCE1;

    /** Speed-only: unwrapped key schedules of authenticated handles (see class comment). */
    private final HandleCache cache = new HandleCache();
    /** Speed-only scratch for the wide instructions (data, not keys). */
    private final byte[] wide = new byte[128];

    public KeyLockerUnit(Core core) {
        this.core = core;
    }

    // ------------------------------------------------------------------ enumeration

    /** CPUID leaf 19H subleaf 0 as this core reports it (all zero when Key Locker is not enumerated). */
    public CpuidResult cpuid19() {
        if (!enumerated()) return CpuidResult.ZERO;
        int ebx = enumEbx | ((core.cr4() & Core.CR4_KL) != 0 ? EBX_AESKLE : 0);
        return new CpuidResult(enumEax, ebx, enumEcx, 0);
    }

    /**
     * Changes which optional features this core enumerates (a part with features fused off):
     * CPUID.19H EAX[2:0] restrictions, EBX[2] wide and EBX[4] backup MSRs, ECX[1:0]. Other bits ignored.
     */
    public void setEnumeration(int eax, int ebx, int ecx) {
        enumEax = eax & 0x7;
        enumEbx = ebx & (EBX_WIDE | EBX_BACKUP_MSRS);
        enumEcx = ecx & 0x3;
    }

    private boolean enumerated() {
        return core.machine().config().keyLocker();
    }

    private void requireKl(String insn) {
        if (!enumerated()) throw new InvalidOpcodeFault(insn + ": Key Locker not enumerated (CPUID.7.0:ECX[23] = 0)");
        if ((core.cr4() & Core.CR4_KL) == 0) throw new InvalidOpcodeFault(insn + " with CR4.KL = 0");
    }

    private void requireWide(String insn) {
        requireKl(insn);
        if ((enumEbx & EBX_WIDE) == 0) throw new InvalidOpcodeFault(insn + ": wide Key Locker instructions not enumerated (CPUID.19H:EBX[2] = 0)");
    }

    /** #GP for any access to the backup MSRs when CPUID.19H:EBX[4] = 0 (or Key Locker absent). */
    void requireBackupMsrs(String msr) {
        if (!enumerated() || (enumEbx & EBX_BACKUP_MSRS) == 0) throw new GeneralProtectionFault(msr + " not enumerated (CPUID.19H:EBX[4] = 0)");
    }

    // ------------------------------------------------------------------ LOADIWKEY

    /**
     * LOADIWKEY xmm(src1), xmm(src2), EAX, XMM0 (F3 0F 38 DC /r, register form): IWKey.EncryptionKey =
     * SRC1:SRC2, IntegrityKey = XMM0. Returns true with ZF = 0 on success; false with ZF = 1 (IWKey
     * unchanged) only when KeySource 1 finds no entropy.
     */
    public boolean loadiwkey(int src1, int src2, int eax) {
        requireKl("LOADIWKEY");
        if (core.cpl() > 0) throw new GeneralProtectionFault("LOADIWKEY at CPL " + core.cpl());
        if (core.vmx() != null && core.vmx().loadiwkeyExiting()) throw new VmExit(VmExit.LOADIWKEY, 0, "LOADIWKEY");
        int keySource = eax >>> LOADIWKEY_KEYSOURCE_SHIFT & LOADIWKEY_KEYSOURCE_MASK;
        if (keySource > 1) throw new GeneralProtectionFault("LOADIWKEY KeySource " + keySource + " reserved");
        if ((eax & LOADIWKEY_RESERVED) != 0) throw new GeneralProtectionFault(String.format("LOADIWKEY EAX[31:5] = 0x%x not zero", eax >>> 5));
        boolean noBackup = (eax & LOADIWKEY_NOBACKUP) != 0;
        if (noBackup && (enumEcx & ECX_NOBACKUP) == 0) throw new GeneralProtectionFault("LOADIWKEY NoBackup not enumerated (CPUID.19H:ECX[0] = 0)");
        if (keySource == 1 && (enumEcx & ECX_KEYSOURCE1) == 0) throw new GeneralProtectionFault("LOADIWKEY KeySource 1 not enumerated (CPUID.19H:ECX[1] = 0)");
        XmmFile x = core.xmm();
        byte[] integrity = x.get(0);
        byte[] enc = new byte[32];
        System.arraycopy(x.raw(src2), 0, enc, 0, 16);
        System.arraycopy(x.raw(src1), 0, enc, 16, 16);
        try {
            if (keySource == 1) {
                byte[] r = new byte[48];
                try {
                    if (!core.machine().entropy().fill(r)) {
                        core.setStatusFlags(true);
                        return false;
                    }
                    for (int i = 0; i < 16; i++) integrity[i] ^= r[i];
                    for (int i = 0; i < 32; i++) enc[i] ^= r[16 + i];
                } finally {
                    Arrays.fill(r, (byte) 0);
                }
            }
            setIwKey(new IwKey(integrity, enc, noBackup, keySource));
        } finally {
            Arrays.fill(integrity, (byte) 0);
            Arrays.fill(enc, (byte) 0);
        }
        core.setStatusFlags(false);
        return true;
    }

    // ------------------------------------------------------------------ ENCODEKEY

    /** ENCODEKEY128 r32, r32 (F3 0F 38 FA): wraps XMM0; handle to XMM0-2; XMM4-6 zeroed; returns DEST. */
    public int encodekey128(int src) {
        return encodekey("ENCODEKEY128", src, 1);
    }

    /** ENCODEKEY256 r32, r32 (F3 0F 38 FB): wraps XMM1:XMM0; handle to XMM0-3; XMM4-6 zeroed; returns DEST. */
    public int encodekey256(int src) {
        return encodekey("ENCODEKEY256", src, 2);
    }

    private int encodekey(String insn, int src, int blocks) {
        requireKl(insn);
        if ((src & ENCODEKEY_RESERVED) != 0) throw new GeneralProtectionFault(String.format("%s SRC[31:3] = 0x%x not zero", insn, src >>> 3));
        int r = src & Handle.RESTRICTIONS_MASK;
        if ((r & ~enumEax) != 0) throw new GeneralProtectionFault(String.format("%s restriction 0x%x not enumerated (CPUID.19H:EAX = 0x%x)", insn, r, enumEax));
        XmmFile x = core.xmm();
        byte[] key = new byte[16 * blocks];
        for (int b = 0; b < blocks; b++) System.arraycopy(x.raw(b), 0, key, 16 * b, 16);
        byte[] aad = Handle.aad(r, blocks == 1 ? Handle.KEYTYPE_AES128 : Handle.KEYTYPE_AES256);
        byte[] h = HandleWrap.wrap(iwKey, aad, key);
        cache.put(h, iwKey.generation(), key); // speed-only: the key is known, skip the first unwrap
        Arrays.fill(key, (byte) 0);
        for (int i = 0; i < 2 + blocks; i++) System.arraycopy(h, 16 * i, x.raw(i), 0, 16);
        x.zero(4);
        x.zero(5);
        x.zero(6);
        core.setStatusFlags(false);
        return (iwKey.noBackup() ? 1 : 0) | iwKey.keySource() << 1;
    }

    // ------------------------------------------------------------------ AES*KL

    /** AESENC128KL xmm, m384: encrypts XMM{@code reg} with the handle's AES-128 key; false (ZF = 1, data unchanged) if refused. */
    public boolean aesenc128kl(int reg, byte[] handle) {
        return one("AESENC128KL", reg, handle, Handle.KEYTYPE_AES128, true);
    }

    public boolean aesdec128kl(int reg, byte[] handle) {
        return one("AESDEC128KL", reg, handle, Handle.KEYTYPE_AES128, false);
    }

    public boolean aesenc256kl(int reg, byte[] handle) {
        return one("AESENC256KL", reg, handle, Handle.KEYTYPE_AES256, true);
    }

    public boolean aesdec256kl(int reg, byte[] handle) {
        return one("AESDEC256KL", reg, handle, Handle.KEYTYPE_AES256, false);
    }

    /** AESENCWIDE128KL m384: encrypts XMM0-7; false (ZF = 1, all unchanged) if refused. */
    public boolean aesencwide128kl(byte[] handle) {
        return wide("AESENCWIDE128KL", handle, Handle.KEYTYPE_AES128, true);
    }

    public boolean aesdecwide128kl(byte[] handle) {
        return wide("AESDECWIDE128KL", handle, Handle.KEYTYPE_AES128, false);
    }

    public boolean aesencwide256kl(byte[] handle) {
        return wide("AESENCWIDE256KL", handle, Handle.KEYTYPE_AES256, true);
    }

    public boolean aesdecwide256kl(byte[] handle) {
        return wide("AESDECWIDE256KL", handle, Handle.KEYTYPE_AES256, false);
    }

    /** The memory-operand form: loads the handle at {@code addr} (linear with paging on, else physical KeyID 0). */
    public byte[] loadHandle(long addr, int keyType) {
        int len = Handle.size(keyType);
        return core.pagingEnabled() ? core.mmu().load(addr, len) : core.machine().pload(core.id(), addr, 0, len);
    }

    private boolean one(String insn, int reg, byte[] h, int keyType, boolean enc) {
        requireKl(insn);
        byte[] data = core.xmm().raw(reg);
        HandleCache.Schedule s = authorize(h, keyType, enc);
        if (s == null) return false;
        s.crypt(enc, data, 0, 16, data);
        core.setStatusFlags(false);
        return true;
    }

    private boolean wide(String insn, byte[] h, int keyType, boolean enc) {
        requireWide(insn);
        HandleCache.Schedule s = authorize(h, keyType, enc);
        if (s == null) return false;
        XmmFile x = core.xmm();
        for (int i = 0; i < 8; i++) System.arraycopy(x.raw(i), 0, wide, 16 * i, 16);
        s.crypt(enc, wide, 0, 128, wide);
        for (int i = 0; i < 8; i++) System.arraycopy(wide, 16 * i, x.raw(i), 0, 16);
        core.setStatusFlags(false);
        return true;
    }

    /** IllegalHandle check, then authentication (cached); null with ZF = 1 when refused. */
    private HandleCache.Schedule authorize(byte[] h, int keyType, boolean enc) {
        int size = Handle.size(keyType);
        if (h == null || h.length < size) throw new IllegalArgumentException("handle must be " + size + " bytes, got " + (h == null ? "null" : h.length));
        if (Handle.illegalReason(h, keyType, enc, core.cpl()) != null) {
            core.setStatusFlags(true);
            return null;
        }
        long gen = iwKey.generation();
        HandleCache.Schedule s = cache.get(h, size, gen);
        if (s == null) {
            byte[] key = HandleWrap.unwrap(iwKey, h, size - Handle.OFF_KEY);
            if (key == null) {
                core.setStatusFlags(true);
                return null;
            }
            s = cache.put(Arrays.copyOf(h, size), gen, key);
            Arrays.fill(key, (byte) 0);
        }
        return s;
    }

    /**
     * SPEED-ONLY COMPOSITE of the instruction sequence the kernel's xts-aes-aeskl runs for one data
     * unit (Linux aeskl-xts-x86_64.S): AESENC128KL of {@code iv16} with {@code tweakHandle}, then
     * AESENCWIDE128KL (or AESDECWIDE128KL) over the unit, every block XORed with its tweak before
     * and after. Same #UD, handle-legality and authentication checks on both handles and the same
     * result and flags as those instructions, computed in one pass by the machine's XTS engine with
     * the cached key schedules. Unlike the instructions it leaves XMM0-7 alone (the kernel
     * restores them afterwards). {@code len} is a positive multiple of 16. False with ZF = 1 when
     * either handle is refused (nothing written).
     */
    public boolean xts128(boolean encrypt, byte[] dataHandle, byte[] tweakHandle, byte[] iv16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        requireWide(encrypt ? "AESENCWIDE128KL" : "AESDECWIDE128KL");
        if (len < 16 || len % 16 != 0) throw new IllegalArgumentException("XTS unit must be a positive multiple of 16 bytes, got " + len);
        HandleCache.Schedule t = authorize(tweakHandle, Handle.KEYTYPE_AES128, true);
        if (t == null) return false;
        HandleCache.Schedule d = authorize(dataHandle, Handle.KEYTYPE_AES128, encrypt);
        if (d == null) return false;
        var key = d.xtsWith(t);
        if (encrypt) core.machine().engine().encrypt(key, iv16, in, inOff, len, out, outOff);
        else core.machine().engine().decrypt(key, iv16, in, inOff, len, out, outOff);
        core.setStatusFlags(false);
        return true;
    }

    // ------------------------------------------------------------------ backup MSRs

    /** IA32_COPY_STATUS of this core. */
    public long copyStatus() {
        return copyStatus;
    }

    /** WRMSR IA32_COPY_LOCAL_TO_PLATFORM, 1. */
    void copyLocalToPlatform() {
        copyStatus = core.machine().keyLockerPlatform().store(iwKey) ? KeyLockerMsrs.COPY_SUCCESS : 0;
    }

    /** WRMSR IA32_COPY_PLATFORM_TO_LOCAL, 1. */
    void copyPlatformToLocal() {
        IwKey k = core.machine().keyLockerPlatform().load();
        if (k == null) {
            copyStatus = 0;
            return;
        }
        setIwKey(k);
        copyStatus = KeyLockerMsrs.COPY_SUCCESS;
    }

    // ------------------------------------------------------------------ power and hypervisor

    /** Power-off of this core: IWKey is lost (back to the reset value, all zero), speed-only state dropped. */
    public void powerLoss() {
        setIwKey(IwKey.zero());
        cache.clear();
        copyStatus = 0;
    }

    /**
     * What a hypervisor does for a vCPU whose LOADIWKEY it trapped (seed 002): captures the guest's
     * LOADIWKEY operands (KeySource 0) from {@code guestXmm} as an opaque IwKey, without the bytes
     * ever reaching hypervisor code.
     */
    public static IwKey captureOperands(XmmFile guestXmm, int src1, int src2, boolean noBackup) {
        byte[] enc = new byte[32];
        System.arraycopy(guestXmm.raw(src2), 0, enc, 0, 16);
        System.arraycopy(guestXmm.raw(src1), 0, enc, 16, 16);
        byte[] integrity = guestXmm.get(0);
        try {
            return new IwKey(integrity, enc, noBackup, 0);
        } finally {
            Arrays.fill(enc, (byte) 0);
            Arrays.fill(integrity, (byte) 0);
        }
    }

    /**
     * Hypervisor path (VMX root, CPL 0): loads a saved vCPU IWKey into this core, as KVM does with
     * LOADIWKEY on vCPU load; {@code null} loads the all-zero key (vCPU put: nothing of the guest's
     * stays in the core). The caller's IwKey stays the caller's.
     */
    public void vmmLoad(IwKey k) {
        if (core.vmx() != null) throw new IllegalArgumentException("vmmLoad in VMX non-root operation");
        if (core.cpl() != 0) throw new GeneralProtectionFault("LOADIWKEY at CPL " + core.cpl());
        setIwKey(k == null ? IwKey.zero() : k.copy());
    }

    /** Generation of the IWKey now in the core (identifies it to speed-only caches and tests; reveals nothing). */
    public long iwKeyGeneration() {
        return iwKey.generation();
    }

    /** Whether the core holds the reset (all-zero) IWKey. */
    public boolean holdsResetKey() {
        IwKey z = IwKey.zero();
        try {
            return iwKey.sameAs(z);
        } finally {
            z.destroy();
        }
    }

    private void setIwKey(IwKey k) {
        IwKey old = iwKey;
        iwKey = k;
        if (old != null && old != k) old.destroy();
    }

    @Override
    public String toString() {
        return "KeyLockerUnit[cpu" + core.id() + ", IWKey redacted]";
    }
}
