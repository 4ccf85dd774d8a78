package dev.memcrypt.script;

import dev.memcrypt.util.Outcome;

/**
 * A statement's failure that a script can expect by name ({@code => ENOKEY}, {@code => REFUSED}):
 * the one shape statement providers share for outcomes that are not already an architectural
 * fault or an errno. Stackless: it is an expected result, not a bug.
 */
public class OutcomeException extends RuntimeException implements Outcome {
    private final String name;

    public OutcomeException(String name, String message) {
        super(message, null, false, false);
        if (name == null || name.isBlank()) throw new IllegalArgumentException("outcome name must not be blank: '" + name + "'");
        this.name = name;
    }

    @Override
    public final String outcomeName() {
        return name;
    }
}
