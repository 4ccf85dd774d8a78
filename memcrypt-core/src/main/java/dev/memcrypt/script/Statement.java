package dev.memcrypt.script;

/**
 * One kind of statement, registered by name in a {@link StatementRegistry}. {@link #compile}
 * runs when the script is parsed, before anything executes: it checks the argument shape
 * (through {@link Args}, which produces the precise syntax errors) and returns the
 * {@link Action} that runs later. Later layers (kernel, processes, KVM, SME) add their statements
 * by implementing this and registering through a {@link StatementProvider}.
 *
 * <p>A name may be one word ({@code pload}) or two ({@code cpu offline}, {@code vm create}); the
 * parser prefers the two-word match.
 */
public interface Statement {
    /** The name the line starts with: one word, or two words separated by one space. */
    String name();

    /** The argument grammar shown in errors and docs, e.g. {@code "pload [cpu=N] PA KEYID LEN"}. */
    String usage();

    /** One line: what it does and what it returns. */
    String summary();

    /** Checks the arguments and returns what to run. Throws {@link ScriptSyntaxException} via {@link Args#error}. */
    Action compile(Args args);

    /** The compiled statement. Throw an {@link dev.memcrypt.util.Outcome} exception for faults and errno. */
    @FunctionalInterface
    interface Action {
        Value run(Session session) throws Exception;
    }

    /** A statement from its parts. */
    static Statement of(String name, String usage, String summary, java.util.function.Function<Args, Action> compiler) {
        return new Statement() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String usage() {
                return usage;
            }

            @Override
            public String summary() {
                return summary;
            }

            @Override
            public Action compile(Args args) {
                return compiler.apply(args);
            }

            @Override
            public String toString() {
                return "Statement[" + name + "]";
            }
        };
    }
}
