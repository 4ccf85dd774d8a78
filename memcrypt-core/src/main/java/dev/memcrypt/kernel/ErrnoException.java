package dev.memcrypt.kernel;

import dev.memcrypt.util.Outcome;

/**
 * A system call's error return. The message is only the errno text (plus an optional context
 * string chosen by kernel code, never key material). No stack trace: it is an expected outcome.
 */
public final class ErrnoException extends Exception implements Outcome {
    private final Errno errno;

    public ErrnoException(Errno errno) {
        this(errno, null);
    }

    public ErrnoException(Errno errno, String context) {
        super(context == null ? errno.name() + ": " + errno.message() : errno.name() + ": " + context, null, false, false);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    @Override
    public String outcomeName() {
        return errno.name();
    }
}
