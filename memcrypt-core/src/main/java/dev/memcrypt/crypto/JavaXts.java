package dev.memcrypt.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pure-Java XTS-AES-128 on the JDK's AES/ECB (IEEE 1619-2007 §5.3, with ciphertext stealing §5.3.2).
 * Simple reference path; the crypto layer may add faster ones that must agree with it.
 */
final class JavaXts implements XtsEngine {
    static final JavaXts INSTANCE = new JavaXts();

    @Override
    public String name() {
        return "reference";
    }

    /** AES with half {@code half} (0: key1, 1: key2) of the raw key1 || key2 (16 or 32 bytes each). */
    private static Cipher aes(byte[] raw, int half, int mode) {
        try {
            Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
            int h = raw.length / 2;
            SecretKeySpec k = new SecretKeySpec(raw, half * h, h, "AES");
            c.init(mode, k);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK AES unavailable", e);
        }
    }

    /** Multiplies the 128-bit little-endian tweak by alpha in GF(2^128) (IEEE 1619 §5.2). */
    static void mulAlpha(byte[] t) {
        int carry = 0;
        for (int i = 0; i < 16; i++) {
            int b = t[i] & 0xff;
            t[i] = (byte) ((b << 1) | carry);
            carry = b >>> 7;
        }
        if (carry != 0) t[0] ^= (byte) 0x87;
    }

    private static void xorBlock(byte[] src, int off, byte[] t, byte[] dst) {
        for (int i = 0; i < 16; i++) dst[i] = (byte) (src[off + i] ^ t[i]);
    }

    private static void crypt(boolean enc, XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        if (tweak16 == null || tweak16.length != 16) throw new IllegalArgumentException("tweak must be 16 bytes");
        if (len < 16) throw new IllegalArgumentException("XTS data unit must be at least 16 bytes, got " + len);
        byte[] raw = key.raw();
        Cipher k1 = aes(raw, 0, enc ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE);
        Cipher k2 = aes(raw, 1, Cipher.ENCRYPT_MODE);
        byte[] t = new byte[16];
        byte[] buf = new byte[16];
        try {
            k2.doFinal(tweak16, 0, 16, t, 0);
            int full = len / 16;
            int rem = len % 16;
            int plainFull = rem == 0 ? full : full - 1;
            byte[] src = in;
            int so = inOff;
            if (in == out && inOff != outOff) { // overlapping different ranges: work on a copy
                src = java.util.Arrays.copyOfRange(in, inOff, inOff + len);
                so = 0;
            }
            for (int j = 0; j < plainFull; j++) {
                xorBlock(src, so + 16 * j, t, buf);
                k1.doFinal(buf, 0, 16, buf, 0);
                for (int i = 0; i < 16; i++) out[outOff + 16 * j + i] = (byte) (buf[i] ^ t[i]);
                mulAlpha(t);
            }
            if (rem != 0) {
                int m1 = so + 16 * (full - 1); // last full input block
                byte[] tLast = t.clone();
                byte[] tNext = t.clone();
                mulAlpha(tNext);
                byte[] first = enc ? tLast : tNext;
                byte[] second = enc ? tNext : tLast;
                byte[] cc = new byte[16];
                xorBlock(src, m1, first, cc);
                k1.doFinal(cc, 0, 16, cc, 0);
                for (int i = 0; i < 16; i++) cc[i] ^= first[i];
                byte[] pp = new byte[16];
                System.arraycopy(src, m1 + 16, pp, 0, rem);
                System.arraycopy(cc, rem, pp, rem, 16 - rem);
                int o = outOff + 16 * (full - 1);
                System.arraycopy(cc, 0, out, o + 16, rem);
                xorBlock(pp, 0, second, buf);
                k1.doFinal(buf, 0, 16, buf, 0);
                for (int i = 0; i < 16; i++) out[o + i] = (byte) (buf[i] ^ second[i]);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES failed", e);
        }
    }

    @Override
    public void encrypt(XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        crypt(true, key, tweak16, in, inOff, len, out, outOff);
    }

    @Override
    public void decrypt(XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        crypt(false, key, tweak16, in, inOff, len, out, outOff);
    }

    @Override
    public void encryptLines(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nLines) {
        checkLine(pa);
        for (int i = 0; i < nLines; i++) {
            crypt(true, key, salt.tweakFor(pa + (long) LINE * i), in, inOff + LINE * i, LINE, out, outOff + LINE * i);
        }
    }

    @Override
    public void decryptLines(XtsKey key, LineTweak salt, long pa, byte[] in, int inOff, byte[] out, int outOff, int nLines) {
        checkLine(pa);
        for (int i = 0; i < nLines; i++) {
            crypt(false, key, salt.tweakFor(pa + (long) LINE * i), in, inOff + LINE * i, LINE, out, outOff + LINE * i);
        }
    }

    static void checkLine(long pa) {
        if ((pa & (LINE - 1)) != 0) throw new IllegalArgumentException("physical address 0x" + Long.toHexString(pa) + " is not 64-byte aligned");
    }
}
