package dev.memcrypt.hw.keylocker;

/**
 * POLYVAL (RFC 8452 §3): the universal hash of AES-GCM-SIV, which Key Locker uses to authenticate
 * handles (SPEC-FACTS §3). Field GF(2^128) modulo x^128 + x^127 + x^126 + x^121 + 1 with
 * little-endian bit order: byte 0 bit 0 is the coefficient of x^0. dot(a, b) = a * b * x^-128.
 *
 * <p>Design note: plain carry-less arithmetic on two longs, bit-serial Montgomery reduction. It runs
 * only when a handle is made or first unwrapped (unwrapped keys are cached per handle), so
 * simplicity beats speed here. This is GF(2^128) arithmetic, not AES; AES comes from the JDK.
 */
public final class Polyval {
    private final long hLo, hHi;
    private long sLo, sHi;

    /** Starts POLYVAL keyed by the 16-byte {@code h} (little-endian field element). */
    public Polyval(byte[] h) {
        if (h == null || h.length != 16) throw new IllegalArgumentException("POLYVAL key must be 16 bytes");
        hLo = le64(h, 0);
        hHi = le64(h, 8);
    }

    /** Absorbs one 16-byte block from {@code b} at {@code off}: S = dot(S xor X, H). */
    public Polyval update(byte[] b, int off) {
        long xLo = sLo ^ le64(b, off), xHi = sHi ^ le64(b, off + 8);
        long[] r = dot(xLo, xHi, hLo, hHi);
        sLo = r[0];
        sHi = r[1];
        return this;
    }

    /** Absorbs one block given as two little-endian quadwords. */
    public Polyval update(long lo, long hi) {
        long[] r = dot(sLo ^ lo, sHi ^ hi, hLo, hHi);
        sLo = r[0];
        sHi = r[1];
        return this;
    }

    /** The current value S as 16 bytes. */
    public byte[] digest() {
        byte[] out = new byte[16];
        put64(out, 0, sLo);
        put64(out, 8, sHi);
        return out;
    }

    /** Forgets the accumulator (it depends on key material). */
    public void wipe() {
        sLo = 0;
        sHi = 0;
    }

    /** dot(a, b) = a * b * x^-128 mod P, returned as {lo, hi}. */
    static long[] dot(long aLo, long aHi, long bLo, long bHi) {
        // 256-bit carry-less product c3:c2:c1:c0 from four 64x64 products
        long[] t = new long[2];
        clmul(aLo, bLo, t);
        long c0 = t[0], c1 = t[1];
        clmul(aHi, bHi, t);
        long c2 = t[0], c3 = t[1];
        clmul(aLo, bHi, t);
        c1 ^= t[0];
        c2 ^= t[1];
        clmul(aHi, bLo, t);
        c1 ^= t[0];
        c2 ^= t[1];
        // Montgomery reduction, a word at a time: P = x^128 + x^127 + x^126 + x^121 + 1 is 1 mod x^64,
        // so adding c0 * P clears word 0; then divide by x^64. Twice gives the factor x^-128.
        for (int step = 0; step < 2; step++) {
            long m = c0;
            c1 ^= m << 57 ^ m << 62 ^ m << 63; // m * (x^121 + x^126 + x^127), low parts
            c2 ^= m >>> 7 ^ m >>> 2 ^ m >>> 1 ^ m; // their high parts, and m * x^128
            c0 = c1;
            c1 = c2;
            c2 = c3;
            c3 = 0;
        }
        t[0] = c0;
        t[1] = c1;
        return t;
    }

    /** 64x64 -> 128-bit carry-less multiplication (branch-free shift-and-add). */
    private static void clmul(long a, long b, long[] out) {
        long lo = 0, hi = 0;
        for (int i = 0; i < 64; i++) {
            long mask = -((a >>> i) & 1);
            lo ^= (b << i) & mask;
            hi ^= (i == 0 ? 0 : b >>> (64 - i)) & mask;
        }
        out[0] = lo;
        out[1] = hi;
    }

    static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (b[off + i] & 0xff);
        return v;
    }

    static void put64(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) b[off + i] = (byte) (v >>> (8 * i));
    }
}
