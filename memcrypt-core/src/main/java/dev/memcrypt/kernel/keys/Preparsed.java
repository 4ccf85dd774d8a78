package dev.memcrypt.kernel.keys;

import dev.memcrypt.kernel.cred.Cred;
import java.time.Instant;
import java.util.Arrays;

/**
 * struct key_preparsed_payload: the caller's data, and what the type's preparse made of it.
 * {@link #wipe()} zeroes the raw data; the service calls it after free_preparse.
 */
public final class Preparsed {
    private final byte[] data;
    private final Cred cred;
    private final String description;
    /** The type's parsed payload (owned by the type; released in free_preparse). */
    public Object payload;
    /** Bytes charged against the owner's quota for the payload. */
    public int quotalen;
    /** Expiry the type asks for (null: none). */
    public Instant expiry;

    public Preparsed(byte[] data, Cred cred, String description) {
        this.data = data == null ? new byte[0] : data.clone();
        this.cred = cred;
        this.description = description;
    }

    /** The caller's payload bytes (live array; types must not keep it). */
    public byte[] data() {
        return data;
    }

    public int datalen() {
        return data.length;
    }

    /** The credentials of the calling task (preparse runs in the caller's context). */
    public Cred cred() {
        return cred;
    }

    /** The key's description (null for update). */
    public String description() {
        return description;
    }

    public void wipe() {
        Arrays.fill(data, (byte) 0);
    }

    @Override
    public String toString() {
        return "Preparsed[datalen=" + data.length + ", quotalen=" + quotalen + "]";
    }
}
