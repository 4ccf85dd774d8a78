package dev.memcrypt.hw.controller;

import dev.memcrypt.crypto.XtsKey;
import java.util.Arrays;

/**
 * One package's MKTME key table (SPEC-FACTS §1): what the memory controller uses for each KeyID.
 * Written only by PCONFIG (MKTME_KEY_PROGRAM) on a core of the package; read by the controller
 * on every fill and write-back. Lost when the package powers off ({@link #powerLoss()}).
 *
 * <p>Every programming bumps the entry's generation, and the machine-wide generation; caches
 * record the generation at fill time so an invariant checker can find lines that outlived a key
 * change (the seeds' "dirty line written back after reprogramming" hazard).
 *
 * <p>Thread-safety: all methods synchronize on the table; PCONFIG's DEVICE_BUSY models contention
 * above this level, with {@link #tryLock}/{@link #unlock}.
 */
public final class KeyTable {
    /** How the controller treats a KeyID. */
    public enum Mode {
        /** Unprogrammed or CLEAR_KEY: falls back to KeyID 0's behaviour (TME key, or bypass). */
        TME,
        /** SET_KEY_DIRECT or SET_KEY_RANDOM: AES-XTS-128 with this entry's key pair. */
        KEY,
        /** NO_ENCRYPT: plaintext in DRAM. */
        NO_ENCRYPT
    }

    /** An immutable view of one entry. {@code key} is non-null only for {@link Mode#KEY}. */
    public record Entry(Mode mode, XtsKey key, long generation) {
        @Override
        public String toString() {
            return "Entry[" + mode + ", gen=" + generation + "]";
        }
    }

    private static final Entry DEFAULT = new Entry(Mode.TME, null, 0);

    private final Entry[] entries;
    private volatile long generation;
    private Thread lockOwner;
    private Runnable beforeChange;

    /** A table for KeyIDs 0 .. {@code nrKeyIds - 1} (including KeyID 0, which PCONFIG never programs). */
    public KeyTable(int nrKeyIds) {
        if (nrKeyIds < 1) throw new IllegalArgumentException("nrKeyIds must be >= 1, got " + nrKeyIds);
        entries = new Entry[nrKeyIds];
        Arrays.fill(entries, DEFAULT);
    }

    /**
     * Table-wide generation, bumped by every change; a cheap (volatile) read so the controller can
     * keep speed-only snapshots of entries and notice changes.
     */
    public long generation() {
        return generation;
    }

    /**
     * Called at the start of every change, before an entry (and its key) is replaced. The machine
     * uses it to settle posted write-backs that still need the old key. Null removes it.
     */
    public synchronized void setChangeListener(Runnable r) {
        beforeChange = r;
    }

    public synchronized int size() {
        return entries.length;
    }

    public synchronized Entry get(int keyId) {
        check(keyId);
        return entries[keyId];
    }

    /** Installs a key for {@code keyId}. Takes ownership of {@code key}; the previous key is wiped. */
    public synchronized Entry setKey(int keyId, XtsKey key) {
        if (key == null) throw new IllegalArgumentException("key must not be null");
        return replace(keyId, Mode.KEY, key);
    }

    /** CLEAR_KEY: the KeyID falls back to the TME key. The previous key is wiped. */
    public synchronized Entry clear(int keyId) {
        return replace(keyId, Mode.TME, null);
    }

    /** NO_ENCRYPT. The previous key is wiped. */
    public synchronized Entry noEncrypt(int keyId) {
        return replace(keyId, Mode.NO_ENCRYPT, null);
    }

    /** Package power loss: every entry is gone (and its key wiped). */
    public synchronized void powerLoss() {
        if (beforeChange != null) beforeChange.run();
        for (int i = 0; i < entries.length; i++) {
            if (entries[i].key() != null) entries[i].key().destroy();
            entries[i] = new Entry(Mode.TME, null, ++generation);
        }
    }

    /** The table's programming lock; false if another thread holds it (PCONFIG: DEVICE_BUSY). */
    public synchronized boolean tryLock() {
        if (lockOwner != null && lockOwner != Thread.currentThread()) return false;
        lockOwner = Thread.currentThread();
        return true;
    }

    public synchronized void unlock() {
        if (lockOwner == Thread.currentThread()) lockOwner = null;
    }

    private Entry replace(int keyId, Mode mode, XtsKey key) {
        check(keyId);
        if (beforeChange != null) beforeChange.run();
        Entry old = entries[keyId];
        if (old.key() != null && old.key() != key) old.key().destroy();
        Entry e = new Entry(mode, key, ++generation);
        entries[keyId] = e;
        return e;
    }

    private void check(int keyId) {
        if (keyId < 0 || keyId >= entries.length) {
            throw new IllegalArgumentException("KeyID " + keyId + " out of range 0.." + (entries.length - 1));
        }
    }
}
