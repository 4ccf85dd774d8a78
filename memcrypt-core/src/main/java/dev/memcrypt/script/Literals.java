package dev.memcrypt.script;

import dev.memcrypt.util.Hex;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The literal forms of the language: numbers and byte strings. Errors are IllegalArgumentException. */
public final class Literals {
    /** The largest byte string a literal may build ({@code 00*N}). */
    public static final int MAX_BYTES = 1 << 24;

    private Literals() {}

    /**
     * A number: decimal ({@code 4096}, {@code -1}), 0x-hex up to 64 bits ({@code 0xffff_0000}),
     * with an optional K/M/G/T suffix (powers of 1024) on decimal numbers ({@code 4K}, {@code 2M}).
     */
    public static long number(String s) {
        String t = s.replace("_", "");
        if (t.isEmpty()) throw new IllegalArgumentException("'' is not a number");
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                String h = t.substring(2);
                if (h.isEmpty() || h.length() > 16) throw new NumberFormatException();
                return Long.parseUnsignedLong(h, 16);
            }
            int shift = switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> 0;
            };
            if (shift > 0) t = t.substring(0, t.length() - 1);
            long v = Long.parseLong(t);
            if (shift > 0) {
                if (v < 0 || v > (Long.MAX_VALUE >> shift)) throw new IllegalArgumentException("'" + s + "' is too large");
                v <<= shift;
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a number (decimal, 0x-hex, or with K/M/G/T)");
        }
    }

    /** True if {@code s} parses as {@link #number}. */
    public static boolean isNumber(String s) {
        try {
            number(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * One unquoted byte-string term: hex digits (optional 0x, {@code :} and {@code _} separators)
     * with an optional repeat count, {@code 00*64}.
     */
    public static byte[] hexTerm(String s) {
        int star = s.lastIndexOf('*');
        String hex = star < 0 ? s : s.substring(0, star);
        long times = 1;
        if (star >= 0) {
            try {
                times = number(s.substring(star + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad repeat count after '*'");
            }
        }
        byte[] unit;
        try {
            unit = Hex.parse(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not hex bytes (" + e.getMessage() + ")"); // never echo: may be a key
        }
        if (unit.length == 0 && star >= 0) throw new IllegalArgumentException("nothing to repeat before '*'");
        if (times < 0 || unit.length * times > MAX_BYTES) throw new IllegalArgumentException("repeat count out of range (at most " + MAX_BYTES + " bytes)");
        byte[] out = new byte[(int) (unit.length * times)];
        for (int i = 0; i < times; i++) System.arraycopy(unit, 0, out, i * unit.length, unit.length);
        return out;
    }

    /** Concatenation of terms, for {@code "text"+00*12}. */
    static byte[] concat(Iterable<byte[]> parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) b.writeBytes(p);
        if (b.size() > MAX_BYTES) throw new IllegalArgumentException("byte string longer than " + MAX_BYTES);
        return b.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
