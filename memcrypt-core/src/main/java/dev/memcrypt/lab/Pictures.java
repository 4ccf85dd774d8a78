package dev.memcrypt.lab;

import dev.memcrypt.util.Bytes;
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
        if (secret != null && Bytes.indexOf(line, secret) >= 0) return 'S';
        return printable >= line.length * 9 / 10 ? 'P' : '#';
    }

    /**
     * The legend of a line map ({@link #lineRow}), used the same way by every experiment that
     * shows DRAM per line: what DRAM holds, judged together with what the line's owner reads.
     */
    static final String LINE_LEGEND = "legend: one character per 64-byte line -- P plaintext in DRAM, C ciphertext in DRAM"
            + " (its owner reads its data), . never written (zero in DRAM, or its owner reads zeros), ! stale/corrupted (owner reads wrong bytes)";

    /**
     * One line of a page (or any range) as a map character.
     *
     * @param dram     the raw DRAM bytes of the line
     * @param owner    what the line's owner reads through its KeyID (null: not looked at, judged from DRAM alone)
     * @param expected what the owner wrote there (null or zeros: never written)
     */
    static char lineCell(byte[] dram, byte[] owner, byte[] expected) {
        boolean written = expected != null && !isZero(expected);
        if (!written && isZero(dram)) return '.'; // nothing ever reached DRAM here
        if (owner != null && !java.util.Arrays.equals(owner, expected == null ? new byte[owner.length] : expected)) return '!';
        if (!written) return '.';
        if (Bytes.indexOf(dram, expected) >= 0 || classify(dram, null) == 'P') return 'P';
        return 'C';
    }

    /** A labelled row of {@link #lineCell} characters, one per 64-byte line; {@code owner} and {@code expected} may be null. */
    static String lineRow(String label, byte[] dram, byte[] owner, byte[] expected) {
        StringBuilder sb = new StringBuilder(String.format("%-40s ", label));
        for (int i = 0; i + 64 <= dram.length; i += 64) {
            sb.append(lineCell(java.util.Arrays.copyOfRange(dram, i, i + 64), owner == null ? null : java.util.Arrays.copyOfRange(owner, i, i + 64),
                    expected == null ? null : java.util.Arrays.copyOfRange(expected, i, i + 64)));
        }
        return sb.toString();
    }

    static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
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
