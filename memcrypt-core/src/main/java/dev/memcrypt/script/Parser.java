package dev.memcrypt.script;

import dev.memcrypt.hw.MachineConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Parses a whole script before anything runs, so a syntax error on line 40 exits 2 with no side
 * effect. Grammar (see docs/SCRIPTS.md):
 *
 * <pre>
 * script     = { line NEWLINE }
 * line       = [ statement ] [ comment ]
 * statement  = "machine" { KEY "=" VALUE }          (first statement only)
 *            | [ NAME "=" ] call [ "=>" [ "!" ] expected ]
 * call       = STATEMENT-NAME { argument }           (names come from the registry)
 * </pre>
 */
public final class Parser {
    private final StatementRegistry registry;

    public Parser(StatementRegistry registry) {
        this.registry = registry;
    }

    /** Parses {@code text}; {@code source} names it in messages. Throws {@link ScriptSyntaxException}. */
    public Script parse(String source, String text) {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        String[] rows = text.split("\r?\n", -1);
        MachineConfig config = MachineConfig.defaults();
        Script.MachineLine machine = null;
        List<Script.Line> lines = new ArrayList<>();
        Set<String> bound = new HashSet<>();
        for (int i = 0; i < rows.length; i++) {
            int no = i + 1;
            Lexer.Line lx = Lexer.lex(no, rows[i]);
            List<Token> ts = lx.tokens();
            if (ts.isEmpty()) continue;
            if (ts.getFirst().is("machine")) {
                if (machine != null || !lines.isEmpty()) throw new ScriptSyntaxException(no, "machine must be the first statement");
                config = machine(no, ts.subList(1, ts.size()), config);
                machine = new Script.MachineLine(no, lx.text());
                continue;
            }
            lines.add(statement(no, lx, bound));
        }
        return new Script(source, config, machine, lines);
    }

    private static MachineConfig machine(int no, List<Token> opts, MachineConfig config) {
        Set<String> seen = new HashSet<>();
        for (Token t : opts) {
            String k = t.optionKey();
            if (k == null || !t.isLiteral()) {
                throw new ScriptSyntaxException(no, "machine: expected key=value, got '" + t.raw() + "' (usage: machine key=value ...; keys: "
                        + String.join(" ", MachineConfig.defaults().options().keySet()) + ")");
            }
            if (!seen.add(k)) throw new ScriptSyntaxException(no, "machine: option " + k + "= given twice");
            try {
                config = config.with(k, t.optionValue().literal());
            } catch (IllegalArgumentException e) {
                throw new ScriptSyntaxException(no, "machine: " + e.getMessage());
            }
        }
        return config;
    }

    private Script.Line statement(int no, Lexer.Line lx, Set<String> bound) {
        List<Token> ts = new ArrayList<>(lx.tokens());
        String bind = null;
        if (ts.size() >= 2 && ts.get(1).is("=")) {
            Token n = ts.getFirst();
            String lit = n.literal();
            if (lit == null || n.isQuoted() || !Token.IDENT.matcher(lit).matches()) {
                throw new ScriptSyntaxException(no, "bad name '" + n.raw() + "' before '=' (a name is letters, digits and _)");
            }
            if (ts.size() == 2) throw new ScriptSyntaxException(no, "missing statement after '" + lit + " ='");
            bind = lit;
            ts = ts.subList(2, ts.size());
        }
        Expected expected = null;
        for (int i = 0; i < ts.size(); i++) {
            if (!ts.get(i).is("=>")) continue;
            List<Token> after = ts.subList(i + 1, ts.size());
            if (after.isEmpty()) throw new ScriptSyntaxException(no, "missing expected outcome after '=>'");
            if (after.size() > 1) {
                throw new ScriptSyntaxException(no, "one expected outcome after '=>', got " + after.size() + " words (quote a string with spaces)");
            }
            try {
                expected = Expected.parse(after.getFirst());
            } catch (IllegalArgumentException e) {
                throw new ScriptSyntaxException(no, "after '=>': " + e.getMessage());
            }
            ts = ts.subList(0, i);
            break;
        }
        if (ts.isEmpty()) throw new ScriptSyntaxException(no, "missing statement before '=>'");
        for (Token t : ts) {
            if (t.is("=")) throw new ScriptSyntaxException(no, "unexpected '=' (bind with NAME = STATEMENT at the start of the line)");
        }
        Token head = ts.getFirst();
        if (head.isQuoted() || !head.isLiteral()) throw new ScriptSyntaxException(no, "a statement must start with its name, not '" + head.raw() + "'");
        String w0 = head.literal();
        Statement st = null;
        int argStart = 1;
        if (ts.size() >= 2 && ts.get(1).isLiteral() && !ts.get(1).isQuoted()) {
            st = registry.get(w0 + " " + ts.get(1).literal());
            if (st != null) argStart = 2;
        }
        if (st == null) st = registry.get(w0);
        if (st == null) {
            if (registry.hasPrefix(w0)) {
                String sub = ts.size() >= 2 ? "'" + ts.get(1).raw() + "'" : "nothing";
                throw new ScriptSyntaxException(no, w0 + ": expected one of " + String.join("|", registry.subcommands(w0)) + ", got " + sub);
            }
            throw new ScriptSyntaxException(no, "unknown statement '" + w0 + "'" + suggestion(w0));
        }
        for (Token t : lx.tokens()) {
            for (String r : t.references()) {
                if (!bound.contains(r)) {
                    throw new ScriptSyntaxException(no, "$" + r + " is not bound (bind it on an earlier line: " + r + " = STATEMENT)");
                }
            }
        }
        Args args = new Args(no, st, ts.subList(argStart, ts.size()));
        Statement.Action action = st.compile(args);
        if (action == null) throw new IllegalStateException(st.name() + ".compile returned null");
        args.end();
        if (bind != null) bound.add(bind);
        return new Script.Line(no, ScriptSyntaxException.abbreviate(masked(lx, args.secrets())), bind, st, action, expected);
    }

    /** key=HEX / tweak=HEX inside words and strings (mktme payloads): key material, never echoed. */
    private static final java.util.regex.Pattern KEY_MATERIAL =
            java.util.regex.Pattern.compile("\\b(key|tweak)=(0x)?[0-9a-fA-F_:]{8,}");

    /** The line's text with the values of secret options and key=HEX material replaced by {@code ***}. */
    private static String masked(Lexer.Line lx, List<Args.Secret> secrets) {
        return KEY_MATERIAL.matcher(maskTokens(lx, secrets)).replaceAll("$1=***");
    }

    private static String maskTokens(Lexer.Line lx, List<Args.Secret> secrets) {
        if (secrets.isEmpty()) return lx.text();
        int base = lx.tokens().getFirst().column();
        StringBuilder sb = new StringBuilder(lx.text());
        List<Args.Secret> sorted = new ArrayList<>(secrets);
        sorted.sort((a, b) -> Integer.compare(b.token().column(), a.token().column()));
        for (Args.Secret sec : sorted) {
            Token t = sec.token();
            int start = t.column() - base + (sec.whole() ? 0 : t.optionKey().length() + 1);
            int end = t.column() - base + t.raw().length();
            sb.replace(start, end, "***");
        }
        return sb.toString();
    }

    private String suggestion(String w) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (Statement s : registry.all()) {
            String n = s.name().split(" ")[0];
            int d = distance(w, n);
            if (d < bestD) {
                bestD = d;
                best = n;
            }
        }
        return best != null && bestD <= 2 ? " (did you mean '" + best + "'?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
