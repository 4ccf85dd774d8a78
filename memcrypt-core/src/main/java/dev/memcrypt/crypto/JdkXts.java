package dev.memcrypt.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;

/**
 * The fast pure-Java engine: {@link BatchXts} on the JDK's AES/ECB (AES-NI intrinsics in HotSpot).
 * Each worker holds three initialised ciphers (key1 encrypt, key1 decrypt, key2 encrypt).
 */
final class JdkXts extends BatchXts<JdkXts.JdkWorker> {
    static final JdkXts INSTANCE = new JdkXts();

    private JdkXts() {}

    @Override
    public String name() {
        return "java";
    }

    @Override
    JdkWorker newWorker(byte[] raw) {
        return new JdkWorker(raw);
    }

    /**
     * A key we can wipe: unlike SecretKeySpec it hands the provider a copy and zeroes its own bytes
     * on destroy.
     */
    private static final class AesKey implements SecretKey {
        private final byte[] k;

        AesKey(byte[] raw, int off, int len) {
            k = Arrays.copyOfRange(raw, off, off + len);
        }

        @Override
        public String getAlgorithm() {
            return "AES";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return k.clone();
        }

        @Override
        public void destroy() {
            Arrays.fill(k, (byte) 0);
        }

        @Override
        public boolean isDestroyed() {
            for (byte b : k) if (b != 0) return false;
            return true;
        }

        @Override
        public String toString() {
            return "AesKey[redacted]";
        }
    }

    static final class JdkWorker extends BatchXts.Worker {
        private final Cipher e1;
        private final Cipher d1;
        private final Cipher e2;

        JdkWorker(byte[] raw) {
            int h = raw.length / 2; // 16 (XTS-AES-128) or 32 (XTS-AES-256)
            AesKey k1 = new AesKey(raw, 0, h);
            AesKey k2 = new AesKey(raw, h, h);
            try {
                e1 = Cipher.getInstance("AES/ECB/NoPadding");
                d1 = Cipher.getInstance("AES/ECB/NoPadding");
                e2 = Cipher.getInstance("AES/ECB/NoPadding");
                e1.init(Cipher.ENCRYPT_MODE, k1);
                d1.init(Cipher.DECRYPT_MODE, k1);
                e2.init(Cipher.ENCRYPT_MODE, k2);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("JDK AES/ECB unavailable", e);
            } finally {
                k1.destroy();
                k2.destroy();
            }
        }

        /** Cipher output lands here: in-place updates make the JDK copy (and allocate) the input first. */
        private final byte[] tmp = new byte[CHUNK];

        @Override
        void data(boolean enc, byte[] b, int off, int len) {
            try {
                (enc ? e1 : d1).update(b, off, len, tmp, 0);
                System.arraycopy(tmp, 0, b, off, len);
            } catch (ShortBufferException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        void tweak(byte[] b, int off, int len) {
            try {
                e2.update(b, off, len, b, off);
            } catch (ShortBufferException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * The JDK offers no way to wipe a cipher's expanded key; re-initialising with an all-zero key
         * overwrites the schedule arrays the provider reuses (best effort), and drops the last reference.
         */
        @Override
        public void close() {
            super.close();
            Arrays.fill(tmp, (byte) 0);
            AesKey zero = new AesKey(new byte[16], 0, 16);
            for (Cipher c : new Cipher[] {e1, d1, e2}) {
                try {
                    c.init(c == d1 ? Cipher.DECRYPT_MODE : Cipher.ENCRYPT_MODE, zero);
                } catch (GeneralSecurityException ignored) {
                    // best effort
                }
            }
        }
    }
}
