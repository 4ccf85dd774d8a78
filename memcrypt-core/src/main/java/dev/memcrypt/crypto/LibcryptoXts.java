package dev.memcrypt.crypto;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The native engine: libcrypto through the FFM API ({@link Libcrypto}).
 *
 * <p>Data units go to EVP aes-128-xts, one context per direction per worker, keyed once; each call
 * only sets the IV (the tweak) and runs one EVP_CipherUpdate over the whole unit. Memory lines go
 * through {@link BatchXts} on EVP aes-128-ecb (one call with key2 for a page of line tweaks, one call
 * with key1 for the page of blocks): one EVP call per 64-byte line would cost more than the AES.
 * Keys whose halves are equal (which OpenSSL's XTS refuses, IEEE 1619 does not) take the ECB path
 * for data units too.
 */
final class LibcryptoXts extends BatchXts<LibcryptoXts.NativeWorker> {
    /** OpenSSL's XTS refuses data units over 2^20 blocks (the IEEE 1619 limit); longer ones take the ECB path. */
    static final int MAX_EVP_UNIT = 16 << 20;

    static final LibcryptoXts INSTANCE = Libcrypto.AVAILABLE ? selfTested(new LibcryptoXts()) : null;

    private LibcryptoXts() {}

    /** Refuses a library that loads but computes wrong results (IEEE 1619-2007 vectors 2 and 15). */
    private static LibcryptoXts selfTested(LibcryptoXts e) {
        try (XtsKey k = XtsKey.of(dev.memcrypt.util.Hex.parse("1111111111111111111111111111111122222222222222222222222222222222"))) {
            byte[] p = new byte[32];
            Arrays.fill(p, (byte) 0x44);
            byte[] c = new byte[32];
            e.encrypt(k, dev.memcrypt.util.Hex.parse("33333333330000000000000000000000"), p, 0, 32, c, 0);
            if (!dev.memcrypt.util.Hex.of(c).equals("c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0")) return null;
            byte[] line = new byte[2 * LINE];
            byte[] q = new byte[2 * LINE];
            byte[] r = new byte[2 * LINE];
            e.encryptLines(k, LineTweak.NONE, 0x1000, line, 0, q, 0, 2);
            JavaXts.INSTANCE.encryptLines(k, LineTweak.NONE, 0x1000, line, 0, r, 0, 2);
            return Arrays.equals(q, r) ? e : null;
        } catch (RuntimeException | LinkageError ex) {
            return null;
        }
    }

    @Override
    public String name() {
        return "libcrypto";
    }

    @Override
    NativeWorker newWorker(byte[] raw) {
        return new NativeWorker(raw);
    }

    @Override
    void unit(boolean enc, XtsKey key, byte[] tweak16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        checkUnit(tweak16, in, inOff, len, out, outOff);
        if (partialOverlap(in, inOff, out, outOff, len)) {
            in = Arrays.copyOfRange(in, inOff, inOff + len);
            inOff = 0;
        }
        WorkerPool<NativeWorker> pool = pool(key);
        NativeWorker w = pool.acquire();
        try {
            MemorySegment ctx = enc ? w.xe : w.xd;
            if (ctx == null || len > MAX_EVP_UNIT) {
                unitWith(w, enc, tweak16, in, inOff, len, out, outOff);
            } else {
                if (!Libcrypto.init(ctx, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.ofArray(tweak16), -1)) {
                    throw new IllegalStateException("EVP_CipherInit_ex (set tweak) failed");
                }
                Libcrypto.update(ctx, MemorySegment.ofArray(out).asSlice(outOff, len), w.outl,
                        MemorySegment.ofArray(in).asSlice(inOff, len), len);
            }
        } finally {
            pool.release(w);
        }
    }

    /** Speed-only: libcrypto contexts holding key1/key2 schedules; freed (and cleansed by OpenSSL) on close. */
    static final class NativeWorker extends BatchXts.Worker {
        final MemorySegment e1;
        final MemorySegment d1;
        final MemorySegment e2;
        final MemorySegment xe; // null when the key halves are equal
        final MemorySegment xd;
        final MemorySegment outl = MemorySegment.ofArray(new int[1]);
        private final MemorySegment bufSeg = MemorySegment.ofArray(buf);
        private final MemorySegment tinSeg = MemorySegment.ofArray(tin);
        private final MemorySegment twSeg = MemorySegment.ofArray(tw);
        private boolean closed;

        NativeWorker(byte[] raw) {
            MemorySegment key = MemorySegment.ofArray(raw);
            int h = raw.length / 2; // 16 (XTS-AES-128) or 32 (XTS-AES-256)
            MemorySegment k1 = key.asSlice(0, h);
            MemorySegment k2 = key.asSlice(h, h);
            MemorySegment ecb = h == 16 ? Libcrypto.AES_128_ECB : Libcrypto.AES_256_ECB;
            e1 = ecb(ecb, k1, 1);
            d1 = ecb(ecb, k1, 0);
            e2 = ecb(ecb, k2, 1);
            MemorySegment xts = h == 16 ? Libcrypto.AES_128_XTS : Libcrypto.AES_256_XTS;
            xe = xts(xts, key, 1);
            xd = xe == null ? null : xts(xts, key, 0);
        }

        private static MemorySegment ecb(MemorySegment cipher, MemorySegment k, int enc) {
            MemorySegment ctx = Libcrypto.newContext();
            if (!Libcrypto.init(ctx, cipher, k, MemorySegment.NULL, enc)) {
                Libcrypto.free(ctx);
                throw new IllegalStateException("EVP aes-128-ecb init failed");
            }
            Libcrypto.noPadding(ctx);
            return ctx;
        }

        private static MemorySegment xts(MemorySegment cipher, MemorySegment k, int enc) {
            MemorySegment ctx = Libcrypto.newContext();
            if (!Libcrypto.init(ctx, cipher, k, MemorySegment.NULL, enc)) {
                Libcrypto.free(ctx); // e.g. OpenSSL refuses key1 == key2
                return null;
            }
            return ctx;
        }

        /** This worker's buffers as segments, made once: a heap segment per call would be an allocation per call. */
        private MemorySegment seg(byte[] b, int off, int len) {
            if (off == 0) {
                if (b == buf) return bufSeg;
                if (b == tin) return tinSeg;
                if (b == tw) return twSeg;
            }
            return MemorySegment.ofArray(b).asSlice(off, len);
        }

        @Override
        void data(boolean enc, byte[] b, int off, int len) {
            MemorySegment s = seg(b, off, len);
            Libcrypto.update(enc ? e1 : d1, s, outl, s, len);
        }

        @Override
        void tweak(byte[] b, int off, int len) {
            MemorySegment s = seg(b, off, len);
            Libcrypto.update(e2, s, outl, s, len);
        }

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            super.close();
            Libcrypto.free(e1);
            Libcrypto.free(d1);
            Libcrypto.free(e2);
            Libcrypto.free(xe);
            Libcrypto.free(xd);
        }
    }
}
