package dev.memcrypt.crypto;

/**
 * IEEE 1619-2007 XTS-AES-128 and its memory-line mode.
 *
 * <p>Line mode: one data unit is one 64-byte cache line; the tweak is the line's physical address
 * (KeyID bits already stripped by the caller) as a 128-bit little-endian integer, XOR the per-boot
 * {@link LineTweak salt} (SPEC-FACTS §1). Implementations are thread-safe.
 */
public interface XtsEngine {
    int LINE = 64;
    int BLOCK = 16;

    /** The fastest engine available on this machine (native libcrypto if it loads, else pure Java). */
    static XtsEngine best() {
        return JavaXts.INSTANCE; // TODO native backend
    }

    /** The pure-Java reference engine (JDK AES). */
    static XtsEngine java() {
        return JavaXts.INSTANCE;
    }

    /** Short name for reports, e.g. "libcrypto" or "java". */
    String name();

    /** Encrypts one data unit of {@code len >= 16} bytes under a 16-byte tweak. In-place allowed. */
    void encrypt(XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff);

    /** Decrypts one data unit of {@code len >= 16} bytes under a 16-byte tweak. In-place allowed. */
    void decrypt(XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff);

    /**
     * Encrypts {@code nLines} consecutive 64-byte lines starting at line-aligned physical address
     * {@code pa}; line i uses tweak {@code (pa + 64 i) ^ salt}. In-place allowed.
     */
    void encryptLines(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nLines);

    /** Inverse of {@link #encryptLines}. */
    void decryptLines(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nLines);
}
