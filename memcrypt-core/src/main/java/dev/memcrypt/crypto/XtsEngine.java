package dev.memcrypt.crypto;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * IEEE 1619-2007 XTS-AES-128 and its memory-line mode.
 *
 * <p>Line mode: one data unit is one 64-byte cache line; the tweak is the line's physical address
 * (KeyID bits already stripped by the caller) as a 128-bit little-endian integer, XOR the per-boot
 * {@link LineTweak salt} (SPEC-FACTS §1). Implementations are thread-safe.
 *
 * <p>Engines: {@code libcrypto} (native, FFM), {@code java} (batched JDK AES/ECB) and
 * {@code reference} (simple, block at a time). All compute the same function; {@link #best()} picks
 * the fastest one available, and the system property {@code memcrypt.crypto=java|native|reference}
 * overrides the choice.
 */
public interface XtsEngine {
    int LINE = 64;
    int BLOCK = 16;
    /** Lines per 4 KiB page. */
    int LINES_PER_PAGE = 4096 / LINE;

    /**
     * The engine to use: {@code memcrypt.crypto} if set (java, native/libcrypto, reference), else
     * native libcrypto if it loads, else the fast pure-Java engine.
     */
    static XtsEngine best() {
        String want = System.getProperty("memcrypt.crypto");
        if (want != null && !want.isBlank()) return byName(want);
        XtsEngine n = LibcryptoXts.INSTANCE;
        return n != null ? n : JdkXts.INSTANCE;
    }

    /** The fast pure-Java engine (JDK AES/ECB, batched). */
    static XtsEngine java() {
        return JdkXts.INSTANCE;
    }

    /** The simple block-at-a-time pure-Java engine the others are tested against. */
    static XtsEngine reference() {
        return JavaXts.INSTANCE;
    }

    /** The libcrypto engine, if libcrypto loaded and passed its self-test. */
    static Optional<XtsEngine> libcrypto() {
        return Optional.ofNullable(LibcryptoXts.INSTANCE);
    }

    /** Why the libcrypto engine is absent, or empty when it is present. */
    static Optional<String> libcryptoUnavailableReason() {
        if (LibcryptoXts.INSTANCE != null) return Optional.empty();
        return Optional.of(Libcrypto.AVAILABLE ? "libcrypto failed its self-test" : Libcrypto.UNAVAILABLE_REASON);
    }

    /** Every engine that works on this machine, fastest first. */
    static List<XtsEngine> available() {
        List<XtsEngine> l = new ArrayList<>();
        libcrypto().ifPresent(l::add);
        l.add(java());
        l.add(reference());
        return List.copyOf(l);
    }

    /** An engine by name: {@code java}, {@code native} or {@code libcrypto}, {@code reference}. */
    static XtsEngine byName(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "java" -> java();
            case "reference" -> reference();
            case "native", "libcrypto" -> libcrypto().orElseThrow(() -> new IllegalArgumentException(
                    "XTS engine '" + name.strip() + "' is unavailable (libcrypto): " + libcryptoUnavailableReason().orElse("?")));
            default -> throw new IllegalArgumentException("unknown XTS engine '" + name + "' (java, native, reference)");
        };
    }

    /** Short name for reports, e.g. "libcrypto" or "java". */
    String name();

    /** Encrypts one data unit of {@code len >= 16} bytes under a 16-byte tweak. In-place allowed. */
    void encrypt(XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff);

    /** Decrypts one data unit of {@code len >= 16} bytes under a 16-byte tweak. In-place allowed. */
    void decrypt(XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff);

    /**
     * Encrypts {@code nLines} consecutive 64-byte lines starting at line-aligned physical address
     * {@code pa}; line i uses tweak {@code (pa + 64 i) ^ salt}. In-place allowed. Whole pages and
     * page runs ({@code nLines = 64 k}) are batched a page at a time.
     */
    void encryptLines(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nLines);

    /** Inverse of {@link #encryptLines}. */
    void decryptLines(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nLines);

    /** Convenience: encrypts a whole array as one data unit, returning a new array. */
    default byte[] encrypt(XtsKey key, byte[] tweak16, byte[] data) {
        byte[] out = new byte[data.length];
        encrypt(key, tweak16, data, 0, data.length, out, 0);
        return out;
    }

    /** Convenience: decrypts a whole array as one data unit, returning a new array. */
    default byte[] decrypt(XtsKey key, byte[] tweak16, byte[] data) {
        byte[] out = new byte[data.length];
        decrypt(key, tweak16, data, 0, data.length, out, 0);
        return out;
    }

    /** Encrypts {@code nPages} whole 4 KiB pages ({@code 64 nPages} lines) starting at line-aligned {@code pa}. */
    default void encryptPages(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nPages) {
        encryptLines(key, salt, pa, in, inOff, out, outOff, Math.multiplyExact(nPages, LINES_PER_PAGE));
    }

    /** Inverse of {@link #encryptPages}. */
    default void decryptPages(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nPages) {
        decryptLines(key, salt, pa, in, inOff, out, outOff, Math.multiplyExact(nPages, LINES_PER_PAGE));
    }

    /** The 16-byte tweak for data unit number {@code n} (IEEE 1619: 128-bit little-endian; here n < 2^64). */
    static byte[] dataUnitTweak(long n) {
        byte[] t = new byte[16];
        for (int i = 0; i < 8; i++) t[i] = (byte) (n >>> (8 * i));
        return t;
    }
}
