package dev.memcrypt.hw.keylocker;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * SPEED-ONLY STATE. A core's cache of AES key schedules (JDK ciphers) for handles it has already
 * authenticated under one IWKey generation. Real hardware re-unwraps every time (one reason AES-KL
 * is slower than AES-NI); the model caches so it stays within the published 2x-5x. Entries are
 * keyed by the exact handle bytes and the IWKey generation; the whole cache is dropped when the
 * IWKey changes. Nothing here is reachable from outside the package, and dropped schedules are
 * overwritten by re-initialising their ciphers with a zero key.
 */
final class HandleCache {
    private static final int CAPACITY = 64;
    private static final SecretKeySpec ZERO = new SecretKeySpec(new byte[16], "AES");

    /** An authenticated handle's key schedule. */
    static final class Schedule {
        final byte[] handle;
        final long generation;
        private final SecretKeySpec key;
        private Cipher enc, dec;

        Schedule(byte[] handle, long generation, byte[] key) {
            this.handle = handle;
            this.generation = generation;
            this.key = new SecretKeySpec(key, "AES");
        }

        void crypt(boolean encrypt, byte[] in, int off, int len, byte[] out) {
            try {
                Cipher c = encrypt ? (enc != null ? enc : (enc = init(Cipher.ENCRYPT_MODE))) : (dec != null ? dec : (dec = init(Cipher.DECRYPT_MODE)));
                c.doFinal(in, off, len, out, off);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("JDK AES failed", e);
            }
        }

        private Cipher init(int mode) throws GeneralSecurityException {
            Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
            c.init(mode, key);
            return c;
        }

        void wipe() {
            for (Cipher c : new Cipher[] {enc, dec}) {
                if (c == null) continue;
                try {
                    c.init(Cipher.ENCRYPT_MODE, ZERO);
                } catch (GeneralSecurityException ignored) {
                    // best effort
                }
            }
            enc = null;
            dec = null;
        }
    }

    private record Key(byte[] bytes, int hash) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final LinkedHashMap<Key, Schedule> map = new LinkedHashMap<>(16, 0.75f, true);
    private Schedule last;

    Schedule get(byte[] h, int len, long generation) {
        Schedule l = last;
        if (l != null && l.generation == generation && l.handle.length == len && Arrays.equals(l.handle, 0, len, h, 0, len)) return l;
        byte[] k = h.length == len ? h : Arrays.copyOf(h, len);
        Schedule s = map.get(new Key(k, Arrays.hashCode(k)));
        if (s == null || s.generation != generation) return null;
        last = s;
        return s;
    }

    Schedule put(byte[] handle, long generation, byte[] key) {
        byte[] h = handle.clone();
        Schedule s = new Schedule(h, generation, key);
        Schedule old = map.put(new Key(h, Arrays.hashCode(h)), s);
        if (old != null) old.wipe();
        if (map.size() > CAPACITY) {
            Iterator<Map.Entry<Key, Schedule>> it = map.entrySet().iterator();
            Schedule victim = it.next().getValue();
            it.remove();
            if (victim == last) last = null;
            victim.wipe();
        }
        last = s;
        return s;
    }

    void clear() {
        for (Schedule s : map.values()) s.wipe();
        map.clear();
        last = null;
    }
}
