package dev.memcrypt.lab;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A machine with the kernel booted on it, and the few things experiments do with both: add an
 * mktme key through the key retention service (as root) and learn its KeyID, flush everything,
 * and compute XTS line ciphertext apart from the machine (what an attacker who knows a key can do).
 */
final class Rig {
    final Machine m;
    final Kernel kernel;

    Rig(Machine m) {
        this.m = m;
        this.kernel = Kernel.boot(m, "");
    }

    /** {@code keyctl add mktme DESC "OPTIONS" @u} as root; returns the KeyID the key service programmed. */
    int addKey(String desc, String options) {
        KeyService ks = kernel.keys();
        try {
            int serial = ks.addKey(kernel.initTask(), "mktme", desc, options.getBytes(StandardCharsets.US_ASCII), KeyService.KEY_SPEC_USER_KEYRING);
            Key k = ks.acquire(serial);
            try {
                return MktmeKeyType.keyIdOf(k);
            } finally {
                ks.release(k);
            }
        } catch (ErrnoException e) {
            throw new IllegalStateException("mktme key '" + desc + "' could not be added: " + e.getMessage(), e);
        }
    }

    /** WBINVD on every package: every dirty line reaches DRAM, the caches are empty. */
    void flushAll() {
        m.wbinvdAll();
    }

    /** The payload of a user-type key with these 16-byte key and tweak values. */
    static String userKey(byte[] key, byte[] tweak) {
        return "type=user algorithm=aes-xts-128 key=" + dev.memcrypt.util.Hex.of(key) + " tweak=" + dev.memcrypt.util.Hex.of(tweak);
    }

    /** XTS line-mode encryption of whole lines at {@code pa}, no salt (the model's default tweak). */
    static byte[] xtsEncrypt(byte[] key, byte[] tweak, long pa, byte[] plain) {
        try (XtsKey k = XtsKey.of(key, tweak)) {
            byte[] out = new byte[plain.length];
            XtsEngine.java().encryptLines(k, LineTweak.NONE, pa, plain, 0, out, 0, plain.length / 64);
            return out;
        }
    }

    /** XTS line-mode decryption of whole lines at {@code pa}, no salt. */
    static byte[] xtsDecrypt(byte[] key, byte[] tweak, long pa, byte[] cipher) {
        try (XtsKey k = XtsKey.of(key, tweak)) {
            byte[] out = new byte[cipher.length];
            XtsEngine.java().decryptLines(k, LineTweak.NONE, pa, cipher, 0, out, 0, cipher.length / 64);
            return out;
        }
    }

    /** A 64-byte line of readable text (padded with dots), so pictures can tell it from ciphertext. */
    static byte[] line(String text) {
        byte[] b = new byte[64];
        Arrays.fill(b, (byte) '.');
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, b, 0, Math.min(64, t.length));
        return b;
    }

    /** What the owner of {@code pa} reads through {@code keyId} (cpu 0), the lines then dropped from the cache again (for pictures). */
    static byte[] ownerView(Machine m, long pa, int keyId, int len) {
        byte[] b = m.pload(0, pa, keyId, len);
        m.clflushRange(0, pa, keyId, len);
        return b;
    }

    static String hexAddr(long pa) {
        return String.format("0x%x", pa);
    }
}
