package dev.memcrypt.script;

import java.io.PrintStream;
import java.io.PrintWriter;

/**
 * The human-readable run log of {@code memcrypt run}. Stable, for golden files:
 * <pre>
 * [line 3] x = pload 0x1000 1 16 -> 00112233445566778899aabbccddeeff
 * [line 4] wrmsr 0x982 1 => #GP -> #GP (message)
 * [line 5] keys = listing ->
 *     first line of a multi-line result
 * [end] invariants -> ok
 * PASS 4 statements
 * </pre>
 * The first unexpected outcome, and a syntax error, go to {@code err} as
 * {@code SOURCE:LINE: FAIL: STATEMENT: what happened} and {@code SOURCE:LINE: syntax error: ...}.
 * With {@code quiet}, only those error lines are printed.
 */
public final class TextReporter implements Interpreter.Listener {
    private final String source;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean quiet;

    public TextReporter(String source, PrintWriter out, PrintWriter err, boolean quiet) {
        this.source = source;
        this.out = out;
        this.err = err;
        this.quiet = quiet;
    }

    public TextReporter(String source, PrintStream out, PrintStream err, boolean quiet) {
        this(source, new PrintWriter(out, true), new PrintWriter(err, true), quiet);
    }

    @Override
    public void step(Interpreter.Step s) {
        if (!quiet) out.println(format(s));
        if (!s.ok()) err.println(source + ":" + s.line() + ": FAIL: " + s.text() + ": " + s.failure());
    }

    /** One step as the log prints it. */
    public static String format(Interpreter.Step s) {
        StringBuilder sb = new StringBuilder("[line ").append(s.line()).append("] ").append(s.text()).append(" ->");
        if (s.outcome() != null) {
            sb.append(' ').append(s.outcome());
            if (s.message() != null && !s.message().isBlank()) sb.append(" (").append(oneLine(s.message())).append(')');
        } else if (s.result() instanceof Value.Str str && str.multiline()) {
            String v = str.value();
            if (v.endsWith("\n")) v = v.substring(0, v.length() - 1);
            for (String l : v.split("\n", -1)) sb.append("\n    ").append(l);
        } else {
            sb.append(' ').append(s.result().display());
        }
        return sb.toString();
    }

    @Override
    public void check(String name, String problem) {
        if (!quiet) out.println("[end] " + name + " -> " + (problem == null ? "ok" : "VIOLATED: " + oneLine(problem)));
    }

    @Override
    public void syntaxError(ScriptSyntaxException e) {
        err.println(source + (e.line() > 0 ? ":" + e.line() : "") + ": syntax error: " + e.detail());
    }

    @Override
    public void finished(Interpreter.Result r) {
        try {
            report(r);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private void report(Interpreter.Result r) {
        if (r.exitStatus() == Interpreter.EXIT_OK) {
            if (!quiet) out.println("PASS " + r.statements() + " statement" + (r.statements() == 1 ? "" : "s"));
        } else if (r.exitStatus() == Interpreter.EXIT_FAILED && r.failedLine() == 0) {
            err.println(source + ": FAIL: " + r.failure());
        }
    }

    private static String oneLine(String s) {
        return s.replace("\n", " | ");
    }
}
