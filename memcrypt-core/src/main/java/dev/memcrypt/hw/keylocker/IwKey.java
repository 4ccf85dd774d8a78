package dev.memcrypt.hw.keylocker;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.Destroyable;

/**
 * An internal wrapping key (SPEC-FACTS §3, LOADIWKEY): IntegrityKey (128 bits, from XMM0),
 * EncryptionKey (256 bits: [127:0] from SRC2, [255:128] from SRC1) and the metadata NoBackup and
 * KeySource.
 *
 * <p>Design note: architectural state that software can never read. The key bytes are private to
 * this package (there is no getter); code outside hw.keylocker can only move an IwKey between a
 * core, the platform backup and a hypervisor's per-vCPU save area, the way hardware and KVM do.
 * Every IwKey has a unique {@link #generation()} so speed-only caches keyed by it never outlive it.
 */
public final class IwKey implements Destroyable {
    private static final AtomicLong GENERATIONS = new AtomicLong();

    private final byte[] integrity; // 16
    private final byte[] encryption; // 32, EncryptionKey[255:0] little-endian: SRC2 bytes then SRC1 bytes
    private final boolean noBackup;
    private final int keySource;
    private final long generation;
    private volatile boolean destroyed;

    IwKey(byte[] integrity16, byte[] encryption32, boolean noBackup, int keySource) {
        this(integrity16, encryption32, noBackup, keySource, GENERATIONS.incrementAndGet());
    }

    private IwKey(byte[] integrity16, byte[] encryption32, boolean noBackup, int keySource, long generation) {
        this.generation = generation;
        this.integrity = integrity16.clone();
        this.encryption = encryption32.clone();
        this.noBackup = noBackup;
        this.keySource = keySource;
    }

    /** The IWKey a core holds after reset or power loss: all-zero keys, KeySource 0, backup allowed (model choice). */
    static IwKey zero() {
        return new IwKey(new byte[16], new byte[32], false, 0);
    }

    /** A copy of the same key (what the backup, a restore or a vCPU load holds); same value, same generation. */
    public IwKey copy() {
        check();
        return new IwKey(integrity, encryption, noBackup, keySource, generation);
    }

    byte[] integrity() {
        check();
        return integrity;
    }

    byte[] encryption() {
        check();
        return encryption;
    }

    /** IWKey.NoBackup: the key may not be copied to the platform backup. */
    public boolean noBackup() {
        return noBackup;
    }

    /** IWKey.KeySource: 0 software-provided, 1 XORed with hardware randomness. */
    public int keySource() {
        return keySource;
    }

    /**
     * Identifies this key value to speed-only caches without revealing it: every LOADIWKEY makes a
     * new generation; copies of one key (backup, restore, a hypervisor's vCPU load) share it.
     */
    public long generation() {
        return generation;
    }

    /** Constant-time equality of the key material and metadata (for tests of save/restore; reveals nothing else). */
    public boolean sameAs(IwKey o) {
        if (o == null) return false;
        return java.security.MessageDigest.isEqual(integrity(), o.integrity()) && java.security.MessageDigest.isEqual(encryption(), o.encryption())
                && noBackup == o.noBackup && keySource == o.keySource;
    }

    private void check() {
        if (destroyed) throw new IllegalStateException("IwKey used after destroy()");
    }

    @Override
    public void destroy() {
        destroyed = true;
        Arrays.fill(integrity, (byte) 0);
        Arrays.fill(encryption, (byte) 0);
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "IwKey[redacted, keySource=" + keySource + (noBackup ? ", noBackup" : "") + "]";
    }
}
