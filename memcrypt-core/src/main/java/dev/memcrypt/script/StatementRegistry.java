package dev.memcrypt.script;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Statements by name. {@link #standard()} holds the built-in ones plus every {@link StatementProvider}. */
public final class StatementRegistry {
    private final Map<String, Statement> byName = new TreeMap<>();
    private final List<FinalCheck> finalChecks = new ArrayList<>();

    /**
     * A check the interpreter runs after the last statement of a script (for example the
     * machine's invariant checker). {@code check} returns null when all is well, else the problem.
     */
    public record FinalCheck(String name, java.util.function.Predicate<Session> applies, java.util.function.Function<Session, String> check) {}

    /** An empty registry (tests build their own). */
    public StatementRegistry() {}

    /** The built-in statements (general and machine) and those of every provider on the class path. */
    public static StatementRegistry standard() {
        StatementRegistry r = new StatementRegistry();
        CoreStatements.register(r);
        MachineStatements.register(r);
        for (StatementProvider p : ServiceLoader.load(StatementProvider.class, StatementRegistry.class.getClassLoader())) {
            p.register(r);
        }
        return r;
    }

    /** Adds a statement; a name may be registered once. */
    public StatementRegistry register(Statement s) {
        String name = s.name();
        String[] words = name.split(" ", -1);
        if (words.length > 2 || name.isBlank() || name.equals("machine")) {
            throw new IllegalArgumentException("bad statement name '" + name + "'");
        }
        for (String w : words) {
            if (!w.matches("[a-z][a-z0-9_-]*")) throw new IllegalArgumentException("bad statement name '" + name + "'");
        }
        if (byName.putIfAbsent(name, s) != null) throw new IllegalArgumentException("statement '" + name + "' registered twice");
        return this;
    }

    /** Adds an end-of-script check that runs when {@code applies} (e.g. only if the machine was powered on). */
    public StatementRegistry finalCheck(String name, java.util.function.Predicate<Session> applies, java.util.function.Function<Session, String> check) {
        finalChecks.add(new FinalCheck(name, applies, check));
        return this;
    }

    public List<FinalCheck> finalChecks() {
        return List.copyOf(finalChecks);
    }

    public Statement get(String name) {
        return byName.get(name);
    }

    /** Every statement, sorted by name. */
    public Collection<Statement> all() {
        return List.copyOf(byName.values());
    }

    /** Two-word statements starting with {@code first} (for "did you mean" messages). */
    List<String> subcommands(String first) {
        List<String> out = new ArrayList<>();
        for (String n : byName.keySet()) if (n.startsWith(first + " ")) out.add(n.substring(first.length() + 1));
        return out;
    }

    boolean hasPrefix(String first) {
        return !subcommands(first).isEmpty();
    }
}
