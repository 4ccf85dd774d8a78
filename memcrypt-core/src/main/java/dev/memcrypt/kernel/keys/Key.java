package dev.memcrypt.kernel.keys;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A key (struct key). Identity (serial, type, description) is fixed; ownership, permissions,
 * expiry and state are published through volatile fields and changed only by {@link KeyService}.
 * The payload belongs to the type and is changed only with {@link #sem()} held for writing.
 *
 * <p>Keyring contents ({@link #links}) are guarded by the service's keyring graph lock.
 * {@link #toString()} never shows the payload.
 */
public final class Key {
    /** Construction state (key_read_state). */
    public enum State { UNINSTANTIATED, POSITIVE, NEGATIVE }

    private final int serial;
    private final KeyType type;
    private final String description;
    private final ReentrantReadWriteLock sem = new ReentrantReadWriteLock();
    final AtomicInteger usage = new AtomicInteger(1);
    /** The owner's quota record; changes on chown (with sem held). */
    volatile KeyUser user;
    /** Keyring contents by "type\0description" (assoc array index key). Graph lock. */
    final LinkedHashMap<String, Key> links;

    volatile int uid;
    volatile int gid;
    volatile int perm;
    volatile State state = State.UNINSTANTIATED;
    volatile Instant expiry;
    volatile Instant revokedAt;
    volatile boolean revoked;
    volatile boolean invalidated;
    volatile boolean dead;
    volatile boolean inQuota;
    volatile boolean rootCanClear;
    volatile boolean rootCanInval;
    volatile int quotalen;
    volatile int datalen;
    private volatile Object payload;

    Key(int serial, KeyType type, String description, KeyUser user, int uid, int gid, int perm) {
        this.serial = serial;
        this.type = type;
        this.description = description;
        this.user = user;
        this.uid = uid;
        this.gid = gid;
        this.perm = perm;
        this.links = type instanceof KeyringType ? new LinkedHashMap<>() : null;
    }

    public int serial() {
        return serial;
    }

    public KeyType type() {
        return type;
    }

    public String description() {
        return description;
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    public int perm() {
        return perm;
    }

    public State state() {
        return state;
    }

    public boolean isPositive() {
        return state == State.POSITIVE;
    }

    public boolean isRevoked() {
        return revoked;
    }

    public boolean isInvalidated() {
        return invalidated;
    }

    /** Destroyed by the gc: nothing refers to it any more. */
    public boolean isDead() {
        return dead;
    }

    public Instant expiry() {
        return expiry;
    }

    public boolean isKeyring() {
        return links != null;
    }

    /** The key's semaphore (key->sem): held for writing around instantiate/update/revoke, reading around read. */
    public ReentrantReadWriteLock sem() {
        return sem;
    }

    /** Current reference count (links, task slots, in-flight operations). Diagnostic only. */
    public int usage() {
        return usage.get();
    }

    /** The type's payload. Types read it under {@link #sem()} (or accept a racy read in describe). */
    public Object payload() {
        return payload;
    }

    /** Types only, with {@link #sem()} held for writing (or from destroy). */
    public void setPayload(Object p) {
        payload = p;
    }

    /** The payload length shown by describe and charged to the quota (set by the service from quotalen). */
    public int datalen() {
        return datalen;
    }

    @Override
    public String toString() {
        return "Key[" + serial + " " + type.name() + ":" + description + "]";
    }
}
