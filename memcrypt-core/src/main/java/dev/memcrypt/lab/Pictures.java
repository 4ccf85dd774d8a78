package dev.memcrypt.lab;

import java.util.ArrayList;
import java.util.List;

/** Small ASCII pictures for results: side-by-side hexdumps and maps of DRAM lines. */
final class Pictures {
    private Pictures() {}

    /** What one 64-byte line looks like to someone reading DRAM raw. */
    static char classify(byte[] line, byte[] secret) {
        boolean zero = true;
        int printable = 0;
        for (byte b : line) {
            if (b != 0) zero = false;
            if (b >= 0x20 && b < 0x7f) printable++;
        }
        if (zero) return '.';
        if (secret != null && Rig.indexOf(line, secret) >= 0) return 'S';
        return printable >= line.length * 9 / 10 ? 'P' : '#';
    }

    static final String MAP_LEGEND = "legend: S = the secret in plaintext, P = other plaintext, # = ciphertext (looks random), . = zero";

    /** One row of a line map: a label, then one character per 64-byte line of {@code bytes}. */
    static String mapRow(String label, byte[] bytes, byte[] secret) {
        StringBuilder sb = new StringBuilder(String.format("%-34s ", label));
        for (int i = 0; i + 64 <= bytes.length; i += 64) {
            byte[] l = java.util.Arrays.copyOfRange(bytes, i, i + 64);
            sb.append(classify(l, secret));
        }
        return sb.toString();
    }

    /** Two byte arrays side by side, 16 bytes a row: hex and ASCII of each. */
    static List<String> sideBySide(String leftTitle, byte[] left, String rightTitle, byte[] right) {
        List<String> out = new ArrayList<>();
        out.add(String.format("%-4s  %-66s | %s", "", leftTitle, rightTitle));
        int n = Math.max(left == null ? 0 : left.length, right == null ? 0 : right.length);
        for (int off = 0; off < n; off += 16) {
            out.add(String.format("+%02x   %-66s | %s", off, row(left, off), row(right, off)));
        }
        return out;
    }

    private static String row(byte[] b, int off) {
        if (b == null) return "(not cached)";
        StringBuilder hex = new StringBuilder();
        StringBuilder asc = new StringBuilder();
        for (int i = off; i < off + 16 && i < b.length; i++) {
            hex.append(String.format("%02x", b[i] & 0xff));
            if ((i & 3) == 3) hex.append(' ');
            char c = (char) (b[i] & 0xff);
            asc.append(c >= 0x20 && c < 0x7f ? c : '.');
        }
        return String.format("%-36s %s", hex, asc);
    }
}
