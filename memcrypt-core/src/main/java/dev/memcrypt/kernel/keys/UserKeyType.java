package dev.memcrypt.kernel.keys;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import java.util.Arrays;

/**
 * The "user" key type (security/keys/user_defined.c): an opaque blob of 1..32767 bytes,
 * readable and updatable. Payload: a byte[] that is wiped when replaced, revoked or destroyed.
 */
public class UserKeyType implements KeyType {
    /** Largest payload user_preparse accepts. */
    public static final int MAX_DATALEN = 32767;

    @Override
    public String name() {
        return "user";
    }

    @Override
    public void preparse(Preparsed prep) throws ErrnoException {
        if (prep.datalen() <= 0 || prep.datalen() > MAX_DATALEN) throw Errno.EINVAL.exception();
        prep.payload = prep.data().clone();
        prep.quotalen = prep.datalen();
    }

    @Override
    public void freePreparse(Preparsed prep) {
        if (prep.payload instanceof byte[] b) Arrays.fill(b, (byte) 0);
        prep.payload = null;
    }

    @Override
    public void instantiate(Key key, Preparsed prep) {
        key.setPayload(prep.payload);
        prep.payload = null;
    }

    @Override
    public boolean supportsUpdate() {
        return true;
    }

    @Override
    public void update(Key key, Preparsed prep) {
        Object old = key.payload();
        key.setPayload(prep.payload);
        prep.payload = null;
        if (old instanceof byte[] b) Arrays.fill(b, (byte) 0);
    }

    @Override
    public void revoke(Key key) {
        destroy(key);
    }

    @Override
    public void destroy(Key key) {
        if (key.payload() instanceof byte[] b) Arrays.fill(b, (byte) 0);
        key.setPayload(null);
    }

    @Override
    public boolean readable() {
        return true;
    }

    @Override
    public byte[] read(Key key) throws ErrnoException {
        if (!(key.payload() instanceof byte[] b)) throw Errno.EKEYREVOKED.exception();
        return b.clone();
    }
}
