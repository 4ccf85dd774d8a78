package dev.memcrypt.script;

import dev.memcrypt.util.Outcome;

/**
 * Runs scripts: parse everything (a syntax error exits 2 before any statement runs), then run
 * the statements in order, check each outcome, stop at the first unexpected one (exit 1), and
 * finally run the registry's end-of-script checks (the machine invariant checker).
 *
 * <p>Outcome rules. A statement's outcome is its result value, or the name of the
 * {@link Outcome} it threw (a fault or errno). Without {@code =>}, a thrown outcome or a
 * returned {@link Value.Status} that is not a success is unexpected. With {@code =>}, the outcome
 * must match. An IllegalArgumentException from the model (an argument the model rejects, such as
 * a physical address beyond DRAM) is a usage error of that line: exit 2.
 */
public final class Interpreter {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_SYNTAX = 2;

    /**
     * What one statement did. {@code result} or {@code outcome} (a thrown outcome's name, with
     * {@code message}) is set; {@code failure} says why it was unexpected (null when ok).
     */
    public record Step(int line, String text, String bind, Value result, String outcome, String message, String expected,
                       boolean ok, String failure) {}

    /** The end of a run. {@code failure} is the one-line reason for a non-zero exit (null on success). */
    public record Result(int exitStatus, int statements, int failedLine, String failure, Session session) {}

    /** Receives the run as it happens (text log, JSON records, tests). */
    public interface Listener {
        void step(Step step);

        /** An end-of-script check ran; {@code problem} is null when it passed. */
        default void check(String name, String problem) {}

        /** The script did not parse, or an argument turned out bad while running. */
        default void syntaxError(ScriptSyntaxException e) {}

        default void finished(Result result) {}
    }

    private final StatementRegistry registry;
    private boolean finalChecks = true;

    public Interpreter(StatementRegistry registry) {
        this.registry = registry;
    }

    /** The standard statements. */
    public static Interpreter standard() {
        return new Interpreter(StatementRegistry.standard());
    }

    public StatementRegistry registry() {
        return registry;
    }

    /** Whether to run the end-of-script checks (default true). */
    public Interpreter finalChecks(boolean on) {
        this.finalChecks = on;
        return this;
    }

    /** Parses and runs {@code text}. */
    public Result run(String source, String text, Listener listener) {
        Script script;
        try {
            script = new Parser(registry).parse(source, text);
        } catch (ScriptSyntaxException e) {
            listener.syntaxError(e);
            Result r = new Result(EXIT_SYNTAX, 0, e.line(), e.getMessage(), null);
            listener.finished(r);
            return r;
        }
        return run(script, listener);
    }

    /** Runs a parsed script on a fresh session. */
    public Result run(Script script, Listener listener) {
        Session session = new Session(script.config());
        int count = 0;
        if (script.machine() != null) {
            count++;
            listener.step(new Step(script.machine().number(), script.machine().text(), null, Value.str(describe(script.config())), null, null,
                    null, true, null));
        }
        for (Script.Line line : script.lines()) {
            session.setLine(line.number());
            count++;
            Value result = null;
            String outcome = null;
            String message = null;
            try {
                result = line.action().run(session);
                if (result == null) result = Value.VOID;
            } catch (ScriptSyntaxException e) {
                return syntaxAtRun(listener, e, count, session);
            } catch (IllegalArgumentException e) {
                return syntaxAtRun(listener, new ScriptSyntaxException(line.number(),
                        line.statement().name() + ": bad argument: " + e.getMessage()), count, session);
            } catch (Exception e) {
                if (e instanceof Outcome o) {
                    outcome = o.outcomeName();
                    message = e.getMessage();
                } else {
                    String why = "internal error: " + e;
                    Step st = new Step(line.number(), line.text(), line.bind(), null, "ERROR", String.valueOf(e), text(line.expected()), false, why);
                    listener.step(st);
                    return finish(listener, new Result(EXIT_FAILED, count, line.number(), why, session));
                }
            }
            String failure;
            if (line.expected() != null) {
                failure = line.expected().mismatch(result, outcome, session);
            } else if (outcome != null) {
                failure = "unexpected " + outcome + (message == null ? "" : ": " + message);
            } else if (result instanceof Value.Status s && !s.success()) {
                failure = "unexpected " + s.name() + " (assert it with => " + s.name() + ")";
            } else {
                failure = null;
            }
            listener.step(new Step(line.number(), line.text(), line.bind(), result, outcome, message, text(line.expected()),
                    failure == null, failure));
            if (failure != null) return finish(listener, new Result(EXIT_FAILED, count, line.number(), failure, session));
            if (line.bind() != null) session.bind(line.bind(), outcome != null ? new Value.Status(outcome, 0, false) : result);
        }
        if (finalChecks) {
            for (StatementRegistry.FinalCheck c : registry.finalChecks()) {
                if (!c.applies().test(session)) continue;
                String problem;
                try {
                    problem = c.check().apply(session);
                } catch (RuntimeException e) {
                    problem = e instanceof Outcome o ? o.outcomeName() + ": " + e.getMessage() : e.toString();
                }
                if (session.violationExpectedAtEnd(c.name())) {
                    listener.check(c.name() + " (violation expected)", problem == null ? "no violation found, but the script expects one" : null);
                    if (problem == null) {
                        return finish(listener, new Result(EXIT_FAILED, count, 0,
                                "end of script: " + c.name() + ": no violation found, but the script expects one", session));
                    }
                    continue;
                }
                listener.check(c.name(), problem);
                if (problem != null) {
                    return finish(listener, new Result(EXIT_FAILED, count, 0, "end of script: " + c.name() + ": " + problem, session));
                }
            }
        }
        return finish(listener, new Result(EXIT_OK, count, 0, null, session));
    }

    /** One line about the configured machine, for the {@code machine} statement's result. */
    static String describe(dev.memcrypt.hw.MachineConfig c) {
        return c.packages() + (c.packages() == 1 ? " package" : " packages") + " x " + c.coresPerPackage()
                + (c.coresPerPackage() == 1 ? " core" : " cores") + ", DRAM " + size(c.dramBytes()) + ", MAXPHYADDR " + c.maxPhysAddr()
                + ", " + c.keyIdBits() + " KeyID bits";
    }

    private static String size(long b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        while (u < units.length - 1 && b >= 1024 && b % 1024 == 0) {
            b /= 1024;
            u++;
        }
        return b + " " + units[u];
    }

    private static Result syntaxAtRun(Listener l, ScriptSyntaxException e, int count, Session s) {
        l.syntaxError(e);
        return finish(l, new Result(EXIT_SYNTAX, count, e.line(), e.getMessage(), s));
    }

    private static Result finish(Listener l, Result r) {
        l.finished(r);
        return r;
    }

    private static String text(Expected e) {
        return e == null ? null : e.text();
    }
}
