package dev.memcrypt.util;

/** Searching byte arrays (the lab and the demo look for secrets in DRAM and cache dumps). */
public final class Bytes {
    private Bytes() {}

    /** Offset of the first {@code needle} in {@code hay} at or after {@code from}, or -1; an empty needle is found at {@code from}. */
    public static int indexOf(byte[] hay, byte[] needle, int from) {
        if (from < 0) throw new IllegalArgumentException("negative start " + from);
        if (needle.length == 0) return from <= hay.length ? from : -1;
        byte first = needle[0];
        outer:
        for (int i = from; i + needle.length <= hay.length; i++) {
            if (hay[i] != first) continue;
            for (int j = 1; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** Offset of the first {@code needle} in {@code hay}, or -1. */
    public static int indexOf(byte[] hay, byte[] needle) {
        return indexOf(hay, needle, 0);
    }

    /** Whether {@code needle} occurs in {@code hay}. */
    public static boolean contains(byte[] hay, byte[] needle) {
        return indexOf(hay, needle, 0) >= 0;
    }
}
