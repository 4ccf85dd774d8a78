package dev.memcrypt.kernel.keys;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;

/**
 * The "keyring" type. Its contents are kept by {@link KeyService} (under the graph lock), so the
 * type itself only refuses payloads; read returns the linked serials (done by the service).
 */
public final class KeyringType implements KeyType {
    @Override
    public String name() {
        return "keyring";
    }

    @Override
    public void preparse(Preparsed prep) throws ErrnoException {
        if (prep.datalen() != 0) throw Errno.EINVAL.exception();
    }

    @Override
    public void freePreparse(Preparsed prep) {}

    @Override
    public void instantiate(Key key, Preparsed prep) {}

    @Override
    public void destroy(Key key) {}

    @Override
    public boolean readable() {
        return true;
    }

    @Override
    public String describe(Key key) {
        // keyring_describe: name, then ": empty" or ": N" leaves (racy count, like the kernel's).
        int n = key.links.size();
        return key.isPositive() ? key.description() + (n == 0 ? ": empty" : ": " + n) : key.description();
    }
}
