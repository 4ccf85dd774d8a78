package dev.memcrypt.script;

/**
 * A script that cannot run as written: unknown statement, bad argument shape, unbound
 * {@code $NAME}, bad quoting. The run exits with status 2 and names the line. Also raised while
 * running when a {@code $NAME} turns out to hold the wrong kind of value for an argument.
 */
public final class ScriptSyntaxException extends RuntimeException {
    private final int line;
    private final String detail;

    public ScriptSyntaxException(int line, String detail) {
        this(line, abbreviate(detail), true);
    }

    private ScriptSyntaxException(int line, String detail, boolean abbreviated) {
        super("line " + line + ": " + detail);
        this.line = line;
        this.detail = detail;
    }

    /** Longer words than this are shortened where a script's text is echoed (a 1 MB line is one message line, not 1 MB). */
    static final int MAX_WORD = 200;

    /** {@code text} with every word (run of non-blanks) longer than {@link #MAX_WORD} cut to its start and its length. */
    public static String abbreviate(String text) {
        if (text == null || text.length() <= MAX_WORD) return text;
        StringBuilder sb = new StringBuilder();
        int i = 0, n = text.length();
        while (i < n) {
            int j = i;
            while (j < n && !Character.isWhitespace(text.charAt(j))) j++;
            if (j - i > MAX_WORD) sb.append(text, i, i + 60).append("...(").append(j - i).append(" characters)");
            else sb.append(text, i, j);
            i = j;
            while (j < n && Character.isWhitespace(text.charAt(j))) j++;
            sb.append(text, i, j);
            i = j;
        }
        return sb.toString();
    }

    /** 1-based source line; 0 when the error is not tied to a line (e.g. an unreadable file). */
    public int line() {
        return line;
    }

    /** The message without the line prefix. */
    public String detail() {
        return detail;
    }
}
