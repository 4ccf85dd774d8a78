package dev.memcrypt.script;

import dev.memcrypt.util.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Runs scripts in tests: with the core statements plus test-only ones, or the standard registry. */
final class ScriptHarness {
    /** A fault or errno a test statement throws. */
    static final class TestFault extends RuntimeException implements Outcome {
        private final String name;

        TestFault(String name, String msg) {
            super(msg);
            this.name = name;
        }

        @Override
        public String outcomeName() {
            return name;
        }
    }

    record Run(int exit, String out, String err, List<Interpreter.Step> steps, Interpreter.Result result) {}

    static final List<String> sideEffects = new ArrayList<>();

    /** Core statements plus {@code fault NAME}, {@code status NAME}, {@code touch WORD}, {@code bad}. */
    static StatementRegistry testRegistry() {
        StatementRegistry r = new StatementRegistry();
        CoreStatements.register(r);
        r.register(Statement.of("fault", "fault NAME", "throws outcome NAME", a -> {
            Arg<String> n = a.word("NAME");
            return s -> {
                throw new TestFault(n.get(s), "test fault");
            };
        }));
        r.register(Statement.of("status", "status NAME", "returns status NAME (SUCCESS is a success)", a -> {
            Arg<String> n = a.word("NAME");
            return s -> new Value.Status(n.get(s), 0, n.get(s).equals("SUCCESS"));
        }));
        r.register(Statement.of("touch", "touch WORD", "records a side effect", a -> {
            Arg<String> w = a.word("WORD");
            return s -> {
                sideEffects.add(w.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("bad", "bad", "the model rejects an argument", a -> s -> {
            throw new IllegalArgumentException("PA 0x123 beyond DRAM");
        }));
        r.register(Statement.of("cpu offline", "cpu offline N", "test", a -> {
            Arg<Long> n = a.num("N", 0, 3);
            return s -> Value.num(n.get(s));
        }));
        r.register(Statement.of("cpu online", "cpu online N", "test", a -> {
            Arg<Long> n = a.num("N", 0, 3);
            return s -> Value.num(n.get(s));
        }));
        r.register(Statement.of("opt", "opt [cpu=N] [key=HEX] [mode=A|B] X", "options", a -> {
            Arg<Long> cpu = a.optNum("cpu", 0L, 3L, 0L);
            Arg<byte[]> key = a.optBytes("key");
            Arg<String> mode = a.optChoice("mode", "A", "A", "B");
            Arg<Long> x = a.num("X");
            return s -> Value.str(cpu.get(s) + "/" + (key.get(s) == null ? "-" : key.get(s).length) + "/" + mode.get(s) + "/" + x.get(s));
        }));
        return r;
    }

    static Run run(String script) {
        return run(new Interpreter(testRegistry()), "t.mc", script, false);
    }

    static Run run(Interpreter in, String name, String script, boolean quiet) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        List<Interpreter.Step> steps = new ArrayList<>();
        PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
        PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8);
        TextReporter text = new TextReporter(name, po, pe, quiet);
        Interpreter.Result r = in.run(name, script, new Interpreter.Listener() {
            @Override
            public void step(Interpreter.Step s) {
                steps.add(s);
                text.step(s);
            }

            @Override
            public void check(String n, String problem) {
                text.check(n, problem);
            }

            @Override
            public void syntaxError(ScriptSyntaxException ex) {
                text.syntaxError(ex);
            }

            @Override
            public void finished(Interpreter.Result res) {
                text.finished(res);
            }
        });
        return new Run(r.exitStatus(), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8), steps, r);
    }

    private ScriptHarness() {}
}
