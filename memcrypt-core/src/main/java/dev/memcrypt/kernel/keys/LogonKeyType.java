package dev.memcrypt.kernel.keys;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;

/**
 * The "logon" key type: like "user" but never readable from user space, and the description
 * must carry a non-empty "service:" prefix (logon_vet_description).
 */
public final class LogonKeyType extends UserKeyType {
    @Override
    public String name() {
        return "logon";
    }

    @Override
    public void vetDescription(String description) throws ErrnoException {
        int colon = description.indexOf(':');
        if (colon <= 0) throw Errno.EINVAL.exception();
    }

    @Override
    public boolean readable() {
        return false;
    }

    @Override
    public byte[] read(Key key) throws ErrnoException {
        throw Errno.EOPNOTSUPP.exception();
    }
}
