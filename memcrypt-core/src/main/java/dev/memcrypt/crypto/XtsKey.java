package dev.memcrypt.crypto;

import java.util.Arrays;
import javax.security.auth.Destroyable;

/**
 * An XTS-AES-128 key pair: key1 (data key, 16 bytes) || key2 (tweak key, 16 bytes).
 *
 * <p>The only holder of raw key bytes in memcrypt. {@link #destroy()} wipes them (and any
 * engine-prepared schedule); {@link #toString()} never shows them. Engines may cache a prepared
 * key schedule here ({@link #prepared}); that is speed-only state, wiped with the key.
 */
public final class XtsKey implements Destroyable, AutoCloseable {
    private final byte[] bytes; // key1 || key2
    private volatile boolean destroyed;
    /** Speed-only: engine-specific prepared schedule, created lazily, closed on destroy. */
    volatile AutoCloseable prepared;

    private XtsKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Copies a 32-byte key (key1 || key2). */
    public static XtsKey of(byte[] key32) {
        if (key32 == null || key32.length != 32) {
            throw new IllegalArgumentException("XTS-AES-128 key must be 32 bytes, got " + (key32 == null ? "null" : key32.length));
        }
        return new XtsKey(key32.clone());
    }

    /** Copies a data key and a tweak key of 16 bytes each. */
    public static XtsKey of(byte[] dataKey16, byte[] tweakKey16) {
        if (dataKey16 == null || dataKey16.length != 16 || tweakKey16 == null || tweakKey16.length != 16) {
            throw new IllegalArgumentException("data key and tweak key must be 16 bytes each");
        }
        byte[] b = new byte[32];
        System.arraycopy(dataKey16, 0, b, 0, 16);
        System.arraycopy(tweakKey16, 0, b, 16, 16);
        return new XtsKey(b);
    }

    /** Raw bytes for engines in this package only. */
    byte[] raw() {
        if (destroyed) throw new IllegalStateException("XtsKey used after destroy()");
        return bytes;
    }

    /** A copy of the key bytes, for code that must move key material (e.g. a key vault). Caller wipes it. */
    public byte[] copyBytes() {
        return raw().clone();
    }

    @Override
    public void destroy() {
        destroyed = true;
        Arrays.fill(bytes, (byte) 0);
        AutoCloseable p = prepared;
        prepared = null;
        if (p != null) {
            try {
                p.close();
            } catch (Exception ignored) {
                // wiping must not fail
            }
        }
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        return destroyed ? "XtsKey[destroyed]" : "XtsKey[redacted]";
    }
}
