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
        super("line " + line + ": " + detail);
        this.line = line;
        this.detail = detail;
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
