package dev.memcrypt.hw.controller;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsKey;

/**
 * Platform-wide TME configuration as the memory controllers see it: what IA32_TME_ACTIVATE and
 * the exclusion MSRs established, the TME (KeyID 0) key and the line-tweak salt.
 *
 * <p>Model choice: IA32_TME_ACTIVATE and the exclusion range are platform-scoped (one value for
 * every core and package; Linux checks that all CPUs agree), and the TME key survives a package
 * power cycle (firmware restores it); only the per-package MKTME key tables are lost then. The
 * MSR objects in {@code hw.cpu} validate writes and then install the result here.
 *
 * <p>Not thread-safe; the machine serializes changes.
 */
public final class TmeState {
    private final int maxPhysAddr;
    private long activate;
    private boolean active; // locked and enabled
    private int keyIdBits;
    private boolean bypass;
    private int algs; // IA32_TME_ACTIVATE[63:48] as bits 15:0
    private long excludeMask;
    private long excludeBase;
    private long exMaskField;
    private long exBaseField;
    private boolean exEnabled;
    private XtsKey tmeKey;
    private XtsKey savedKey;
    private LineTweak salt = LineTweak.NONE;
    private long epoch;
    private Runnable beforeChange;

    public TmeState(int maxPhysAddr) {
        this.maxPhysAddr = maxPhysAddr;
    }

    public void setChangeListener(Runnable r) {
        beforeChange = r;
    }

    private void changing() {
        if (beforeChange != null) beforeChange.run();
        epoch++;
    }

    /** Bumped by every change; speed-only snapshots compare it. */
    public long epoch() {
        return epoch;
    }

    public int maxPhysAddr() {
        return maxPhysAddr;
    }

    /** IA32_TME_ACTIVATE as RDMSR returns it. */
    public long activateValue() {
        return activate;
    }

    public boolean locked() {
        return (activate & 1) != 0;
    }

    /** TME locked and enabled: KeyID 0 uses the TME key (unless bypass) and KeyID bits are in effect. */
    public boolean active() {
        return active;
    }

    /** KeyID bits in effect (0 until activation). */
    public int keyIdBits() {
        return active ? keyIdBits : 0;
    }

    /** Bit position of the lowest KeyID bit in a physical address: MAXPHYADDR - KEYID_BITS. */
    public int keyIdShift() {
        return maxPhysAddr - keyIdBits();
    }

    public boolean bypass() {
        return bypass;
    }

    /** IA32_TME_ACTIVATE[63:48] (bit 0 = AES-XTS-128). */
    public int cryptoAlgs() {
        return algs;
    }

    public long excludeMask() {
        return excludeMask;
    }

    public long excludeBase() {
        return excludeBase;
    }

    public LineTweak salt() {
        return salt;
    }

    public void setSalt(LineTweak s) {
        changing();
        salt = s;
    }

    /** The TME key, or null when memory under KeyID 0 is stored as plaintext (not active, or bypass). */
    public XtsKey tmeKey() {
        return active && !bypass ? tmeKey : null;
    }

    /** Whether {@code pa} (KeyID bits stripped) lies in the enabled exclusion range (KeyID 0 only). */
    public boolean excluded(long pa) {
        return exEnabled && (pa & exMaskField) == exBaseField;
    }

    /** The saved standby key, if a previous activation asked to save one. */
    public boolean hasSavedKey() {
        return savedKey != null && !savedKey.isDestroyed();
    }

    /** The AES size of the saved key's halves (128 or 256), when {@link #hasSavedKey()}. */
    public int savedKeyBits() {
        return savedKey.aesBits();
    }

        /** Copy of the saved key for key-select 1 (restore); caller owns it. */
    public XtsKey savedKeyCopy() {
        byte[] b = savedKey.copyBytes();
        try {
            return XtsKey.of(b);
        } finally {
            java.util.Arrays.fill(b, (byte) 0);
        }
    }

    /** A write that did not take effect (RNG failure): ACTIVATE reads back with bits 2:0 clear, not locked. */
    public void recordFailedActivation(long value) {
        changing();
        activate = value & ~0b111L;
    }

    /**
     * Installs a successful IA32_TME_ACTIVATE write (already validated): locks, and if enabled
     * takes ownership of {@code key} as the TME key.
     */
    public void install(long value, boolean enable, int keyIdBits, boolean bypass, int algs, XtsKey key, boolean saveKey) {
        changing();
        activate = value | 1;
        active = enable;
        this.keyIdBits = enable ? keyIdBits : 0;
        this.bypass = bypass;
        this.algs = algs;
        if (tmeKey != null && tmeKey != key) tmeKey.destroy();
        tmeKey = key;
        if (saveKey && key != null) {
            if (savedKey != null) savedKey.destroy();
            byte[] b = key.copyBytes();
            savedKey = XtsKey.of(b);
            java.util.Arrays.fill(b, (byte) 0);
        }
    }

    public void setExcludeMask(long v) {
        changing();
        excludeMask = v;
        recompute();
    }

    public void setExcludeBase(long v) {
        changing();
        excludeBase = v;
        recompute();
    }

    private void recompute() {
        exEnabled = (excludeMask & (1L << 11)) != 0;
        long field = ((1L << maxPhysAddr) - 1) & ~0xfffL;
        exMaskField = excludeMask & field;
        exBaseField = excludeBase & exMaskField;
    }
}
