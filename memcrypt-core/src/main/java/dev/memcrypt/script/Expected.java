package dev.memcrypt.script;

import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * The {@code EXPECTED} of {@code STATEMENT => EXPECTED}, with an optional leading {@code !} that
 * negates it. Forms:
 * <ul>
 *   <li>an outcome name: starts with {@code #} or a capital letter ({@code #GP}, {@code EINVAL},
 *       {@code INVALID_KEYID}, {@code SUCCESS}); matches a thrown fault/errno or a returned status;
 *   <li>a "quoted string": matches a string result, or bytes equal to its UTF-8;
 *   <li>a number or hex bytes, written the way results print: compared as a number against a
 *       number result ({@code 0x10} equals {@code 16}) and as bytes against a bytes result
 *       ({@code 00*16}, {@code "abc"+00*13}); hex bytes are lowercase or start with a digit;
 *   <li>{@code $NAME}: equal to a bound value.
 * </ul>
 * A negated expectation passes when the statement completes normally with any other result; a
 * raised fault or errno never satisfies it.
 */
public record Expected(Token token, boolean negated, Form form, String name) {
    /** How the literal is compared. */
    public enum Form { OUTCOME, STRING, LITERAL, BINDING }

    private static final Pattern OUTCOME = Pattern.compile("#?[A-Z][A-Z0-9_]*");

    /** Classifies the token after {@code =>}; throws IllegalArgumentException for a form that can never match. */
    static Expected parse(Token t) {
        boolean neg = false;
        if (t.parts().getFirst() instanceof Token.Lit l && !l.quoted() && l.text().startsWith("!")) {
            neg = true;
            var parts = new java.util.ArrayList<>(t.parts());
            String rest = l.text().substring(1);
            if (rest.isEmpty()) parts.removeFirst();
            else parts.set(0, new Token.Lit(rest, false));
            if (parts.isEmpty()) throw new IllegalArgumentException("nothing after '!'");
            t = new Token(parts, t.raw().substring(1), t.column() + 1);
        }
        if (t.isString()) return new Expected(t, neg, Form.STRING, null);
        if (t.isVarOnly()) return new Expected(t, neg, Form.BINDING, ((Token.Var) t.parts().getFirst()).name());
        String lit = t.literal();
        if (lit != null && !t.isQuoted() && OUTCOME.matcher(lit).matches()) return new Expected(t, neg, Form.OUTCOME, lit);
        if (lit != null && Literals.isNumber(lit)) return new Expected(t, neg, Form.LITERAL, null);
        try {
            Args.toBytes(t, null);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("'" + t.raw() + "' is not an outcome name (#GP, EINVAL, INVALID_KEYID), a number, hex bytes, a \"string\" or $NAME");
        }
        if (!t.isLiteral()) throw new IllegalArgumentException("an expected value may be $NAME alone, not '" + t.raw() + "'");
        return new Expected(t, neg, Form.LITERAL, null);
    }

    /** The expectation as written. */
    public String text() {
        return (negated ? "!" : "") + token.raw();
    }

    /**
     * Null when the outcome matches; else why not. Exactly one of {@code result} and
     * {@code outcome} (a thrown outcome's name) is non-null.
     */
    String mismatch(Value result, String outcome, Session s) {
        if (outcome != null) {
            if (!negated && form == Form.OUTCOME && name.equals(outcome)) return null;
            return "expected " + text() + ", got " + outcome;
        }
        boolean eq = matches(result, s);
        if (eq != negated) return null;
        String got = result instanceof Value.Str str && str.multiline() ? Value.quote(str.value()) : result.display();
        return "expected " + text() + ", got " + got + (negated ? "" : difference(result, s));
    }

    /** For bytes against bytes: where they first differ, or that their lengths differ. */
    private String difference(Value result, Session s) {
        if (!(result instanceof Value.Bytes b)) return "";
        byte[] want;
        try {
            want = switch (form) {
                case LITERAL -> Args.toBytes(token, s);
                case STRING -> Literals.utf8(token.literal());
                case BINDING -> s.lookup(name) instanceof Value.Bytes w ? w.data() : null;
                default -> null;
            };
        } catch (IllegalArgumentException e) {
            return "";
        }
        if (want == null) return "";
        byte[] got = b.data();
        int n = Math.min(want.length, got.length);
        for (int i = 0; i < n; i++) {
            if (want[i] != got[i]) return String.format(" (first difference at byte %d: expected %02x, got %02x)", i, want[i] & 0xff, got[i] & 0xff);
        }
        return want.length != got.length ? " (" + got.length + " bytes, expected " + want.length + ")" : "";
    }

    private boolean matches(Value v, Session s) {
        return switch (form) {
            case OUTCOME -> v instanceof Value.Status st && st.name().equals(name);
            case STRING -> {
                String want = token.literal();
                yield switch (v) {
                    case Value.Str str -> str.value().equals(want);
                    case Value.Bytes b -> Arrays.equals(b.data(), Literals.utf8(want));
                    default -> false;
                };
            }
            case LITERAL -> {
                String lit = token.literal();
                yield switch (v) {
                    case Value.Num n -> Literals.isNumber(lit) && Literals.number(lit) == n.value();
                    case Value.Bytes b -> {
                        try {
                            yield Arrays.equals(b.data(), Args.toBytes(token, s));
                        } catch (IllegalArgumentException e) {
                            yield false;
                        }
                    }
                    case Value.Str str -> str.value().equals(lit);
                    default -> false;
                };
            }
            case BINDING -> same(v, s.lookup(name));
        };
    }

    static boolean same(Value a, Value b) {
        if (a instanceof Value.Bytes x && b instanceof Value.Str y) return Arrays.equals(x.data(), y.utf8());
        if (a instanceof Value.Str x && b instanceof Value.Bytes y) return Arrays.equals(x.utf8(), y.data());
        if (a instanceof Value.Status x && b instanceof Value.Status y) return x.name().equals(y.name());
        if (a instanceof Value.Obj x && b instanceof Value.Obj y) return x.ref() == y.ref();
        return a.equals(b);
    }
}
