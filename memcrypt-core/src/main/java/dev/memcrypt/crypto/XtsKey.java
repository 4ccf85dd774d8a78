package dev.memcrypt.crypto;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.function.Supplier;
import javax.security.auth.Destroyable;

/**
 * An XTS-AES-128 key pair: key1 (data key, 16 bytes) || key2 (tweak key, 16 bytes).
 *
 * <p>The only holder of raw key bytes in memcrypt. {@link #destroy()} wipes them and closes every
 * engine-prepared state; {@link #toString()} never shows them.
 *
 * <p>Speed-only state: engines cache prepared key schedules (JDK ciphers, libcrypto contexts) on the
 * key, one slot per engine ({@link #prepared(Object, Supplier)}). That state is not architectural: it
 * can be dropped at any time and is rebuilt from the key bytes; {@link #destroy()} closes it, and the
 * engines' close wipes or frees whatever copy of the key schedule they hold.
 *
 * <p>Safety net: a key that becomes unreachable without {@link #destroy()} is wiped by a
 * {@link Cleaner} (bytes zeroed, native contexts freed); callers should still destroy keys
 * promptly, since garbage collection may come late or never.
 */
public final class XtsKey implements Destroyable, AutoCloseable {
    private static final Object[] NO_SLOTS = new Object[0];
    private static final Cleaner CLEANER = Cleaner.create();

    private final byte[] bytes; // key1 || key2
    private final State state;
    private final Cleaner.Cleanable cleanable;

    /**
     * Everything destroy() must reach, kept apart from the key object so the Cleaner can run it
     * without keeping the key reachable. Also the lock for the prepared slots.
     */
    private static final class State implements Runnable {
        private final byte[] bytes;
        volatile boolean destroyed;
        /** Speed-only: alternating (engine tag, AutoCloseable state) pairs; copy-on-write under this. */
        volatile Object[] prepared = NO_SLOTS;

        State(byte[] bytes) {
            this.bytes = bytes;
        }

        /** A copy of the key bytes, or IllegalStateException once destroyed. */
        synchronized byte[] copy() {
            if (destroyed) throw new IllegalStateException("XtsKey used after destroy()");
            return bytes.clone();
        }

        @Override
        public void run() {
            Object[] s;
            synchronized (this) {
                destroyed = true;
                Arrays.fill(bytes, (byte) 0);
                s = prepared;
                prepared = NO_SLOTS;
            }
            for (int i = 1; i < s.length; i += 2) {
                try {
                    ((AutoCloseable) s[i]).close();
                } catch (Exception ignored) {
                    // wiping must not fail
                }
            }
        }
    }

    private XtsKey(byte[] bytes) {
        this.bytes = bytes;
        this.state = new State(bytes);
        this.cleanable = CLEANER.register(this, state);
    }

    /** Copies a key1 || key2 of 32 bytes (XTS-AES-128) or 64 bytes (XTS-AES-256, IEEE 1619-2007 §5.1). */
    public static XtsKey of(byte[] key) {
        if (key == null || (key.length != 32 && key.length != 64)) {
            throw new IllegalArgumentException("XTS-AES key must be 32 bytes (XTS-AES-128) or 64 bytes (XTS-AES-256), got " + (key == null ? "null" : key.length));
        }
        return new XtsKey(key.clone());
    }

    /** Copies a data key and a tweak key of 16 bytes each (XTS-AES-128) or 32 bytes each (XTS-AES-256). */
    public static XtsKey of(byte[] dataKey, byte[] tweakKey) {
        if (dataKey == null || tweakKey == null || dataKey.length != tweakKey.length || (dataKey.length != 16 && dataKey.length != 32)) {
            throw new IllegalArgumentException("data key and tweak key must be 16 bytes each (XTS-AES-128) or 32 bytes each (XTS-AES-256)");
        }
        int h = dataKey.length;
        byte[] b = new byte[2 * h];
        System.arraycopy(dataKey, 0, b, 0, h);
        System.arraycopy(tweakKey, 0, b, h, h);
        return new XtsKey(b);
    }

    /** The AES key size of each half: 128 (XTS-AES-128) or 256 (XTS-AES-256). Fixed for the key's life. */
    public int aesBits() {
        return bytes.length * 4;
    }

    /** Raw bytes for engines in this package only. */
    byte[] raw() {
        if (state.destroyed) throw new IllegalStateException("XtsKey used after destroy()");
        return bytes;
    }

    /** True when key1 equals key2 (allowed by memcrypt, refused by some libraries' XTS modes). */
    boolean halvesEqual() {
        byte[] b = raw();
        int h = b.length / 2, d = 0;
        for (int i = 0; i < h; i++) d |= b[i] ^ b[h + i];
        return d == 0;
    }

    /** Speed-only: the state {@code engine} already prepared for this key, or null (no allocation: the per-call fast path). */
    @SuppressWarnings("unchecked")
    <T extends AutoCloseable> T preparedOrNull(Object engine) {
        Object[] s = state.prepared;
        for (int i = 0; i < s.length; i += 2) {
            if (s[i] == engine) return (T) s[i + 1];
        }
        return null;
    }

    /**
     * Speed-only: the state {@code engine} prepared for this key, created by {@code factory} on first
     * use. The state is closed when the key is destroyed (or at once, if it was destroyed meanwhile).
     */
    @SuppressWarnings("unchecked")
    <T extends AutoCloseable> T prepared(Object engine, Supplier<T> factory) {
        Object[] s = state.prepared;
        for (int i = 0; i < s.length; i += 2) {
            if (s[i] == engine) return (T) s[i + 1];
        }
        synchronized (state) {
            raw(); // throws if destroyed
            s = state.prepared;
            for (int i = 0; i < s.length; i += 2) {
                if (s[i] == engine) return (T) s[i + 1];
            }
            T made = factory.get();
            Object[] n = Arrays.copyOf(s, s.length + 2);
            n[s.length] = engine;
            n[s.length + 1] = made;
            state.prepared = n;
            return made;
        }
    }

    /**
     * For engines building prepared state: a source of key-byte copies (caller wipes each) that
     * does not keep this key reachable, so the Cleaner can still run if the key is dropped.
     */
    Supplier<byte[]> keyCopies() {
        return state::copy;
    }

    /** A copy of the key bytes, for code that must move key material (e.g. a key vault). Caller wipes it. */
    public byte[] copyBytes() {
        return raw().clone();
    }

    @Override
    public void destroy() {
        cleanable.clean(); // runs State.run() once: zeroes the bytes, closes prepared state
    }

    /** Speed-only: how many engines hold prepared state for this key (for tests of key hygiene). */
    int preparedCount() {
        return state.prepared.length / 2;
    }

    @Override
    public boolean isDestroyed() {
        return state.destroyed;
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        return state.destroyed ? "XtsKey[destroyed]" : "XtsKey[redacted]";
    }
}
