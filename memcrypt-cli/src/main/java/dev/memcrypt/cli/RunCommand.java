package dev.memcrypt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memcrypt.script.Interpreter;
import dev.memcrypt.script.ScriptSyntaxException;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.TextReporter;
import dev.memcrypt.script.Value;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code memcrypt run FILE}: runs a scenario script (docs/SCRIPTS.md). Exit 0 when every statement
 * behaved as written, 1 at the first unexpected outcome, 2 for a syntax error or unreadable file.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a scenario script (docs/SCRIPTS.md); FILE '-' reads standard input.",
        exitCodeListHeading = "Exit status:%n",
        exitCodeList = {"0:every statement behaved as written", "1:an unexpected outcome (printed with its line)",
            "2:a syntax error (printed with its line) or an unreadable file"})
public final class RunCommand implements Callable<Integer> {
    /** Standard input for FILE '-'; tests replace it. */
    static InputStream stdin = System.in;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "the script, or - for standard input")
    String file;

    @Option(names = "--list-statements", description = "print every statement's usage and summary, and exit")
    boolean list;

    @Option(names = "--json", description = "one JSON record per statement on standard output")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "print nothing but the failure")
    boolean quiet;

    @Option(names = "--no-final-check", description = "skip the end-of-script invariant check")
    boolean noFinalCheck;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (list) {
            for (Statement st : StatementRegistry.standard().all()) {
                out.println(st.usage());
                out.println("    " + st.summary());
            }
            out.flush();
            return 0;
        }
        if (file == null) {
            err.println("memcrypt run: missing FILE (a script, or - for standard input)");
            err.flush();
            return Interpreter.EXIT_SYNTAX;
        }
        String source = file.equals("-") ? "<stdin>" : file;
        String text;
        try {
            text = IoErrors.utf8(file.equals("-") ? stdin.readAllBytes() : Files.readAllBytes(Path.of(file)));
        } catch (IOException e) {
            err.println("memcrypt run: cannot read " + source + ": " + IoErrors.reason(e));
            err.flush();
            return Interpreter.EXIT_SYNTAX;
        } catch (RuntimeException e) { // InvalidPathException (a NUL in the name), OutOfMemoryError is not caught
            err.println("memcrypt run: cannot read " + source + ": " + e.getMessage());
            err.flush();
            return Interpreter.EXIT_SYNTAX;
        }
        Interpreter interp = Interpreter.standard().finalChecks(!noFinalCheck);
        Interpreter.Listener l = json ? new JsonReporter(out, quiet) : new TextReporter(source, out, err, quiet);
        int status = interp.run(source, text, l).exitStatus();
        out.flush();
        err.flush();
        return status;
    }

    /** One JSON object per line: per statement, per end check, and a closing summary. */
    static final class JsonReporter implements Interpreter.Listener {
        private static final ObjectMapper M = new ObjectMapper();
        private final PrintWriter out;
        private final boolean quiet;

        JsonReporter(PrintWriter out, boolean quiet) {
            this.out = out;
            this.quiet = quiet;
        }

        @Override
        public void step(Interpreter.Step s) {
            if (quiet && s.ok()) return;
            ObjectNode n = M.createObjectNode();
            n.put("line", s.line());
            n.put("statement", s.text());
            if (s.bind() != null) n.put("bind", s.bind());
            if (s.outcome() != null) {
                n.put("outcome", s.outcome());
                if (s.message() != null) n.put("message", s.message());
            } else {
                Value v = s.result();
                n.put("kind", v.kind());
                switch (v) {
                    case Value.Void x -> n.putNull("result");
                    case Value.Bytes b -> n.put("result", b.text());
                    case Value.Str str -> n.put("result", str.value());
                    default -> n.put("result", v.text());
                }
            }
            if (s.expected() != null) n.put("expected", s.expected());
            n.put("ok", s.ok());
            if (!s.ok()) n.put("failure", s.failure());
            emit(n);
        }

        @Override
        public void check(String name, String problem) {
            if (quiet && problem == null) return;
            ObjectNode n = M.createObjectNode();
            n.put("check", name);
            n.put("ok", problem == null);
            if (problem != null) n.put("failure", problem);
            emit(n);
        }

        @Override
        public void syntaxError(ScriptSyntaxException e) {
            ObjectNode n = M.createObjectNode();
            n.put("line", e.line());
            n.put("error", "syntax");
            n.put("message", e.detail());
            n.put("ok", false);
            emit(n);
        }

        @Override
        public void finished(Interpreter.Result r) {
            ObjectNode n = M.createObjectNode();
            n.put("exit", r.exitStatus());
            n.put("statements", r.statements());
            if (r.failure() != null) n.put("failure", r.failure());
            emit(n);
            out.flush();
        }

        private void emit(ObjectNode n) {
            try {
                out.println(M.writeValueAsString(n));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
