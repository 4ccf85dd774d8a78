package dev.memcrypt.hw.keylocker;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * The handle wrap, AES-GCM-SIV style (SPEC-FACTS §3, after Key Locker spec 343965 A.5.2):
 * H = IWKey.IntegrityKey, K = IWKey.EncryptionKey as an AES-256 key (bytes in memory order).
 *
 * <pre>
 * S   = POLYVAL_H(AAD, key block 0[, key block 1], L)   L = LE64(128) || LE64(8 * keylen)
 * S[127] = 0
 * tag = AES-256_K(S)
 * ctr = tag with bit 127 set
 * wrapped key block i = key block i XOR AES-256_K(ctr + i)   (+ on the low 32 bits, mod 2^32)
 * </pre>
 *
 * Unwrap decrypts with the counter derived from the handle's tag and recomputes the tag; a
 * mismatch is an authentication failure. AES is javax.crypto AES/ECB; POLYVAL is {@link Polyval}.
 */
public final class HandleWrap {
    private HandleWrap() {}

    /** Builds a handle for {@code key} (16 or 32 bytes) with the given AAD under {@code iw}. */
    static byte[] wrap(IwKey iw, byte[] aad, byte[] key) {
        int n = key.length / 16;
        byte[] h = new byte[Handle.OFF_KEY + key.length];
        System.arraycopy(aad, 0, h, Handle.OFF_AAD, 16);
        Cipher aes = aes256(iw);
        try {
            byte[] s = polyval(iw, aad, key, 0, key.length);
            s[15] &= 0x7f;
            byte[] tag = aes.doFinal(s);
            System.arraycopy(tag, 0, h, Handle.OFF_TAG, 16);
            byte[] ks = keystream(aes, tag, n);
            for (int i = 0; i < key.length; i++) h[Handle.OFF_KEY + i] = (byte) (key[i] ^ ks[i]);
            Arrays.fill(s, (byte) 0);
            Arrays.fill(ks, (byte) 0);
            return h;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES failed", e);
        }
    }

    /**
     * Unwraps the key of handle {@code h} ({@code keyLen} = 16 or 32); null when authentication
     * fails. The caller wipes the returned key.
     */
    static byte[] unwrap(IwKey iw, byte[] h, int keyLen) {
        Cipher aes = aes256(iw);
        try {
            byte[] tag = Arrays.copyOfRange(h, Handle.OFF_TAG, Handle.OFF_TAG + 16);
            byte[] ks = keystream(aes, tag, keyLen / 16);
            byte[] key = new byte[keyLen];
            for (int i = 0; i < keyLen; i++) key[i] = (byte) (h[Handle.OFF_KEY + i] ^ ks[i]);
            Arrays.fill(ks, (byte) 0);
            byte[] s = polyval(iw, Arrays.copyOfRange(h, 0, 16), key, 0, keyLen);
            s[15] &= 0x7f;
            byte[] expect = aes.doFinal(s);
            Arrays.fill(s, (byte) 0);
            if (!MessageDigest.isEqual(expect, tag)) {
                Arrays.fill(key, (byte) 0);
                return null;
            }
            return key;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES failed", e);
        }
    }

    private static byte[] polyval(IwKey iw, byte[] aad, byte[] key, int off, int len) {
        Polyval p = new Polyval(iw.integrity());
        p.update(aad, 0);
        for (int i = 0; i < len; i += 16) p.update(key, off + i);
        p.update(128L, 8L * len);
        byte[] s = p.digest();
        p.wipe();
        return s;
    }

    private static byte[] keystream(Cipher aes, byte[] tag, int blocks) throws GeneralSecurityException {
        byte[] ctr = new byte[16 * blocks];
        int c0 = (tag[0] & 0xff) | (tag[1] & 0xff) << 8 | (tag[2] & 0xff) << 16 | (tag[3] & 0xff) << 24;
        for (int b = 0; b < blocks; b++) {
            System.arraycopy(tag, 0, ctr, 16 * b, 16);
            ctr[16 * b + 15] |= (byte) 0x80;
            int c = c0 + b;
            for (int i = 0; i < 4; i++) ctr[16 * b + i] = (byte) (c >>> (8 * i));
        }
        byte[] ks = aes.doFinal(ctr);
        Arrays.fill(ctr, (byte) 0);
        return ks;
    }

    /** Speed-only: one AES/ECB cipher object per thread, re-keyed per use (Cipher.getInstance is slow). */
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/ECB/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES unavailable", e);
        }
    });

    private static Cipher aes256(IwKey iw) {
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(iw.encryption(), "AES"));
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES unavailable", e);
        }
    }
}
