package dev.memcrypt.kvm;

import dev.memcrypt.util.Outcome;

/** An expected failure of a KVM operation, named by its errno (ENOKEY, EOPNOTSUPP, EBUSY, ...). */
public final class KvmException extends RuntimeException implements Outcome {
    private final String errno;

    public KvmException(String errno, String message) {
        super(errno + ": " + message, null, false, false);
        this.errno = errno;
    }

    @Override
    public String outcomeName() {
        return errno;
    }
}
