package dev.memcrypt.kernel.keys.mktme;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The KeyID map (mktme_map, with the per-KeyID reference counts of seed 001's
 * encrypt_count and the states of Intel's later tree): which hardware KeyID (1..N) belongs to
 * which mktme key, and how many holders reference it. The key itself holds one reference from
 * instantiate until it is destroyed; later callers (VMAs via encrypt_mprotect, fork, VMA split)
 * take more with {@link #get} and drop them with {@link #put}. A KeyID returns to
 * {@link State#AVAILABLE} only when the last reference is gone.
 *
 * <p>State machine: AVAILABLE -reserve-> ASSIGNED -key destroyed-> REF_KILLED (VMAs still hold
 * it) -last put-> REF_RELEASED -> AVAILABLE. REF_RELEASED is transient: it is the state seen by
 * the release hook, after which the slot is free. An ASSIGNED KeyID whose last reference goes
 * (the key destroyed with no VMA references) passes REF_KILLED and REF_RELEASED at once.
 *
 * <p>Lock: {@link #lock} (mktme_lock) is a leaf lock except that the key type's update holds it
 * around programming so no new reference appears meanwhile.
 */
public final class MktmeKeyIds {
    public enum State { AVAILABLE, ASSIGNED, REF_KILLED, REF_RELEASED }

    /** Called (with the map lock held) when a KeyID's last reference goes, before it is AVAILABLE again. */
    public interface ReleaseHook {
        void released(int keyId);
    }

    private final int nrKeyIds;
    private final State[] state;
    private final int[] refs;
    private final Object[] owner;
    private int available;
    final ReentrantLock lock = new ReentrantLock();
    private volatile ReleaseHook hook;

    /** A map for KeyIDs 1..{@code nrKeyIds} (KeyID 0 is the TME key and never handed out). */
    public MktmeKeyIds(int nrKeyIds) {
        if (nrKeyIds < 0) throw new IllegalArgumentException("nrKeyIds must be >= 0, got " + nrKeyIds);
        this.nrKeyIds = nrKeyIds;
        state = new State[nrKeyIds + 1];
        refs = new int[nrKeyIds + 1];
        owner = new Object[nrKeyIds + 1];
        Arrays.fill(state, State.AVAILABLE);
        available = nrKeyIds;
    }

    public int nrKeyIds() {
        return nrKeyIds;
    }

    void setReleaseHook(ReleaseHook h) {
        hook = h;
    }

    /** Reserves the lowest free KeyID for {@code key} with one reference; 0 when none is free. */
    int reserve(Object key) {
        lock.lock();
        try {
            if (available == 0) return 0;
            for (int i = 1; i <= nrKeyIds; i++) {
                if (state[i] == State.AVAILABLE) {
                    state[i] = State.ASSIGNED;
                    owner[i] = key;
                    refs[i] = 1;
                    available--;
                    return i;
                }
            }
            throw new IllegalStateException("available count " + available + " but no AVAILABLE KeyID");
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a reference on a KeyID that is in use (ASSIGNED, or REF_KILLED when an existing
     * holder is duplicated, e.g. a VMA split or fork). IllegalStateException if it is free.
     */
    public void get(int keyId) {
        check(keyId);
        lock.lock();
        try {
            if (refs[keyId] <= 0) throw new IllegalStateException("KeyID " + keyId + " is not in use (" + state[keyId] + ")");
            refs[keyId]++;
        } finally {
            lock.unlock();
        }
    }

    /** Drops a reference; the last one frees the KeyID. */
    public void put(int keyId) {
        check(keyId);
        lock.lock();
        try {
            putLocked(keyId);
        } finally {
            lock.unlock();
        }
    }

    private void putLocked(int keyId) {
        if (refs[keyId] <= 0) throw new IllegalStateException("KeyID " + keyId + " reference underflow");
        if (--refs[keyId] == 0) {
            state[keyId] = State.REF_RELEASED;
            owner[keyId] = null;
            ReleaseHook h = hook;
            if (h != null) h.released(keyId);
            state[keyId] = State.AVAILABLE;
            available++;
        }
    }

    /** The key owning {@code keyId} was destroyed: the KeyID has no owner and loses the key's reference. */
    void kill(int keyId, Object key) {
        check(keyId);
        lock.lock();
        try {
            if (state[keyId] != State.ASSIGNED || owner[keyId] != key) {
                throw new IllegalStateException("KeyID " + keyId + " is not assigned to the dying key (" + state[keyId] + ")");
            }
            state[keyId] = State.REF_KILLED;
            owner[keyId] = null;
            putLocked(keyId);
        } finally {
            lock.unlock();
        }
    }

    public int refCount(int keyId) {
        check(keyId);
        lock.lock();
        try {
            return refs[keyId];
        } finally {
            lock.unlock();
        }
    }

    public State state(int keyId) {
        check(keyId);
        lock.lock();
        try {
            return state[keyId];
        } finally {
            lock.unlock();
        }
    }

    /** The KeyID owned by {@code key}, or 0. */
    public int keyIdOf(Object key) {
        lock.lock();
        try {
            for (int i = 1; i <= nrKeyIds; i++) if (owner[i] == key) return i;
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** Free KeyIDs. */
    public int available() {
        lock.lock();
        try {
            return available;
        } finally {
            lock.unlock();
        }
    }

    /** A consistent copy: states, reference counts and owners indexed by KeyID (index 0 unused). */
    public record Snapshot(State[] states, int[] refs, Object[] owners, int available) {}

    public Snapshot snapshot() {
        lock.lock();
        try {
            return new Snapshot(state.clone(), refs.clone(), owner.clone(), available);
        } finally {
            lock.unlock();
        }
    }

    private void check(int keyId) {
        if (keyId < 1 || keyId > nrKeyIds) throw new IllegalArgumentException("KeyID " + keyId + " out of range 1.." + nrKeyIds);
    }
}
