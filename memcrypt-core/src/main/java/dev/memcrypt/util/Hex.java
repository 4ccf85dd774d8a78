package dev.memcrypt.util;

import java.util.HexFormat;

/** Hex parsing and printing used by every user-facing surface (CLI, scripts, views). */
public final class Hex {
    private static final HexFormat LOWER = HexFormat.of();

    private Hex() {}

    /** Lowercase hex of all bytes. */
    public static String of(byte[] b) {
        return LOWER.formatHex(b);
    }

    /** Lowercase hex of {@code len} bytes from {@code off}. */
    public static String of(byte[] b, int off, int len) {
        return LOWER.formatHex(b, off, off + len);
    }

    /**
     * Parses hex digits, ignoring an optional {@code 0x} prefix, whitespace and {@code :} or {@code _}
     * separators. Throws IllegalArgumentException naming the problem (never echoing the input, which
     * may be key material).
     */
    public static byte[] parse(String s) {
        if (s == null) throw new IllegalArgumentException("hex: missing value");
        StringBuilder sb = new StringBuilder(s.length());
        String t = s.strip();
        if (t.startsWith("0x") || t.startsWith("0X")) t = t.substring(2);
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (Character.isWhitespace(c) || c == ':' || c == '_') continue;
            if (Character.digit(c, 16) < 0) {
                throw new IllegalArgumentException("bad hex: invalid character at position " + i);
            }
            sb.append(c);
        }
        if ((sb.length() & 1) != 0) {
            throw new IllegalArgumentException("bad hex: odd number of digits (" + sb.length() + ")");
        }
        return LOWER.parseHex(sb);
    }
}
