package dev.memcrypt.script;

import dev.memcrypt.util.Hex;
import dev.memcrypt.util.Outcome;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A statement's result, and what {@code NAME = STATEMENT} binds.
 *
 * <p>Each kind has one printed form ({@link #display()}, used in the run log and stable for golden
 * files) and one substitution form ({@link #text()}, what {@code $NAME} expands to inside a word
 * such as {@code key=$k}). An {@code => EXPECTED} literal is written the way the value prints.
 */
public sealed interface Value {
    /** Bytes longer than this print abbreviated in the log; JSON always carries all of them. */
    int DISPLAY_BYTES = 64;

    /** "number", "bytes", "string", "status", "object" or "void": used in type errors. */
    String kind();

    /** The printed form. */
    String display();

    /** The form {@code $NAME} expands to inside a larger word or quoted string. */
    String text();

    static Num num(long v) {
        return new Num(v, false);
    }

    static Num hex(long v) {
        return new Num(v, true);
    }

    static Bytes bytes(byte[] b) {
        return new Bytes(b);
    }

    static Str str(String s) {
        return new Str(s);
    }

    Void VOID = new Void();

    /**
     * A 64-bit number. {@code hex} numbers (addresses, MSR and CPUID values) print as unsigned
     * 0x-hex; others (counts, serials, ids) as signed decimal. Equality ignores the radix.
     */
    record Num(long value, boolean hex) implements Value {
        @Override
        public String kind() {
            return "number";
        }

        @Override
        public String display() {
            return text();
        }

        @Override
        public String text() {
            return hex ? "0x" + Long.toHexString(value) : Long.toString(value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Num n && n.value == value;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(value);
        }
    }

    /** A byte string; prints as lowercase hex, abbreviated after {@value #DISPLAY_BYTES} bytes. */
    record Bytes(byte[] data) implements Value {
        public Bytes {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        public int length() {
            return data.length;
        }

        @Override
        public String kind() {
            return "bytes";
        }

        @Override
        public String display() {
            if (data.length == 0) return "(0 bytes)";
            if (data.length <= DISPLAY_BYTES) return Hex.of(data);
            return Hex.of(data, 0, 32) + "... (" + data.length + " bytes)";
        }

        @Override
        public String text() {
            return Hex.of(data);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && Arrays.equals(b.data, data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Bytes[" + data.length + "]";
        }
    }

    /**
     * Text. A single line prints quoted with escapes; several lines (listings such as
     * /proc/keys or smaps) print as an indented block below the statement.
     */
    record Str(String value) implements Value {
        public Str {
            Objects.requireNonNull(value);
        }

        public boolean multiline() {
            return value.indexOf('\n') >= 0;
        }

        @Override
        public String kind() {
            return "string";
        }

        @Override
        public String display() {
            return multiline() ? value : quote(value);
        }

        @Override
        public String text() {
            return value;
        }

        public byte[] utf8() {
            return value.getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * A status a statement returns rather than throws (PCONFIG's RAX code, a tool's exit status).
     * A status that is not {@code success} counts as an unexpected outcome unless asserted.
     */
    record Status(String name, long code, boolean success) implements Value, Outcome {
        public Status {
            Objects.requireNonNull(name);
        }

        @Override
        public String outcomeName() {
            return name;
        }

        @Override
        public String kind() {
            return "status";
        }

        @Override
        public String display() {
            return name;
        }

        @Override
        public String text() {
            return name;
        }
    }

    /**
     * A handle to a model object (a process, a VM, a mapping) for later statements; {@code $NAME}
     * hands the object itself to handlers that ask for it and expands to {@code label} in text.
     */
    record Obj(Object ref, String label) implements Value {
        @Override
        public String kind() {
            return "object";
        }

        @Override
        public String display() {
            return label;
        }

        @Override
        public String text() {
            return label;
        }
    }

    /** No result: prints {@code ok}. */
    record Void() implements Value {
        @Override
        public String kind() {
            return "void";
        }

        @Override
        public String display() {
            return "ok";
        }

        @Override
        public String text() {
            return "";
        }
    }

    /** Double-quoted with backslash escapes for {@code " \ $ newline tab} and control characters, so it lexes back. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '$' -> sb.append("\\$");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
