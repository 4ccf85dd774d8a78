package dev.memcrypt.script;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One whitespace-separated word of a statement, shell-like: it may join unquoted text, quoted
 * text and {@code $NAME} references ({@code key=$k}, {@code "type=user key=$k"}). {@code raw} is
 * the source text as written, for messages.
 */
public record Token(List<Part> parts, String raw, int column) {
    static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** A piece of a token. */
    public sealed interface Part {}

    /** Literal text; {@code quoted} if it came from a "..." string. */
    public record Lit(String text, boolean quoted) implements Part {}

    /** A {@code $NAME} or {@code ${NAME}} reference, expanded when the statement runs. */
    public record Var(String name) implements Part {}

    public Token {
        parts = List.copyOf(parts);
    }

    /** True when the token has no {@code $NAME} reference, so its text is known before running. */
    public boolean isLiteral() {
        return parts.stream().allMatch(p -> p instanceof Lit);
    }

    /** True when any part was written inside quotes. */
    public boolean isQuoted() {
        return parts.stream().anyMatch(p -> p instanceof Lit l && l.quoted());
    }

    /** True when the token is exactly one {@code $NAME} reference. */
    public boolean isVarOnly() {
        return parts.size() == 1 && parts.getFirst() instanceof Var;
    }

    /** True when the whole token is one quoted string. */
    public boolean isString() {
        return parts.size() == 1 && parts.getFirst() instanceof Lit l && l.quoted();
    }

    /** The text of a literal token; null if it has references. */
    public String literal() {
        if (!isLiteral()) return null;
        StringBuilder sb = new StringBuilder();
        for (Part p : parts) sb.append(((Lit) p).text());
        return sb.toString();
    }

    /** True when the token is this bare (unquoted, reference-free) word. */
    public boolean is(String word) {
        return parts.size() == 1 && parts.getFirst() instanceof Lit l && !l.quoted() && l.text().equals(word);
    }

    /** The names this token refers to. */
    public List<String> references() {
        return parts.stream().filter(p -> p instanceof Var).map(p -> ((Var) p).name()).toList();
    }

    /**
     * If this token has the form {@code key=value} with an unquoted identifier key, the key;
     * else null. Quoted text is never an option ({@code "type=cpu"} is one positional string).
     */
    public String optionKey() {
        if (parts.isEmpty() || !(parts.getFirst() instanceof Lit l) || l.quoted()) return null;
        int eq = l.text().indexOf('=');
        if (eq <= 0) return null;
        String key = l.text().substring(0, eq);
        return IDENT.matcher(key).matches() ? key : null;
    }

    /** The value part of a {@code key=value} token, as a token of its own. */
    public Token optionValue() {
        String key = optionKey();
        if (key == null) throw new IllegalStateException("not an option: " + raw);
        Lit first = (Lit) parts.getFirst();
        String rest = first.text().substring(key.length() + 1);
        java.util.ArrayList<Part> ps = new java.util.ArrayList<>();
        if (!rest.isEmpty() || parts.size() == 1) ps.add(new Lit(rest, false));
        ps.addAll(parts.subList(1, parts.size()));
        return new Token(ps, raw.substring(key.length() + 1), column + key.length() + 1);
    }

    @Override
    public String toString() {
        return raw;
    }
}
