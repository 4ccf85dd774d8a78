package dev.memcrypt.script;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits one source line into {@link Token}s, shell-like.
 *
 * <ul>
 *   <li>Words are separated by spaces and tabs. {@code "..."} quotes (escapes {@code \" \\ \n \t
 *       \r \$ \xHH}, {@code $NAME} expanded) and {@code '...'} quotes (literal) may join unquoted
 *       text in one word.
 *   <li>{@code $NAME} and {@code ${NAME}} refer to a binding.
 *   <li>{@code #} at the start of a word begins a comment, except a fault name ({@code #GP},
 *       {@code #UD}, {@code #PF}: {@code #} and capital letters) right after {@code =>} or
 *       {@code =>!}, which is the expected outcome.
 * </ul>
 */
final class Lexer {
    /** A lexed line: its tokens and the statement text as written, without comment. */
    record Line(int number, List<Token> tokens, String text) {}

    private Lexer() {}

    static Line lex(int lineNo, String src) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = src.length();
        int firstStart = -1;
        int lastEnd = -1;
        while (i < n) {
            char c = src.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
                i++;
                continue;
            }
            if (c == '#' && !faultNameHere(out, src, i)) break;
            int start = i;
            List<Token.Part> parts = new ArrayList<>();
            StringBuilder lit = new StringBuilder();
            boolean litQuoted = false;
            while (i < n) {
                c = src.charAt(i);
                if (c == ' ' || c == '\t' || c == '\r' || c == '\f') break;
                if (c == '"' || c == '\'') {
                    flush(parts, lit, litQuoted);
                    litQuoted = true;
                    int q = i;
                    i++;
                    boolean closed = false;
                    while (i < n) {
                        char d = src.charAt(i);
                        if (d == c) {
                            closed = true;
                            i++;
                            break;
                        }
                        if (c == '"' && d == '\\') {
                            if (i + 1 >= n) break;
                            char e = src.charAt(i + 1);
                            switch (e) {
                                case '"', '\\', '$', '\'' -> lit.append(e);
                                case 'n' -> lit.append('\n');
                                case 't' -> lit.append('\t');
                                case 'r' -> lit.append('\r');
                                case 'x' -> {
                                    int hi = i + 2 < n ? Character.digit(src.charAt(i + 2), 16) : -1;
                                    int lo = i + 3 < n ? Character.digit(src.charAt(i + 3), 16) : -1;
                                    if (hi < 0 || lo < 0) throw err(lineNo, q, "bad \\x escape (need two hex digits)");
                                    lit.append((char) (hi * 16 + lo));
                                    i += 2;
                                }
                                default -> throw err(lineNo, i, "unknown escape \\" + e + " in string");
                            }
                            i += 2;
                            continue;
                        }
                        if (c == '"' && d == '$') {
                            i = variable(lineNo, src, i, parts, lit, true);
                            continue;
                        }
                        lit.append(d);
                        i++;
                    }
                    if (!closed) throw err(lineNo, q, "unterminated " + (c == '"' ? "\"string\"" : "'string'"));
                    flush(parts, lit, true);
                    litQuoted = false;
                    continue;
                }
                if (c == '$') {
                    i = variable(lineNo, src, i, parts, lit, litQuoted);
                    continue;
                }
                if (c == '\\' && i + 1 < n) {
                    lit.append(src.charAt(i + 1));
                    i += 2;
                    continue;
                }
                lit.append(c);
                i++;
            }
            flush(parts, lit, litQuoted);
            if (parts.isEmpty()) parts.add(new Token.Lit("", true)); // ""
            out.add(new Token(parts, src.substring(start, i), start + 1));
            if (firstStart < 0) firstStart = start;
            lastEnd = i;
        }
        String text = firstStart < 0 ? "" : src.substring(firstStart, lastEnd);
        return new Line(lineNo, out, text);
    }

    /** Parses {@code $NAME} or {@code ${NAME}} at {@code i}; returns the index after it. */
    private static int variable(int lineNo, String src, int i, List<Token.Part> parts, StringBuilder lit, boolean quoted) {
        int n = src.length();
        int j = i + 1;
        boolean braced = j < n && src.charAt(j) == '{';
        if (braced) j++;
        int s = j;
        while (j < n && (Character.isLetterOrDigit(src.charAt(j)) || src.charAt(j) == '_')) j++;
        String name = src.substring(s, j);
        if (name.isEmpty() || !Token.IDENT.matcher(name).matches()) {
            throw err(lineNo, i, "'$' must be followed by a name ($NAME or ${NAME})");
        }
        if (braced) {
            if (j >= n || src.charAt(j) != '}') throw err(lineNo, i, "missing '}' after ${" + name);
            j++;
        }
        flush(parts, lit, quoted);
        parts.add(new Token.Var(name));
        return j;
    }

    private static void flush(List<Token.Part> parts, StringBuilder lit, boolean quoted) {
        if (lit.length() > 0) {
            parts.add(new Token.Lit(lit.toString(), quoted));
            lit.setLength(0);
        }
    }

    /** {@code #GP} etc. right after {@code =>} (or {@code =>} then {@code !}). */
    private static boolean faultNameHere(List<Token> out, String src, int i) {
        if (out.isEmpty() || !out.getLast().is("=>")) return false;
        int j = i + 1;
        int s = j;
        while (j < src.length() && (Character.isUpperCase(src.charAt(j)) || Character.isDigit(src.charAt(j)) || src.charAt(j) == '_')) j++;
        if (j == s || !Character.isUpperCase(src.charAt(s))) return false;
        return j == src.length() || src.charAt(j) == ' ' || src.charAt(j) == '\t' || src.charAt(j) == '\r';
    }

    private static ScriptSyntaxException err(int line, int index, String msg) {
        return new ScriptSyntaxException(line, "column " + (index + 1) + ": " + msg);
    }
}
