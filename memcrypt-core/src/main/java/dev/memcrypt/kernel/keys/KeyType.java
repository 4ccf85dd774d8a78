package dev.memcrypt.kernel.keys;

import dev.memcrypt.kernel.ErrnoException;

/**
 * A key type's operations (struct key_type). The generic {@link KeyService} owns all locking;
 * each method's javadoc says what it holds when calling. Types keep their own internal state
 * behind their own (leaf) locks.
 */
public interface KeyType {
    /** The type name ("user", "keyring", ...). */
    String name();

    /** Bytes charged for an empty payload (def_datalen). */
    default int defDatalen() {
        return 0;
    }

    /** Checks the description (vet_description). No locks held. */
    default void vetDescription(String description) throws ErrnoException {}

    /**
     * Parses and checks the caller's payload into {@code prep} (preparse): sets payload and
     * quotalen. No locks held; runs with the caller's credentials ({@link Preparsed#cred()}).
     */
    void preparse(Preparsed prep) throws ErrnoException;

    /** Releases (and wipes) whatever preparse left in {@code prep}. No locks held. Always called. */
    void freePreparse(Preparsed prep);

    /**
     * Instantiates a new key from {@code prep}, taking what it needs (set prep.payload to null if
     * taken). Held: the key's semaphore for writing; the key is not reachable by anyone else yet.
     * On failure the key is discarded and {@link #destroy} is still called for it (as Linux's gc does).
     */
    void instantiate(Key key, Preparsed prep) throws ErrnoException;

    /** Whether {@link #update} is supported (a type without update gives EOPNOTSUPP). */
    default boolean supportsUpdate() {
        return false;
    }

    /** Replaces the payload. Held: the key's semaphore for writing. */
    default void update(Key key, Preparsed prep) throws ErrnoException {
        throw dev.memcrypt.kernel.Errno.EOPNOTSUPP.exception();
    }

    /** Called when the key is revoked, to drop the payload early. Held: the key's semaphore for writing. */
    default void revoke(Key key) {}

    /**
     * Releases the payload and any type state of a key that nobody can reach any more (the gc).
     * No locks held; called exactly once per key, including keys whose instantiation failed.
     */
    void destroy(Key key);

    /** The text after the fixed columns of /proc/keys. No locks held (reads published state only). */
    default String describe(Key key) {
        return key.isPositive() ? key.description() + ": " + key.datalen() : key.description();
    }

    /** Whether {@link #read} is supported (the type has a read method). */
    default boolean readable() {
        return false;
    }

    /** The payload as the read operation returns it. Held: the key's semaphore for reading. */
    default byte[] read(Key key) throws ErrnoException {
        throw dev.memcrypt.kernel.Errno.EOPNOTSUPP.exception();
    }
}
