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
 * authenticated under an IWKey generation. Real hardware re-unwraps every time (one reason AES-KL
 * is slower than AES-NI); the model caches so it stays within the published 2x-5x. Entries are
 * keyed by the exact handle bytes and the IWKey generation, so a hit needs the same handle under
 * the same key value; least recently used entries are evicted and wiped, and the whole cache is
 * dropped on power loss. Nothing here is reachable from outside the package, and dropped schedules are
 * overwritten by re-initialising their ciphers with a zero key.
 */
final class HandleCache {
    private static final int CAPACITY = 64;
    private static final SecretKeySpec ZERO = new SecretKeySpec(new byte[16], "AES");

    /** An authenticated handle's key schedule. */
    static final class Schedule {
        private final java.util.ArrayDeque<Cipher> pool;
        final byte[] handle;
        final long generation;
        private final SecretKeySpec key;
        private Cipher enc, dec;
        /** Memo of the composite XTS schedule of this (data) handle with one tweak handle. */
        private Schedule xtsTweak;
        private dev.memcrypt.crypto.XtsKey xtsKey;

        /** The XTS-AES-128 key (this handle's key || the tweak handle's key), built once per pairing. */
        dev.memcrypt.crypto.XtsKey xtsWith(Schedule tweak) {
            if (xtsTweak != tweak || xtsKey == null) {
                if (xtsKey != null) xtsKey.destroy();
                byte[] d = keyBytes(), t = tweak.keyBytes();
                xtsKey = dev.memcrypt.crypto.XtsKey.of(d, t);
                Arrays.fill(d, (byte) 0);
                Arrays.fill(t, (byte) 0);
                xtsTweak = tweak;
            }
            return xtsKey;
        }

        Schedule(java.util.ArrayDeque<Cipher> pool, byte[] handle, long generation, byte[] key) {
            this.pool = pool;
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
            Cipher c = pool.poll();
            if (c == null) c = Cipher.getInstance("AES/ECB/NoPadding");
            c.init(mode, key);
            return c;
        }

        /** The raw key, for building a composite (XTS) schedule; caller wipes. */
        byte[] keyBytes() {
            return key.getEncoded();
        }

        void wipe() {
            for (Cipher c : new Cipher[] {enc, dec}) {
                if (c == null) continue;
                try {
                    c.init(Cipher.ENCRYPT_MODE, ZERO);
                    if (pool.size() < 2 * CAPACITY) pool.add(c);
                } catch (GeneralSecurityException ignored) {
                    // best effort
                }
            }
            enc = null;
            dec = null;
            if (xtsKey != null) xtsKey.destroy();
            xtsKey = null;
            xtsTweak = null;
        }
    }

    private record Key(byte[] bytes, long generation, int hash) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && generation == k.generation && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** Re-usable cipher objects of this cache (zero-keyed when idle); Cipher.getInstance is slow. */
    private final java.util.ArrayDeque<Cipher> pool = new java.util.ArrayDeque<>();
    private final LinkedHashMap<Key, Schedule> map = new LinkedHashMap<>(16, 0.75f, true);
    private Schedule last;

    Schedule get(byte[] h, int len, long generation) {
        Schedule l = last;
        if (l != null && l.generation == generation && l.handle.length == len && Arrays.equals(l.handle, 0, len, h, 0, len)) return l;
        byte[] k = h.length == len ? h : Arrays.copyOf(h, len);
        Schedule s = map.get(new Key(k, generation, Arrays.hashCode(k) ^ Long.hashCode(generation)));
        if (s == null || s.generation != generation) return null;
        last = s;
        return s;
    }

    Schedule put(byte[] handle, long generation, byte[] key) {
        byte[] h = handle.clone();
        Schedule s = new Schedule(pool, h, generation, key);
        Schedule old = map.put(new Key(h, generation, Arrays.hashCode(h) ^ Long.hashCode(generation)), s);
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
