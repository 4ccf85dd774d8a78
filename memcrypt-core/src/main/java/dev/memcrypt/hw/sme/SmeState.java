package dev.memcrypt.hw.sme;

import dev.memcrypt.crypto.XtsKey;

/**
 * Platform-wide AMD SME state as the memory controllers see it (SPEC-FACTS §4): where the C-bit
 * sits, whether SYSCFG[MemEncryptionModEn] is set, and the per-boot platform key.
 *
 * <h2>Model choices</h2>
 * <ul>
 * <li>The platform key is generated once per power-on from {@link dev.memcrypt.hw.Entropy} (on
 *   real parts the AMD Secure Processor generates it at reset); software can never read it. If the
 *   entropy source fails at power-on there is no key and SYSCFG bit 23 cannot be set (#GP).
 * <li>AES-128 with a physical-address tweak is modelled as XTS-AES-128 line mode with the same
 *   engine as MKTME: tweak = physical address with the C-bit stripped (XOR the TME salt, if any).
 * <li>On an SME-capable machine the C-bit is never an address bit: it is stripped from every
 *   physical address before DRAM is addressed, whether or not SME is enabled, and it stays part of
 *   the cache tag (two aliases of one line are two cache lines). With MemEncryptionModEn = 0 the
 *   controller stores both aliases as plaintext.
 * <li>SYSCFG is platform-scoped (one value for all cores), like IA32_TME_ACTIVATE in this model.
 * </ul>
 * Not thread-safe; the machine serializes changes.
 */
public final class SmeState {
    private final int cBit;
    private final long cMask;
    private XtsKey key;
    private boolean enabled;
    private boolean locked;
    private long syscfg;
    private Runnable beforeChange;

    public SmeState(int cBit, XtsKey platformKey) {
        if (cBit < 32 || cBit > 51) throw new IllegalArgumentException("C-bit position " + cBit + " out of range 32..51");
        this.cBit = cBit;
        this.cMask = 1L << cBit;
        this.key = platformKey;
    }

    public void setChangeListener(Runnable r) {
        beforeChange = r;
    }

    /** C-bit position (CPUID 0x8000001F EBX[5:0]). */
    public int cBit() {
        return cBit;
    }

    /** {@code 1 << cBit}: the mask Linux calls sme_me_mask once SME is active. */
    public long cMask() {
        return cMask;
    }

    /** SYSCFG[MemEncryptionModEn]: the controller encrypts lines whose address carries the C-bit. */
    public boolean enabled() {
        return enabled;
    }

    /** HWCR[SmmLock] set: SYSCFG[MemEncryptionModEn] can no longer change (model choice, see {@link SmeMsrs}). */
    public boolean locked() {
        return locked;
    }

    public boolean hasKey() {
        return key != null && !key.isDestroyed();
    }

    /** SYSCFG as RDMSR returns it. */
    public long syscfg() {
        return syscfg;
    }

    /** Installs a validated SYSCFG value (settles posted write-backs first if the enable bit changes). */
    void installSyscfg(long v) {
        boolean en = (v & SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN) != 0;
        if (en != enabled && beforeChange != null) beforeChange.run();
        syscfg = v;
        enabled = en;
    }

    void lock() {
        locked = true;
    }

    /**
     * The key for a line whose full physical address is {@code fullPa}: the platform key if the
     * C-bit is set and SME is enabled, else null (plaintext).
     */
    public XtsKey keyFor(long fullPa) {
        return enabled && (fullPa & cMask) != 0 ? key : null;
    }

    /** Whether {@code fullPa} carries the C-bit. */
    public boolean encrypted(long fullPa) {
        return (fullPa & cMask) != 0;
    }

    /**
     * Power loss: the platform key is gone. The caller settles the memory controllers first
     * ({@code MemoryController.settleAll}): posted write-backs and posted zero pages hold this key.
     */
    public void destroy() {
        if (key != null) key.destroy();
    }
}
