package dev.memcrypt.crypto;

/**
 * The per-boot salt XORed into every line tweak (SPEC-FACTS §1, model choice). {@link #NONE} keeps
 * ciphertext stable across restarts, which persistent-memory user keys need.
 *
 * @param lo low 64 bits of the 128-bit little-endian salt
 * @param hi high 64 bits
 */
public record LineTweak(long lo, long hi) {
    public static final LineTweak NONE = new LineTweak(0, 0);

    /** The 16-byte little-endian tweak for the line at {@code pa}. */
    public byte[] tweakFor(long pa) {
        byte[] t = new byte[16];
        long a = pa ^ lo;
        for (int i = 0; i < 8; i++) t[i] = (byte) (a >>> (8 * i));
        for (int i = 0; i < 8; i++) t[8 + i] = (byte) (hi >>> (8 * i));
        return t;
    }

    @Override
    public String toString() {
        return this == NONE || (lo == 0 && hi == 0) ? "LineTweak[none]" : "LineTweak[salted]";
    }
}
