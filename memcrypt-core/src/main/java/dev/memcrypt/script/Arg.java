package dev.memcrypt.script;

/**
 * An argument checked when the script is parsed and resolved when the statement runs. A literal
 * is converted once at parse time; an argument with {@code $NAME} is converted at run time, when
 * the binding's value is known (a value of the wrong kind is then a syntax error for that line).
 */
@FunctionalInterface
public interface Arg<T> {
    T get(Session s);

    static <T> Arg<T> constant(T v) {
        return s -> v;
    }
}
