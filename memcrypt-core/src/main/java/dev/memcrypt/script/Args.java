package dev.memcrypt.script;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The arguments of one statement, as {@link Statement#compile} consumes them. Words of the form
 * {@code key=value} (unquoted identifier key) are options, in any order; the others are
 * positional, consumed left to right. Every getter checks a literal now and raises a precise
 * {@link ScriptSyntaxException} naming the line, the statement and its usage; {@link #end()}
 * rejects leftovers. Arguments with {@code $NAME} are checked when the statement runs.
 */
public final class Args {
    private final int line;
    private final Statement statement;
    private final List<Token> all;
    private final List<Token> positional = new ArrayList<>();
    private final Map<String, Token> options = new LinkedHashMap<>();
    private final List<Secret> secrets = new ArrayList<>();
    private String repeatedOption;
    private int next;

    Args(int line, Statement statement, List<Token> tokens) {
        this.line = line;
        this.statement = statement;
        this.all = List.copyOf(tokens);
        for (Token t : tokens) {
            String k = t.optionKey();
            if (k == null) {
                positional.add(t);
            } else if (options.putIfAbsent(k, t) != null && repeatedOption == null) {
                repeatedOption = k; // an error unless the statement takes its words raw (keyctl)
            }
        }
    }

    public int line() {
        return line;
    }

    /** A syntax error for this statement, with its usage appended. */
    public ScriptSyntaxException error(String msg) {
        return new ScriptSyntaxException(line, statement.name() + ": " + msg + " (usage: " + statement.usage() + ")");
    }

    /** The positional words as written, without consuming them. */
    public List<Token> positionals() {
        return List.copyOf(positional);
    }

    /** Every argument word as written, options included (for statements with their own grammar, such as keyctl). */
    public List<Token> tokens() {
        next = positional.size();
        options.clear();
        repeatedOption = null;
        return all;
    }

    /** The argument words expanded to strings when the statement runs (keyctl-style argv); consumes everything. */
    public Arg<List<String>> argv() {
        return argv(tokens());
    }

    /** These words (from {@link #tokens()}) expanded to strings when the statement runs. */
    public Arg<List<String>> argv(List<Token> ts) {
        return s -> {
            List<String> out = new ArrayList<>(ts.size());
            for (Token t : ts) out.add(expand(t, s));
            return out;
        };
    }

    /** True if a positional argument is left. */
    public boolean hasNext() {
        return next < positional.size();
    }

    /** True if the next positional argument is one of these literal words (case-insensitive). */
    public boolean peekIs(String... words) {
        if (!hasNext()) return false;
        String lit = positional.get(next).literal();
        if (lit == null) return false;
        for (String w : words) if (w.equalsIgnoreCase(lit)) return true;
        return false;
    }

    /** True if option {@code key=} was given (and not yet consumed). */
    public boolean has(String key) {
        return options.containsKey(key);
    }

    /** Next positional argument, converted by {@code conv} (which throws IllegalArgumentException with the reason). */
    public <T> Arg<T> positional(String what, Function<Value, T> conv) {
        if (!hasNext()) throw error("missing " + what);
        return convert(what, positional.get(next++), conv);
    }

    /** Option {@code key=VALUE}, converted; {@code dflt} (may be null) when absent. */
    public <T> Arg<T> option(String key, Function<Value, T> conv, T dflt) {
        Token t = options.remove(key);
        if (t == null) return Arg.constant(dflt);
        return convert(key + "=", t.optionValue(), conv);
    }

    /** Option {@code key=VALUE} that must be given. */
    public <T> Arg<T> requiredOption(String key, Function<Value, T> conv) {
        if (!options.containsKey(key)) throw error("missing " + key + "=");
        return option(key, conv, null);
    }

    // ---- common conversions ----

    /** A number: decimal, 0x-hex, K/M/G/T suffix; or a bound number. */
    public Arg<Long> num(String what) {
        return positional(what, Args::toNum);
    }

    public Arg<Long> optNum(String key, Long dflt) {
        return option(key, Args::toNum, dflt);
    }

    /** A number in {@code [min, max]}. */
    public Arg<Long> num(String what, long min, long max) {
        return positional(what, v -> range(what, toNum(v), min, max));
    }

    public Arg<Long> optNum(String key, long min, long max, Long dflt) {
        return option(key, v -> range(key + "=", toNum(v), min, max), dflt);
    }

    /** Bytes: hex ({@code 00112233}, {@code 00*64}), a "string" (UTF-8), a bound value, joined with {@code +}. */
    public Arg<byte[]> bytes(String what) {
        if (!hasNext()) throw error("missing " + what);
        return bytesArg(what, positional.get(next++));
    }

    /** A given word (from {@link #tokens()}) as bytes, checked like {@link #bytes(String)}. */
    public Arg<byte[]> bytes(String what, Token t) {
        return bytesArg(what, t);
    }

    /**
     * Flags as C writes them: names joined with {@code |} ({@code PROT_READ|PROT_WRITE}), numbers
     * allowed among them, {@code 0} for none. Unknown names are syntax errors listing the known ones.
     */
    public Arg<Long> flags(String what, Map<String, Long> names) {
        return positional(what, v -> flagValue(v, names));
    }

    static long flagValue(Value v, Map<String, Long> names) {
        if (v instanceof Value.Num n) return n.value();
        long out = 0;
        for (String part : v.text().split("\\|", -1)) {
            Long f = names.get(part);
            if (f != null) out |= f;
            else if (Literals.isNumber(part)) out |= Literals.number(part);
            else throw new IllegalArgumentException("unknown flag '" + part + "' (known: " + String.join(" ", names.keySet()) + ")");
        }
        return out;
    }

    /** Option {@code key=BYTES}; null when absent. */
    public Arg<byte[]> optBytes(String key) {
        Token t = options.remove(key);
        if (t == null) return Arg.constant(null);
        return bytesArg(key + "=", t.optionValue());
    }

    /**
     * Option {@code key=BYTES} holding key material: like {@link #optBytes}, and its literal value
     * is shown as {@code ***} wherever the statement is echoed (run log, JSON, failures).
     */
    public Arg<byte[]> optSecretBytes(String key, int minLen, int maxLen) {
        Token t = options.remove(key);
        if (t == null) return Arg.constant(null);
        if (t.isLiteral()) secrets.add(new Secret(t, false));
        return secretBytesArg(key + "=", t.optionValue(), minLen, maxLen);
    }

    /**
     * A given word (from {@link #tokens()}) holding key material, such as keyctl padd's data: checked
     * like {@link #bytes(String, Token)}, never echoed (see {@link #secret}), and a fresh buffer on
     * every run, so the caller wipes it when done.
     */
    public Arg<byte[]> secretBytes(String what) {
        if (!hasNext()) throw error("missing " + what);
        return secretBytes(what, positional.get(next++));
    }

    /**
     * Like {@link #secretBytes(String)} but echoed as written (an mktme payload, whose key=/tweak=
     * values the parser masks): a fresh buffer on every run, for the caller to wipe.
     */
    public Arg<byte[]> freshBytes(String what) {
        if (!hasNext()) throw error("missing " + what);
        return secretBytesArg(what, positional.get(next++), 0, Literals.MAX_BYTES);
    }

    /** {@link #secretBytes(String)} of a given word (from {@link #tokens()}). */
    public Arg<byte[]> secretBytes(String what, Token t) {
        secret(t);
        return secretBytesArg(what, t, 0, Literals.MAX_BYTES);
    }

    /**
     * Key bytes are not kept in the compiled script: a literal is checked now (that buffer wiped)
     * and parsed again into a fresh buffer each time the statement runs; the statement wipes it.
     */
    private Arg<byte[]> secretBytesArg(String what, Token t, int minLen, int maxLen) {
        Arg<byte[]> checked = bytesArg(what, t, minLen, maxLen);
        if (!t.isLiteral()) return checked;
        java.util.Arrays.fill(checked.get(null), (byte) 0);
        return s -> bytesArg(what, t, minLen, maxLen).get(s);
    }

    /**
     * Marks a whole word as key material (a payload such as {@code keyctl add user}'s DATA): it is
     * shown as {@code ***} wherever the statement is echoed. A bare {@code $NAME} shows as written.
     */
    public void secret(Token t) {
        if (!t.isVarOnly()) secrets.add(new Secret(t, true));
    }

    /** A word whose text must not be echoed: the value of a key=value option, or the whole word. */
    record Secret(Token token, boolean whole) {}

    /** Words whose literal values must not be echoed (see {@link #optSecretBytes}, {@link #secret}). */
    List<Secret> secrets() {
        return List.copyOf(secrets);
    }

    /** Option {@code key=BYTES} that must be given. */
    public Arg<byte[]> requiredBytes(String key) {
        if (!options.containsKey(key)) throw error("missing " + key + "=");
        return optBytes(key);
    }

    /** A word from a fixed set (case-insensitive; returned in the spelling of {@code choices}). */
    public Arg<String> choice(String what, String... choices) {
        return positional(what, v -> pick(what, v, choices));
    }

    public Arg<String> optChoice(String key, String dflt, String... choices) {
        return option(key, v -> pick(key + "=", v, choices), dflt);
    }

    /** Any word or string, as text. */
    public Arg<String> word(String what) {
        return positional(what, Value::text);
    }

    /** Any value: number literal, hex bytes, "string", or a binding as it is. */
    public Arg<Value> value(String what) {
        return positional(what, v -> v);
    }

    /** A bound model object ({@link Value.Obj}) of {@code type}, such as a process or a VM handle. */
    public <T> Arg<T> object(String what, Class<T> type) {
        return positional(what, v -> {
            if (v instanceof Value.Obj o && type.isInstance(o.ref())) return type.cast(o.ref());
            throw new IllegalArgumentException("a " + v.kind() + " is not a " + type.getSimpleName() + " (bind one with NAME = ...)");
        });
    }

    /** A literal keyword that must be present now (a sub-command such as {@code offline}); no $NAME. */
    public String keyword(String what, String... choices) {
        if (!hasNext()) throw error("missing " + what + " (" + String.join("|", choices) + ")");
        Token t = positional.get(next++);
        if (!t.isLiteral()) throw error(what + " must be written out, not " + t.raw());
        return pick(what, new Value.Str(t.literal()), choices, true);
    }

    /** Fails on arguments nobody consumed. */
    public void end() {
        if (repeatedOption != null) throw error("option " + repeatedOption + "= given twice");
        if (hasNext()) throw error("unexpected argument '" + positional.get(next).raw() + "'");
        if (!options.isEmpty()) throw error("unknown option '" + options.keySet().iterator().next() + "='");
    }

    // ---- machinery ----

    private <T> Arg<T> convert(String what, Token t, Function<Value, T> conv) {
        if (t.isLiteral()) {
            T v = apply(what, conv, literalValue(t));
            return Arg.constant(v);
        }
        return s -> apply(what, conv, runtimeValue(t, s));
    }

    private <T> T apply(String what, Function<Value, T> conv, Value v) {
        try {
            return conv.apply(v);
        } catch (IllegalArgumentException e) {
            throw error(what + ": " + e.getMessage());
        }
    }

    /** A literal token as a value: a quoted string is a string; anything else is a bare word (string). */
    private static Value literalValue(Token t) {
        return new Value.Str(t.literal());
    }

    private static Value runtimeValue(Token t, Session s) {
        if (t.isVarOnly()) return s.lookup(((Token.Var) t.parts().getFirst()).name());
        return new Value.Str(expand(t, s));
    }

    /** The token's text with every {@code $NAME} replaced by its value's text. */
    static String expand(Token t, Session s) {
        StringBuilder sb = new StringBuilder();
        for (Token.Part p : t.parts()) {
            if (p instanceof Token.Lit l) sb.append(l.text());
            else sb.append(s.lookup(((Token.Var) p).name()).text());
        }
        return sb.toString();
    }

    private Arg<byte[]> bytesArg(String what, Token t) {
        return bytesArg(what, t, 0, Literals.MAX_BYTES);
    }

    private Arg<byte[]> bytesArg(String what, Token t, int minLen, int maxLen) {
        Function<Session, byte[]> f = s -> {
            byte[] b = toBytes(t, s);
            if (minLen == maxLen && b.length != minLen) throw new IllegalArgumentException(b.length + " bytes, need exactly " + minLen);
            if (b.length > maxLen) throw new IllegalArgumentException(b.length + " bytes, at most " + maxLen + " allowed");
            if (b.length < minLen) throw new IllegalArgumentException(b.length + " bytes, at least " + minLen + " needed");
            return b;
        };
        if (t.isLiteral()) {
            byte[] b = apply(what, v -> f.apply(null), null);
            return Arg.constant(b);
        }
        return s -> apply(what, v -> f.apply(s), null);
    }

    /** Terms joined by unquoted '+': quoted text (UTF-8), $NAME (bytes, or a string's UTF-8), hex[*N]. */
    static byte[] toBytes(Token t, Session s) {
        List<byte[]> terms = new ArrayList<>();
        StringBuilder hex = new StringBuilder();
        boolean pendingHex = false;
        boolean afterPlus = true;
        for (Token.Part p : t.parts()) {
            if (p instanceof Token.Lit l && !l.quoted()) {
                String txt = l.text();
                for (int i = 0; i < txt.length(); i++) {
                    char c = txt.charAt(i);
                    if (c == '+') {
                        if (pendingHex) terms.add(Literals.hexTerm(hex.toString()));
                        else if (afterPlus) throw new IllegalArgumentException("empty term around '+'");
                        hex.setLength(0);
                        pendingHex = false;
                        afterPlus = true;
                    } else {
                        if (!afterPlus && !pendingHex) throw new IllegalArgumentException("missing '+' between terms");
                        hex.append(c);
                        pendingHex = true;
                        afterPlus = false;
                    }
                }
            } else {
                if (!afterPlus) throw new IllegalArgumentException("missing '+' between terms");
                if (p instanceof Token.Lit l) {
                    terms.add(Literals.utf8(l.text()));
                } else {
                    Value v = s.lookup(((Token.Var) p).name());
                    terms.add(switch (v) {
                        case Value.Bytes b -> b.data();
                        case Value.Str str -> str.utf8();
                        default -> throw new IllegalArgumentException("$" + ((Token.Var) p).name() + " is a " + v.kind() + ", not bytes");
                    });
                }
                afterPlus = false;
            }
        }
        if (pendingHex) terms.add(Literals.hexTerm(hex.toString()));
        else if (afterPlus && !terms.isEmpty()) throw new IllegalArgumentException("trailing '+'");
        return Literals.concat(terms);
    }

    static long toNum(Value v) {
        return switch (v) {
            case Value.Num n -> n.value();
            case Value.Str s -> Literals.number(s.value());
            default -> throw new IllegalArgumentException("a " + v.kind() + " is not a number");
        };
    }

    static long range(String what, long v, long min, long max) {
        if (v < min || v > max) throw new IllegalArgumentException(v + " out of range " + min + ".." + max);
        return v;
    }

    private String pick(String what, Value v, String[] choices) {
        return pick(what, v, choices, false);
    }

    private String pick(String what, Value v, String[] choices, boolean wrap) {
        String s = v.text();
        for (String c : choices) if (c.equalsIgnoreCase(s)) return c;
        String msg = "'" + s + "' is not one of " + String.join("|", choices);
        if (wrap) throw error(what + ": " + msg);
        throw new IllegalArgumentException(msg);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
