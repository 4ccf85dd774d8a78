package dev.memcrypt.kernel.keys;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Capability;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.random.RandomGenerator;

/**
 * The key retention service (Linux security/keys): add_key, request_key and keyctl, keyrings,
 * permissions, quotas, expiry and garbage collection.
 *
 * <p>Design notes.
 * <ul>
 * <li>Locking is owned here. Order: a key's {@link Key#sem()} and the keyring graph lock are
 *     never held together (instantiate/update/read happen outside the graph lock; keyring
 *     contents change only under the graph write lock). Quota ({@link KeyUser}) monitors and key
 *     types' own locks are leaves. Type operations state what they are called with ({@link KeyType}).
 * <li>Lifetime: every key has a usage count (links from keyrings, task keyring slots, and
 *     in-flight operations, like Linux's key->usage). When it reaches zero the key is queued for
 *     the gc, which removes the serial, releases the quota and calls the type's destroy exactly once.
 *     Invalidated keys are unlinked from every keyring by the gc at once; revoked and expired keys
 *     after {@link Limits#gcDelay()} (key_gc_delay, 300 s). With {@code autoGc} (default) a gc pass
 *     runs synchronously at the end of each call that made garbage, and at the start of the first
 *     call after a scheduled reap time has passed on the injected clock (Linux's gc timer), so
 *     results are deterministic; otherwise call {@link #gc()}.
 * <li>Serials are random positive 32-bit numbers >= 3 (key_alloc_serial), from an injected
 *     generator; expiry uses an injected {@link InstantSource}.
 * </ul>
 */
public final class KeyService {
    public static final int KEY_SPEC_THREAD_KEYRING = -1;
    public static final int KEY_SPEC_PROCESS_KEYRING = -2;
    public static final int KEY_SPEC_SESSION_KEYRING = -3;
    public static final int KEY_SPEC_USER_KEYRING = -4;
    public static final int KEY_SPEC_USER_SESSION_KEYRING = -5;
    public static final int KEY_SPEC_GROUP_KEYRING = -6;
    public static final int KEY_SPEC_REQKEY_AUTH_KEY = -7;
    public static final int KEY_SPEC_REQUESTOR_KEYRING = -8;
    /** keyring.c KEYRING_SEARCH_MAX_DEPTH: how deep searches (and the link cycle check) descend. */
    public static final int KEYRING_SEARCH_MAX_DEPTH = 6;

    /** Lookup flags (KEY_LOOKUP_*). */
    static final int LOOKUP_CREATE = 1, LOOKUP_PARTIAL = 2;
    /** "No permission needed, no state check": unlink's view of the key (KEY_NEED_UNLINK). */
    static final int NEED_UNLINK = -1;
    /** Permission check deferred to the caller (KEY_DEFER_PERM_CHECK). */
    static final int NEED_DEFER = 0;

    /**
     * Quota and gc limits (Documentation/security/keys/core.rst, /proc/sys/kernel/keys/*):
     * maxkeys 200, maxbytes 20000 for users; root_maxkeys 1000000, root_maxbytes 25000000;
     * gc_delay 300 s.
     */
    public record Limits(int maxKeys, long maxBytes, int rootMaxKeys, long rootMaxBytes, Duration gcDelay) {
        public static Limits linuxDefaults() {
            return new Limits(200, 20000, 1_000_000, 25_000_000, Duration.ofSeconds(300));
        }
    }

    /** A key reference with the possession attribute (key_ref_t). */
    record KeyRef(Key key, boolean possessed) {}

    private final InstantSource clock;
    private final RandomGenerator serialRandom;
    private final Limits limits;
    private volatile boolean autoGc = true;

    private final Map<String, KeyType> types = new ConcurrentHashMap<>();
    private final KeyringType keyringType = new KeyringType();
    private final ReentrantLock serialLock = new ReentrantLock();
    private final ConcurrentHashMap<Integer, Key> serials = new ConcurrentHashMap<>();
    /** Guards every keyring's contents (keyring->sem and the keyring-link serialisation lock). */
    private final ReentrantReadWriteLock graph = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<Integer, KeyUser> users = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, Key[]> userKeyrings = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Key> graveyard = new ConcurrentLinkedQueue<>();
    private final ReentrantLock gcLock = new ReentrantLock();
    private volatile boolean gcWanted;
    /** Earliest time a revoked or expired key's grace period ends (key_schedule_gc); null if none. */
    private volatile Instant nextReap;

    public KeyService(InstantSource clock, RandomGenerator serialRandom, Limits limits) {
        this.clock = clock;
        this.serialRandom = serialRandom;
        this.limits = limits;
        registerType(keyringType);
        registerType(new UserKeyType());
        registerType(new LogonKeyType());
    }

    /** A service with Linux's default limits, the system clock and a fixed serial seed. */
    public static KeyService withDefaults(InstantSource clock, long serialSeed) {
        return new KeyService(clock, new java.util.SplittableRandom(serialSeed), Limits.linuxDefaults());
    }

    public Limits limits() {
        return limits;
    }

    public InstantSource clock() {
        return clock;
    }

    /** Turns the synchronous end-of-call gc on or off (on by default). */
    public void setAutoGc(boolean on) {
        autoGc = on;
    }

    /** register_key_type(). EEXIST if a type of that name exists. */
    public void registerType(KeyType type) {
        if (types.putIfAbsent(type.name(), type) != null) {
            throw new IllegalArgumentException("key type already registered: " + type.name());
        }
    }

    public KeyType type(String name) {
        return types.get(name);
    }

    // ------------------------------------------------------------------ system calls

    /**
     * add_key(2): creates (or updates, if the type can and the keyring already holds a key of the
     * same type and description) a key and links it into {@code destId}. Returns the serial.
     */
    public int addKey(Task t, String typeName, String description, byte[] payload, int destId) throws ErrnoException {
        try {
            return doAddKey(t, typeName, description, payload, destId);
        } finally {
            endCall();
        }
    }

    private int doAddKey(Task t, String typeName, String description, byte[] payload, int destId) throws ErrnoException {
        if (typeName == null || typeName.isEmpty()) throw Errno.EINVAL.exception();
        if (typeName.startsWith(".")) throw Errno.EPERM.exception();
        if (description != null && description.isEmpty()) description = null;
        if (description != null && description.startsWith(".") && typeName.equals("keyring")) throw Errno.EPERM.exception();
        KeyRef dest = lookup(t, destId, LOOKUP_CREATE, KeyPerm.WRITE);
        try {
            KeyType type = types.get(typeName);
            if (type == null) throw Errno.ENODEV.exception();
            if (!dest.key().isKeyring()) throw Errno.ENOTDIR.exception();
            if (description == null) throw Errno.EINVAL.exception();
            Preparsed prep = new Preparsed(payload, t.cred(), description);
            try {
                type.preparse(prep);
                type.vetDescription(description);
                if (type.supportsUpdate()) {
                    Key existing = findInKeyring(dest.key(), type, description);
                    if (existing != null) {
                        try {
                            checkPermission(new KeyRef(existing, dest.possessed()), t.cred(), KeyPerm.WRITE);
                            updateLocked(existing, prep);
                            return existing.serial();
                        } finally {
                            put(existing);
                        }
                    }
                }
                int perm = KeyPerm.POS_VIEW | KeyPerm.POS_SEARCH | KeyPerm.POS_LINK | KeyPerm.POS_SETATTR | KeyPerm.USR_VIEW;
                if (type.readable()) perm |= KeyPerm.POS_READ;
                if (type == keyringType || type.supportsUpdate()) perm |= KeyPerm.POS_WRITE;
                Key key = allocKey(type, description, t.cred().uid(), t.cred().gid(), perm, false);
                try {
                    instantiate(key, prep);
                    link(dest.key(), key);
                    return key.serial();
                } finally {
                    put(key);
                }
            } finally {
                type.freePreparse(prep);
                prep.wipe();
            }
        } finally {
            put(dest.key());
        }
    }

    /**
     * request_key(2) without an upcall: searches the caller's keyrings and links the key into
     * {@code destId} if nonzero. ENOKEY if absent (there is no /sbin/request-key in the model).
     */
    public int requestKey(Task t, String typeName, String description, int destId) throws ErrnoException {
        try {
            if (typeName == null || typeName.isEmpty() || description == null || description.isEmpty()) throw Errno.EINVAL.exception();
            if (typeName.startsWith(".")) throw Errno.EPERM.exception();
            KeyRef dest = destId == 0 ? null : lookup(t, destId, LOOKUP_CREATE, KeyPerm.WRITE);
            try {
                KeyType type = types.get(typeName);
                if (type == null) throw Errno.ENOKEY.exception();
                if (dest != null && !dest.key().isKeyring()) throw Errno.ENOTDIR.exception();
                Key found = searchProcessKeyrings(t, k -> k.type() == type && k.description().equals(description), false);
                try {
                    if (dest != null) link(dest.key(), found);
                    return found.serial();
                } finally {
                    put(found);
                }
            } finally {
                if (dest != null) put(dest.key());
            }
        } finally {
            endCall();
        }
    }

    /** KEYCTL_GET_KEYRING_ID: resolves a special ID, optionally creating the keyring. */
    public int getKeyringId(Task t, int id, boolean create) throws ErrnoException {
        try {
            KeyRef r = lookup(t, id, create ? LOOKUP_CREATE : 0, NEED_DEFER);
            put(r.key());
            return r.key().serial();
        } finally {
            endCall();
        }
    }

    /** KEYCTL_UPDATE. */
    public void update(Task t, int id, byte[] payload) throws ErrnoException {
        try {
            KeyRef r = lookup(t, id, 0, KeyPerm.WRITE);
            try {
                Key key = r.key();
                if (!key.type().supportsUpdate()) throw Errno.EOPNOTSUPP.exception();
                Preparsed prep = new Preparsed(payload, t.cred(), null);
                try {
                    key.type().preparse(prep);
                    updateLocked(key, prep);
                } finally {
                    key.type().freePreparse(prep);
                    prep.wipe();
                }
            } finally {
                put(r.key());
            }
        } finally {
            endCall();
        }
    }

    /** KEYCTL_REVOKE: needs write, or failing that setattr, permission. */
    public void revoke(Task t, int id) throws ErrnoException {
        try {
            KeyRef r;
            try {
                r = lookup(t, id, 0, KeyPerm.WRITE);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EACCES) throw e;
                r = lookup(t, id, 0, KeyPerm.SETATTR);
            }
            Key key = r.key();
            try {
                key.sem().writeLock().lock();
                try {
                    if (!key.revoked) {
                        key.revoked = true;
                        key.revokedAt = clock.instant();
                        scheduleReap(key.revokedAt.plus(limits.gcDelay()));
                        key.type().revoke(key);
                        // user_revoke: key_payload_reserve(key, 0) once the payload is dropped
                        if (key.payload() == null && !key.isKeyring()) reservePayload(key, 0);
                    }
                } finally {
                    key.sem().writeLock().unlock();
                }
                gcWanted = true;
            } finally {
                put(key);
            }
        } finally {
            endCall();
        }
    }

    /**
     * Looks a key up with {@code perm}; on EACCES a CAP_SYS_ADMIN caller may still have it when the
     * key is marked for that ({@code rootMay}: KEY_FLAG_ROOT_CAN_INVAL / _CLEAR), as in
     * keyctl_invalidate_key and keyctl_keyring_clear. Otherwise the original EACCES stands.
     */
    private KeyRef lookupOrRootOverride(Task t, int id, int flags, int perm, int overrideFlags,
            java.util.function.Predicate<Key> rootMay) throws ErrnoException {
        try {
            return lookup(t, id, flags, perm);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EACCES || !t.cred().capable(Capability.CAP_SYS_ADMIN)) throw e;
            KeyRef r = lookup(t, id, overrideFlags, NEED_DEFER);
            if (!rootMay.test(r.key())) {
                put(r.key());
                throw e;
            }
            return r;
        }
    }

    /** KEYCTL_INVALIDATE: needs search permission (or CAP_SYS_ADMIN on keys marked root-can-invalidate). */
    public void invalidate(Task t, int id) throws ErrnoException {
        try {
            KeyRef r = lookupOrRootOverride(t, id, 0, KeyPerm.SEARCH, LOOKUP_PARTIAL, k -> k.rootCanInval);
            r.key().invalidated = true;
            gcWanted = true;
            put(r.key());
        } finally {
            endCall();
        }
    }

    /** KEYCTL_CLEAR: unlinks everything from a keyring (write permission). */
    public void clear(Task t, int id) throws ErrnoException {
        try {
            KeyRef r = lookupOrRootOverride(t, id, LOOKUP_CREATE, KeyPerm.WRITE, LOOKUP_CREATE, k -> k.rootCanClear);
            try {
                if (!r.key().isKeyring()) throw Errno.ENOTDIR.exception();
                List<Key> removed;
                graph.writeLock().lock();
                try {
                    removed = new ArrayList<>(r.key().links.values());
                    r.key().links.clear();
                } finally {
                    graph.writeLock().unlock();
                }
                removed.forEach(this::put);
            } finally {
                put(r.key());
            }
        } finally {
            endCall();
        }
    }

    /** KEYCTL_LINK: keyring needs write, key needs link permission. */
    public void link(Task t, int keyId, int keyringId) throws ErrnoException {
        try {
            KeyRef ring = lookup(t, keyringId, LOOKUP_CREATE, KeyPerm.WRITE);
            try {
                KeyRef key = lookup(t, keyId, LOOKUP_CREATE, KeyPerm.LINK);
                try {
                    if (!ring.key().isKeyring()) throw Errno.ENOTDIR.exception();
                    link(ring.key(), key.key());
                } finally {
                    put(key.key());
                }
            } finally {
                put(ring.key());
            }
        } finally {
            endCall();
        }
    }

    /** KEYCTL_UNLINK: keyring needs write; the key needs nothing. ENOENT if not linked there. */
    public void unlink(Task t, int keyId, int keyringId) throws ErrnoException {
        try {
            KeyRef ring = lookup(t, keyringId, 0, KeyPerm.WRITE);
            try {
                KeyRef key = lookup(t, keyId, LOOKUP_PARTIAL, NEED_UNLINK);
                try {
                    if (!ring.key().isKeyring()) throw Errno.ENOTDIR.exception();
                    Key removed;
                    graph.writeLock().lock();
                    try {
                        String idx = indexKey(key.key());
                        removed = ring.key().links.get(idx) == key.key() ? ring.key().links.remove(idx) : null;
                    } finally {
                        graph.writeLock().unlock();
                    }
                    if (removed == null) throw Errno.ENOENT.exception();
                    put(removed);
                } finally {
                    put(key.key());
                }
            } finally {
                put(ring.key());
            }
        } finally {
            endCall();
        }
    }

    /**
     * KEYCTL_SEARCH: recursive search from a keyring the caller may search; the match must be
     * searchable too. With {@code destId != 0} the found key (which then needs link permission) is
     * linked there.
     */
    public int search(Task t, int keyringId, String typeName, String description, int destId) throws ErrnoException {
        try {
            KeyRef ring = lookup(t, keyringId, 0, KeyPerm.SEARCH);
            try {
                KeyRef dest = destId == 0 ? null : lookup(t, destId, LOOKUP_CREATE, KeyPerm.WRITE);
                try {
                    KeyType type = types.get(typeName);
                    if (type == null) throw Errno.ENOKEY.exception();
                    if (!ring.key().isKeyring()) throw Errno.ENOTDIR.exception();
                    if (dest != null && !dest.key().isKeyring()) throw Errno.ENOTDIR.exception();
                    KeyRef found = searchKeyring(ring, t.cred(), k -> k.type() == type && k.description().equals(description), true);
                    try {
                        if (dest != null) {
                            checkPermission(found, t.cred(), KeyPerm.LINK);
                            link(dest.key(), found.key());
                        }
                        return found.key().serial();
                    } finally {
                        put(found.key());
                    }
                } finally {
                    if (dest != null) put(dest.key());
                }
            } finally {
                put(ring.key());
            }
        } finally {
            endCall();
        }
    }

    /**
     * KEYCTL_READ: the payload (a keyring gives its serials as little-endian 32-bit words). Needs
     * read permission, or possession (possession implies the key was found by a search).
     */
    public byte[] read(Task t, int id) throws ErrnoException {
        try {
            KeyRef r = lookup(t, id, 0, NEED_DEFER);
            Key key = r.key();
            try {
                if (key.state == Key.State.NEGATIVE) throw Errno.ENOKEY.exception();
                try {
                    checkPermission(r, t.cred(), KeyPerm.READ);
                } catch (ErrnoException e) {
                    if (!r.possessed()) throw e;
                }
                if (!key.type().readable()) throw Errno.EOPNOTSUPP.exception();
                if (key.isKeyring()) {
                    validate(key);
                    List<Integer> ids = new ArrayList<>();
                    graph.readLock().lock();
                    try {
                        for (Key k : key.links.values()) ids.add(k.serial());
                    } finally {
                        graph.readLock().unlock();
                    }
                    byte[] out = new byte[ids.size() * 4];
                    for (int i = 0; i < ids.size(); i++) {
                        int v = ids.get(i);
                        out[4 * i] = (byte) v;
                        out[4 * i + 1] = (byte) (v >> 8);
                        out[4 * i + 2] = (byte) (v >> 16);
                        out[4 * i + 3] = (byte) (v >> 24);
                    }
                    return out;
                }
                key.sem().readLock().lock();
                try {
                    validate(key);
                    return key.type().read(key);
                } finally {
                    key.sem().readLock().unlock();
                }
            } finally {
                put(key);
            }
        } finally {
            endCall();
        }
    }

    /** The serials linked in a keyring (KEYCTL_READ on a keyring, decoded). */
    public List<Integer> readKeyring(Task t, int id) throws ErrnoException {
        byte[] b = read(t, id);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i + 3 < b.length; i += 4) {
            out.add((b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24);
        }
        return out;
    }

    /** KEYCTL_DESCRIBE: "type;uid;gid;perm;description" (perm as 8 hex digits). Needs view. */
    public String describe(Task t, int id) throws ErrnoException {
        try {
            KeyRef r = lookup(t, id, LOOKUP_PARTIAL, KeyPerm.VIEW);
            put(r.key());
            Key k = r.key();
            return String.format("%s;%d;%d;%08x;%s", k.type().name(), k.uid, k.gid, k.perm, k.description());
        } finally {
            endCall();
        }
    }

    /** KEYCTL_SETPERM: only the owner or CAP_SYS_ADMIN, and setattr permission. */
    public void setPerm(Task t, int id, int perm) throws ErrnoException {
        try {
            if ((perm & ~KeyPerm.VALID) != 0) throw Errno.EINVAL.exception();
            KeyRef r = lookup(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, KeyPerm.SETATTR);
            try {
                Key k = r.key();
                k.sem().writeLock().lock();
                try {
                    if (!t.cred().capable(Capability.CAP_SYS_ADMIN) && k.uid != t.cred().uid()) throw Errno.EACCES.exception();
                    k.perm = perm;
                } finally {
                    k.sem().writeLock().unlock();
                }
            } finally {
                put(r.key());
            }
        } finally {
            endCall();
        }
    }

    /**
     * KEYCTL_CHOWN ({@code -1} leaves a field unchanged): changing the owner needs CAP_SYS_ADMIN
     * and moves the quota charge (EDQUOT if the new owner has no room); a non-admin may only set a
     * group it is in.
     */
    public void chown(Task t, int id, int uid, int gid) throws ErrnoException {
        try {
            KeyRef r = lookup(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, KeyPerm.SETATTR);
            try {
                Key k = r.key();
                Cred c = t.cred();
                k.sem().writeLock().lock();
                try {
                    if (!c.capable(Capability.CAP_SYS_ADMIN)) {
                        if (uid != -1 && uid != k.uid) throw Errno.EACCES.exception();
                        if (gid != -1 && gid != k.gid && !c.inGroup(gid)) throw Errno.EACCES.exception();
                    }
                    if (uid != -1 && uid != k.uid) {
                        moveQuota(k, uid);
                        k.uid = uid;
                    }
                    if (gid != -1) k.gid = gid;
                } finally {
                    k.sem().writeLock().unlock();
                }
            } finally {
                put(r.key());
            }
        } finally {
            endCall();
        }
    }

    /** KEYCTL_SET_TIMEOUT: expire {@code seconds} from now (0 clears the expiry). Needs setattr. */
    public void setTimeout(Task t, int id, long seconds) throws ErrnoException {
        try {
            if (seconds < 0) throw Errno.EINVAL.exception();
            KeyRef r = lookup(t, id, LOOKUP_CREATE | LOOKUP_PARTIAL, KeyPerm.SETATTR);
            try {
                r.key().expiry = seconds == 0 ? null : clock.instant().plusSeconds(seconds);
                if (r.key().expiry != null) scheduleReap(r.key().expiry.plus(limits.gcDelay()));
            } finally {
                put(r.key());
            }
        } finally {
            endCall();
        }
    }

    /**
     * KEYCTL_JOIN_SESSION_KEYRING: {@code name == null} installs a new anonymous session keyring
     * "_ses"; otherwise joins the caller-searchable keyring of that name, creating it if needed.
     * Returns the session keyring's serial.
     */
    public int joinSessionKeyring(Task t, String name) throws ErrnoException {
        try {
            Process p = t.process();
            Cred c = t.cred();
            if (name == null) {
                Key ring = allocKeyring("_ses", c, KeyPerm.POS_ALL | KeyPerm.USR_VIEW | KeyPerm.USR_READ, true);
                installSession(p, ring);
                return ring.serial();
            }
            if (name.startsWith(".")) throw Errno.EPERM.exception();
            Key found = findKeyringByName(name, c);
            if (found == null) {
                found = allocKeyring(name, c, KeyPerm.POS_ALL | KeyPerm.USR_VIEW | KeyPerm.USR_READ | KeyPerm.USR_LINK, true);
            } else if (p.sessionKeyring() == found) {
                put(found);
                return found.serial();
            }
            installSession(p, found);
            return found.serial();
        } finally {
            endCall();
        }
    }

    private void installSession(Process p, Key ring) {
        Key old = p.setSessionKeyring(ring); // takes over the caller's reference
        if (old != null) put(old);
    }

    // ------------------------------------------------------------------ in-kernel API

    /** A key by serial for kernel users (no permission check), or null. The caller must {@link #release} it. */
    public Key acquire(int serial) {
        Key k = serials.get(serial);
        return k != null && k.state == Key.State.POSITIVE && tryGet(k) ? k : null;
    }

    /**
     * Looks up a key for a system call on behalf of {@code t} with the given permission
     * (e.g. encrypt_mprotect needs view) and validates it. The caller must {@link #release} it.
     */
    public Key lookupForTask(Task t, int id, int needPerm) throws ErrnoException {
        try {
            return lookup(t, id, 0, needPerm).key();
        } finally {
            endCall();
        }
    }

    /** Drops a reference taken by {@link #acquire} or {@link #lookupForTask}. */
    public void release(Key k) {
        put(k);
        endCall();
    }

    /** All live (not yet destroyed) keys, by serial. Diagnostic and invariant checks. */
    public List<Key> liveKeys() {
        List<Key> l = new ArrayList<>(serials.values());
        l.sort(Comparator.comparingInt(Key::serial));
        return l;
    }

    /** A thread exits: its thread keyring reference is dropped. */
    public void exitThread(Task t) {
        Key k = t.setThreadKeyring(null);
        if (k != null) put(k);
        endCall();
    }

    /** A process exits: thread, process and session keyring references are dropped. */
    public void exitProcess(Process p) {
        for (Task t : p.threads()) {
            Key k = t.setThreadKeyring(null);
            if (k != null) put(k);
        }
        Key pk = p.setProcessKeyring(null);
        if (pk != null) put(pk);
        Key sk = p.setSessionKeyring(null);
        if (sk != null) put(sk);
        endCall();
    }

    // ------------------------------------------------------------------ listings

    /** /proc/keys as seen by {@code t}: keys the caller may view (possession counted). */
    public String procKeys(Task t) {
        StringBuilder sb = new StringBuilder();
        Instant now = clock.instant();
        for (Key k : liveKeys()) {
            if (!tryGet(k)) continue;
            try {
                boolean possessed = isPossessed(t, k);
                try {
                    checkPermission(new KeyRef(k, possessed), t.cred(), KeyPerm.VIEW);
                } catch (ErrnoException e) {
                    continue;
                }
                String timo;
                if (k.expiry == null) timo = "perm";
                else {
                    long s = Duration.between(now, k.expiry).getSeconds();
                    if (!now.isBefore(k.expiry)) timo = "expd";
                    else if (s < 60) timo = s + "s";
                    else if (s < 3600) timo = s / 60 + "m";
                    else if (s < 86400) timo = s / 3600 + "h";
                    else if (s < 604800) timo = s / 86400 + "d";
                    else timo = s / 604800 + "w";
                }
                sb.append(String.format("%08x %c%c%c%c%c%c%c %5d %4s %08x %5d %5d %-9.9s %s%n",
                        k.serial(),
                        k.state != Key.State.UNINSTANTIATED ? 'I' : '-', // instantiated: positive or negative (proc_keys_show)
                        k.revoked ? 'R' : '-',
                        k.dead ? 'D' : '-',
                        k.inQuota ? 'Q' : '-',
                        k.state == Key.State.UNINSTANTIATED ? 'U' : '-',
                        k.state == Key.State.NEGATIVE ? 'N' : '-',
                        k.invalidated ? 'i' : '-',
                        k.usage.get() - 1, timo, k.perm, k.uid, k.gid, k.type().name(), k.type().describe(k)));
            } finally {
                put(k);
            }
        }
        return sb.toString();
    }

    /** /proc/key-users: "uid: usage nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes". */
    public String procKeyUsers() {
        StringBuilder sb = new StringBuilder();
        for (KeyUser u : new TreeMap<>(users).values()) {
            synchronized (u) {
                boolean root = u.uid == 0;
                sb.append(String.format("%5d: %5d %d/%d %d/%d %d/%d%n", u.uid, u.nkeys, u.nkeys, u.nikeys,
                        u.qnkeys, root ? limits.rootMaxKeys() : limits.maxKeys(),
                        u.qnbytes, root ? limits.rootMaxBytes() : limits.maxBytes()));
            }
        }
        return sb.toString();
    }

    /** Quota usage of {@code uid}: {keys, bytes} charged. */
    public long[] quotaUsage(int uid) {
        KeyUser u = users.get(uid);
        if (u == null) return new long[] {0, 0};
        synchronized (u) {
            return new long[] {u.qnkeys, u.qnbytes};
        }
    }

    // ------------------------------------------------------------------ garbage collection

    /**
     * One gc pass (security/keys/gc.c): unlinks invalidated keys from every keyring, and revoked or
     * expired ones whose grace period (gc_delay) is over; then destroys every key nobody refers to.
     */
    public void gc() {
        gcLock.lock();
        try {
            gcWanted = false;
            Instant now = clock.instant();
            synchronized (this) {
                if (nextReap != null && !now.isBefore(nextReap)) nextReap = null;
            }
            List<Key> unlinked = new ArrayList<>();
            graph.writeLock().lock();
            try {
                for (Key ring : serials.values()) {
                    if (!ring.isKeyring() || ring.dead) continue;
                    var it = ring.links.values().iterator();
                    while (it.hasNext()) {
                        Key k = it.next();
                        if (collectable(k, now)) {
                            it.remove();
                            unlinked.add(k);
                        } else {
                            Instant due = reapDue(k);
                            if (due != null) scheduleReap(due);
                        }
                    }
                }
            } finally {
                graph.writeLock().unlock();
            }
            unlinked.forEach(this::put);
            Key dead;
            while ((dead = graveyard.poll()) != null) destroyKey(dead);
        } finally {
            gcLock.unlock();
        }
    }

    /** When a revoked or expiring key's grace period ends, or null. */
    private Instant reapDue(Key k) {
        Instant gone = k.revoked ? k.revokedAt : null;
        if (k.expiry != null && (gone == null || k.expiry.isBefore(gone))) gone = k.expiry;
        return gone == null ? null : gone.plus(limits.gcDelay());
    }

    private boolean collectable(Key k, Instant now) {
        if (k.invalidated || k.dead) return true;
        Instant gone = null;
        if (k.revoked) gone = k.revokedAt;
        if (k.expiry != null && !now.isBefore(k.expiry)) gone = gone == null || k.expiry.isBefore(gone) ? k.expiry : gone;
        return gone != null && !now.isBefore(gone.plus(limits.gcDelay()));
    }

    private void destroyKey(Key k) {
        serialLock.lock();
        try {
            serials.remove(k.serial(), k);
        } finally {
            serialLock.unlock();
        }
        k.dead = true;
        List<Key> children = List.of();
        if (k.isKeyring()) {
            graph.writeLock().lock();
            try {
                children = new ArrayList<>(k.links.values());
                k.links.clear();
            } finally {
                graph.writeLock().unlock();
            }
        }
        KeyUser u = k.user;
        synchronized (u) {
            u.nkeys--;
            if (k.state == Key.State.POSITIVE) u.nikeys--;
            if (k.inQuota) {
                u.qnkeys--;
                u.qnbytes -= k.quotalen;
            }
        }
        try {
            k.type().destroy(k);
        } finally {
            k.setPayload(null);
            children.forEach(this::put);
        }
    }

    private void endCall() {
        if (!autoGc) return;
        Instant reap = nextReap;
        if (gcWanted || !graveyard.isEmpty() || (reap != null && !clock.instant().isBefore(reap))) gc();
    }

    private void reapIfDue() {
        Instant reap = nextReap;
        if (autoGc && reap != null && !clock.instant().isBefore(reap)) gc();
    }

    private synchronized void scheduleReap(Instant when) {
        if (nextReap == null || when.isBefore(nextReap)) nextReap = when;
    }

    // ------------------------------------------------------------------ internals: refs

    private boolean tryGet(Key k) {
        int u;
        do {
            u = k.usage.get();
            if (u <= 0) return false;
        } while (!k.usage.compareAndSet(u, u + 1));
        return true;
    }

    private void get(Key k) {
        if (!tryGet(k)) throw new IllegalStateException("key_get on a dying key " + k.serial());
    }

    /** key_put: the last reference queues the key for the gc. */
    void put(Key k) {
        int u = k.usage.decrementAndGet();
        if (u == 0) {
            graveyard.add(k);
            gcWanted = true;
        } else if (u < 0) {
            throw new IllegalStateException("key usage underflow on " + k.serial());
        }
    }

    // ------------------------------------------------------------------ internals: allocation

    private int allocSerialLocked() {
        int s = serialRandom.nextInt() >>> 1;
        if (s < 3) s = 3;
        while (serials.containsKey(s)) {
            s++;
            if (s < 3) s = 3;
        }
        return s;
    }

    private KeyUser user(int uid) {
        return users.computeIfAbsent(uid, KeyUser::new);
    }

    /** key_alloc: charges the quota, assigns a serial. The caller holds the returned reference. */
    private Key allocKey(KeyType type, String description, int uid, int gid, int perm, boolean quotaOverrun) throws ErrnoException {
        KeyUser u = user(uid);
        int quotalen = description.length() + 1 + type.defDatalen();
        synchronized (u) {
            if (!quotaOverrun) {
                int maxKeys = uid == 0 ? limits.rootMaxKeys() : limits.maxKeys();
                long maxBytes = uid == 0 ? limits.rootMaxBytes() : limits.maxBytes();
                if (u.qnkeys + 1 > maxKeys || u.qnbytes + quotalen > maxBytes) throw Errno.EDQUOT.exception();
            }
            u.qnkeys++;
            u.qnbytes += quotalen;
            u.nkeys++;
        }
        serialLock.lock();
        try {
            Key k = new Key(allocSerialLocked(), type, description, u, uid, gid, perm);
            k.inQuota = true;
            k.quotalen = quotalen;
            serials.put(k.serial(), k);
            return k;
        } finally {
            serialLock.unlock();
        }
    }

    private Key allocKeyring(String name, Cred c, int perm, boolean quotaOverrun) throws ErrnoException {
        Key k = allocKey(keyringType, name, c.uid(), c.gid(), perm, quotaOverrun);
        k.state = Key.State.POSITIVE;
        synchronized (k.user) {
            k.user.nikeys++;
        }
        return k;
    }

    /** Charges {@code delta} payload bytes (key_payload_reserve). */
    private void reservePayload(Key k, int newDatalen) throws ErrnoException {
        int delta = newDatalen - k.datalen;
        if (delta != 0 && k.inQuota) {
            KeyUser u = k.user;
            synchronized (u) {
                long maxBytes = u.uid == 0 ? limits.rootMaxBytes() : limits.maxBytes();
                if (delta > 0 && u.qnbytes + delta > maxBytes) throw Errno.EDQUOT.exception();
                u.qnbytes += delta;
                k.quotalen += delta;
            }
        }
        k.datalen = newDatalen;
    }

    /** chown: the key's quota charge moves to the new owner (EDQUOT if it has no room). */
    private void moveQuota(Key k, int newUid) throws ErrnoException {
        KeyUser to = user(newUid);
        KeyUser from = k.user;
        if (to == from) return;
        boolean positive = k.state == Key.State.POSITIVE;
        synchronized (to) {
            if (k.inQuota) {
                int maxKeys = newUid == 0 ? limits.rootMaxKeys() : limits.maxKeys();
                long maxBytes = newUid == 0 ? limits.rootMaxBytes() : limits.maxBytes();
                if (to.qnkeys + 1 > maxKeys || to.qnbytes + k.quotalen > maxBytes) throw Errno.EDQUOT.exception();
                to.qnkeys++;
                to.qnbytes += k.quotalen;
            }
            to.nkeys++;
            if (positive) to.nikeys++;
        }
        synchronized (from) {
            if (k.inQuota) {
                from.qnkeys--;
                from.qnbytes -= k.quotalen;
            }
            from.nkeys--;
            if (positive) from.nikeys--;
        }
        k.user = to;
    }

    private void instantiate(Key key, Preparsed prep) throws ErrnoException {
        key.sem().writeLock().lock();
        try {
            if (key.state != Key.State.UNINSTANTIATED) throw Errno.EBUSY.exception();
            reservePayload(key, prep.quotalen);
            try {
                key.type().instantiate(key, prep);
            } catch (ErrnoException | RuntimeException e) {
                reservePayload(key, 0);
                throw e;
            }
            if (prep.expiry != null) {
                key.expiry = prep.expiry;
                scheduleReap(prep.expiry.plus(limits.gcDelay()));
            }
            key.state = Key.State.POSITIVE;
            synchronized (key.user) {
                key.user.nikeys++;
            }
        } finally {
            key.sem().writeLock().unlock();
        }
    }

    private void updateLocked(Key key, Preparsed prep) throws ErrnoException {
        key.sem().writeLock().lock();
        try {
            validate(key);
            int oldLen = key.datalen;
            reservePayload(key, prep.quotalen);
            try {
                key.type().update(key, prep);
            } catch (ErrnoException | RuntimeException e) {
                reservePayload(key, oldLen);
                throw e;
            }
            if (prep.expiry != null) key.expiry = prep.expiry;
        } finally {
            key.sem().writeLock().unlock();
        }
    }

    // ------------------------------------------------------------------ internals: keyrings

    private static String indexKey(Key k) {
        return k.type().name() + '\0' + k.description();
    }

    /** A direct (non-recursive) match in a keyring that is neither revoked nor invalidated; referenced. */
    private Key findInKeyring(Key ring, KeyType type, String description) {
        graph.readLock().lock();
        try {
            Key k = ring.links.get(type.name() + '\0' + description);
            if (k == null || k.revoked || k.invalidated || !tryGet(k)) return null;
            return k;
        } finally {
            graph.readLock().unlock();
        }
    }

    /** key_link with cycle (EDEADLK) and depth (ELOOP) checks; replaces a same-index link. */
    private void link(Key ring, Key key) throws ErrnoException {
        Key replaced;
        graph.writeLock().lock();
        try {
            if (ring.dead) throw Errno.EKEYREVOKED.exception();
            if (key.isKeyring()) {
                if (key == ring || reaches(key, ring, 0)) throw Errno.EDEADLK.exception();
                // keyring_detect_cycle searches the new keyring with DETECT_TOO_DEEP: meeting a
                // keyring while already KEYRING_SEARCH_MAX_DEPTH levels down is ELOOP, i.e. a
                // subtree of KEYRING_SEARCH_MAX_DEPTH + 2 keyrings or more.
                if (height(key, 1) >= KEYRING_SEARCH_MAX_DEPTH + 2) throw Errno.ELOOP.exception();
            }
            String idx = indexKey(key);
            Key cur = ring.links.get(idx);
            if (cur == key) return;
            get(key);
            replaced = ring.links.put(idx, key);
        } finally {
            graph.writeLock().unlock();
        }
        if (replaced != null) put(replaced);
    }

    private boolean reaches(Key from, Key target, int depth) {
        if (depth > KEYRING_SEARCH_MAX_DEPTH * 4) return true;
        for (Key k : from.links.values()) {
            if (k == target) return true;
            if (k.isKeyring() && reaches(k, target, depth + 1)) return true;
        }
        return false;
    }

    /** Nesting height of a keyring's subtree (a keyring with no keyrings in it has height 1). */
    private int height(Key ring, int depth) {
        int h = 1;
        if (depth > KEYRING_SEARCH_MAX_DEPTH + 2) return h + KEYRING_SEARCH_MAX_DEPTH + 2;
        for (Key k : ring.links.values()) if (k.isKeyring()) h = Math.max(h, 1 + height(k, depth + 1));
        return h;
    }

    private Key findKeyringByName(String name, Cred c) {
        for (Key k : liveKeys()) {
            if (!k.isKeyring() || k.dead || k.revoked || k.invalidated || !k.description().equals(name)) continue;
            if (!tryGet(k)) continue;
            try {
                checkPermission(new KeyRef(k, false), c, KeyPerm.SEARCH);
                return k;
            } catch (ErrnoException e) {
                put(k);
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ internals: lookup & permission

    /** key_validate: invalidated or dead ENOKEY, revoked EKEYREVOKED, expired EKEYEXPIRED. */
    private void validate(Key k) throws ErrnoException {
        if (k.invalidated || k.dead) throw Errno.ENOKEY.exception();
        if (k.revoked) throw Errno.EKEYREVOKED.exception();
        if (k.expiry != null && !clock.instant().isBefore(k.expiry)) throw Errno.EKEYEXPIRED.exception();
    }

    /** key_task_permission: user, else group, else other bits; plus possessor bits if possessed. */
    static void checkPermission(KeyRef r, Cred c, int need) throws ErrnoException {
        if (need <= 0) return;
        Key k = r.key();
        int perm = k.perm;
        int kperm;
        if (k.uid == c.uid()) kperm = perm >> 16;
        else if (k.gid != -1 && (perm & KeyPerm.GRP_ALL) != 0 && c.inGroup(k.gid)) kperm = perm >> 8;
        else kperm = perm;
        if (r.possessed()) kperm |= perm >>> 24;
        if ((kperm & need & KeyPerm.ALL) != need) throw Errno.EACCES.exception();
    }

    /** lookup_user_key: resolves special IDs (creating keyrings on demand) or a serial; referenced. */
    KeyRef lookup(Task t, int id, int lflags, int need) throws ErrnoException {
        reapIfDue(); // the gc timer (key_schedule_gc) has fired by the time the call looks
        Cred c = t.cred();
        Key key;
        boolean possessed = true;
        boolean create = (lflags & LOOKUP_CREATE) != 0;
        switch (id) {
            case KEY_SPEC_THREAD_KEYRING -> {
                key = t.threadKeyring();
                if (key == null) {
                    if (!create) throw Errno.ENOKEY.exception();
                    key = allocKeyring("_tid", c, KeyPerm.POS_ALL | KeyPerm.USR_VIEW, true);
                    Key raced = t.setThreadKeyring(key);
                    if (raced != null) put(raced);
                }
                get(key);
            }
            case KEY_SPEC_PROCESS_KEYRING -> {
                Process p = t.process();
                synchronized (p) {
                    key = p.processKeyring();
                    if (key == null) {
                        if (!create) throw Errno.ENOKEY.exception();
                        key = allocKeyring("_pid", c, KeyPerm.POS_ALL | KeyPerm.USR_VIEW, true);
                        p.setProcessKeyring(key);
                    }
                    get(key);
                }
            }
            case KEY_SPEC_SESSION_KEYRING -> {
                Process p = t.process();
                synchronized (p) {
                    key = p.sessionKeyring();
                    if (key == null) {
                        // Linux installs the user-session keyring as the session keyring on first access.
                        key = userKeyrings(c)[1];
                        get(key);
                        p.setSessionKeyring(key);
                    }
                    get(key);
                }
            }
            case KEY_SPEC_USER_KEYRING -> {
                key = userKeyrings(c)[0];
                get(key);
            }
            case KEY_SPEC_USER_SESSION_KEYRING -> {
                key = userKeyrings(c)[1];
                get(key);
            }
            case KEY_SPEC_GROUP_KEYRING -> throw Errno.EINVAL.exception();
            case KEY_SPEC_REQKEY_AUTH_KEY, KEY_SPEC_REQUESTOR_KEYRING -> throw Errno.ENOKEY.exception();
            default -> {
                if (id < 1) throw Errno.EINVAL.exception();
                key = serials.get(id);
                if (key == null || key.state == Key.State.UNINSTANTIATED || !tryGet(key)) throw Errno.ENOKEY.exception();
                possessed = isPossessed(t, key);
            }
        }
        try {
            if (need != NEED_UNLINK && need != NEED_DEFER) {
                validate(key);
                checkPermission(new KeyRef(key, possessed), c, need);
            }
        } catch (ErrnoException e) {
            put(key);
            throw e;
        }
        return new KeyRef(key, possessed);
    }

    private Key[] userKeyrings(Cred c) throws ErrnoException {
        Key[] r = userKeyrings.get(c.uid());
        if (r != null) return r;
        synchronized (userKeyrings) {
            r = userKeyrings.get(c.uid());
            if (r != null) return r;
            int perm = (KeyPerm.POS_ALL & ~KeyPerm.POS_SETATTR) | KeyPerm.USR_ALL;
            Cred owner = new Cred(c.uid(), c.gid(), Set.of(), Set.of());
            Key user = allocKeyring("_uid." + c.uid(), owner, perm, true);
            Key ses = allocKeyring("_uid_ses." + c.uid(), owner, perm, true);
            link(ses, user);
            r = new Key[] {user, ses};
            userKeyrings.put(c.uid(), r);
            return r;
        }
    }

    /** Whether {@code key} can be found from {@code t}'s keyrings (search_process_keyrings by identity). */
    private boolean isPossessed(Task t, Key key) {
        try {
            Key k = searchProcessKeyrings(t, x -> x == key, true);
            put(k);
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** search_process_keyrings: thread, process, then session keyring (or the user-session keyring). */
    private Key searchProcessKeyrings(Task t, java.util.function.Predicate<Key> match, boolean noStateCheck) throws ErrnoException {
        Cred c = t.cred();
        ErrnoException best = null;
        List<Key> roots = new ArrayList<>(3);
        if (t.threadKeyring() != null) roots.add(t.threadKeyring());
        if (t.process().processKeyring() != null) roots.add(t.process().processKeyring());
        Key ses = t.process().sessionKeyring();
        if (ses != null) roots.add(ses);
        else {
            Key[] uk = userKeyrings.get(c.uid());
            if (uk != null) roots.add(uk[1]);
        }
        for (Key root : roots) {
            try {
                KeyRef r = searchKeyring(new KeyRef(root, true), c, match, !noStateCheck);
                return r.key();
            } catch (ErrnoException e) {
                if (e.errno() != Errno.ENOKEY && e.errno() != Errno.EACCES && best == null) best = e;
            }
        }
        throw best != null ? best : Errno.ENOKEY.exception();
    }

    /**
     * keyring_search: breadth-first per keyring, descending into searchable nested keyrings up to
     * {@link #KEYRING_SEARCH_MAX_DEPTH}; possession is inherited from the start. A revoked or expired
     * match is skipped but its error returned if nothing better is found. Result is referenced.
     */
    private KeyRef searchKeyring(KeyRef start, Cred c, java.util.function.Predicate<Key> match, boolean stateCheck) throws ErrnoException {
        checkPermission(start, c, KeyPerm.SEARCH);
        if (stateCheck) validate(start.key());
        ErrnoException skipped = null;
        graph.readLock().lock();
        try {
            // The top-level keyring is itself a candidate (search_nested_keyrings checks it before its
            // contents): so the thread and process keyrings are possessed by their own task.
            Key top = start.key();
            if (match.test(top) && !top.dead && tryGet(top)) return new KeyRef(top, start.possessed());
            Deque<Object[]> queue = new ArrayDeque<>();
            Set<Key> seen = new HashSet<>();
            queue.add(new Object[] {start.key(), 0});
            seen.add(start.key());
            while (!queue.isEmpty()) {
                Object[] e = queue.poll();
                Key ring = (Key) e[0];
                int depth = (Integer) e[1];
                for (Key k : ring.links.values()) {
                    if (!match.test(k)) continue;
                    if (k.dead) continue;
                    try {
                        checkPermission(new KeyRef(k, start.possessed()), c, KeyPerm.SEARCH);
                        if (stateCheck) validate(k);
                    } catch (ErrnoException ex) {
                        if (skipped == null || ex.errno() != Errno.EACCES) skipped = ex;
                        continue;
                    }
                    if (tryGet(k)) return new KeyRef(k, start.possessed());
                }
                if (depth >= KEYRING_SEARCH_MAX_DEPTH) continue; // nested keyrings beyond the limit are skipped
                for (Key k : ring.links.values()) {
                    if (!k.isKeyring() || !seen.add(k) || k.dead || k.revoked || k.invalidated) continue;
                    try {
                        checkPermission(new KeyRef(k, start.possessed()), c, KeyPerm.SEARCH);
                    } catch (ErrnoException ex) {
                        continue;
                    }
                    queue.add(new Object[] {k, depth + 1});
                }
            }
        } finally {
            graph.readLock().unlock();
        }
        if (skipped != null && skipped.errno() != Errno.EACCES) throw skipped;
        throw Errno.ENOKEY.exception();
    }
}
