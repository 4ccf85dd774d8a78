package dev.memcrypt.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.memcrypt.util.Hex;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Properties of XTS and line mode, on every engine. */
class XtsPropertiesTest {
    private static final List<XtsEngine> ENGINES = XtsEngine.available();

    @Provide
    Arbitrary<byte[]> key() {
        return Arbitraries.bytes().array(byte[].class).ofSize(32);
    }

    @Provide
    Arbitrary<byte[]> tweak() {
        return Arbitraries.bytes().array(byte[].class).ofSize(16);
    }

    @Provide
    Arbitrary<byte[]> dataUnit() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(16).ofMaxSize(9000);
    }

    @Provide
    Arbitrary<Long> lineAddress() {
        return Arbitraries.longs().between(0, (1L << 52) - 1).map(a -> a & ~63L);
    }

    @Property(tries = 200)
    void decryptInvertsEncryptForEveryLengthFrom16(@ForAll("key") byte[] key, @ForAll("tweak") byte[] tweak, @ForAll("dataUnit") byte[] p) {
        try (XtsKey k = XtsKey.of(key)) {
            for (XtsEngine e : ENGINES) {
                byte[] c = e.encrypt(k, tweak, p);
                assertArrayEquals(p, e.decrypt(k, tweak, c), e.name());
            }
        }
    }

    @Property(tries = 200)
    void allEnginesAgree(@ForAll("key") byte[] key, @ForAll("tweak") byte[] tweak, @ForAll("dataUnit") byte[] p,
            @ForAll("lineAddress") long pa, @ForAll long saltLo, @ForAll long saltHi, @ForAll @IntRange(min = 0, max = 130) int nLines) {
        try (XtsKey k = XtsKey.of(key)) {
            String ref = Hex.of(XtsEngine.reference().encrypt(k, tweak, p));
            LineTweak salt = new LineTweak(saltLo, saltHi);
            byte[] mem = Arrays.copyOf(p, Math.max(p.length, nLines * 64));
            byte[] refLines = new byte[nLines * 64];
            XtsEngine.reference().encryptLines(k, salt, pa, mem, 0, refLines, 0, nLines);
            for (XtsEngine e : ENGINES) {
                assertEquals(ref, Hex.of(e.encrypt(k, tweak, p)), e.name());
                byte[] lines = new byte[nLines * 64];
                e.encryptLines(k, salt, pa, mem, 0, lines, 0, nLines);
                assertArrayEquals(refLines, lines, e.name() + " lines");
            }
        }
    }

    /** The bulk path reads and writes at any byte offset, in place, or over overlapping ranges of one array. */
    @Property(tries = 100)
    void linesAtOddOffsetsInPlaceAndOverlappingMatchReference(@ForAll("key") byte[] key, @ForAll("lineAddress") long pa,
            @ForAll @IntRange(min = 1, max = 130) int nLines, @ForAll @IntRange(min = 0, max = 71) int inOff,
            @ForAll @IntRange(min = 0, max = 71) int outOff, @ForAll boolean enc) {
        try (XtsKey k = XtsKey.of(key)) {
            int len = nLines * 64;
            byte[] src = new byte[len + 72];
            for (int i = 0; i < src.length; i++) src[i] = (byte) (i * 31 + 7);
            byte[] want = new byte[len];
            if (enc) XtsEngine.reference().encryptLines(k, LineTweak.NONE, pa, src, inOff, want, 0, nLines);
            else XtsEngine.reference().decryptLines(k, LineTweak.NONE, pa, src, inOff, want, 0, nLines);
            for (XtsEngine e : ENGINES) {
                byte[] out = new byte[len + 72];
                byte[] same = src.clone();
                byte[] inPlace = src.clone();
                if (enc) {
                    e.encryptLines(k, LineTweak.NONE, pa, src, inOff, out, outOff, nLines);
                    e.encryptLines(k, LineTweak.NONE, pa, same, inOff, same, outOff, nLines);
                    e.encryptLines(k, LineTweak.NONE, pa, inPlace, inOff, inPlace, inOff, nLines);
                } else {
                    e.decryptLines(k, LineTweak.NONE, pa, src, inOff, out, outOff, nLines);
                    e.decryptLines(k, LineTweak.NONE, pa, same, inOff, same, outOff, nLines);
                    e.decryptLines(k, LineTweak.NONE, pa, inPlace, inOff, inPlace, inOff, nLines);
                }
                assertArrayEquals(want, Arrays.copyOfRange(out, outOff, outOff + len), e.name() + " separate");
                // the contract promises exact in place only; the batch engines also take partial overlap
                if (e != XtsEngine.reference()) {
                    assertArrayEquals(want, Arrays.copyOfRange(same, outOff, outOff + len), e.name() + " overlapping");
                }
                assertArrayEquals(want, Arrays.copyOfRange(inPlace, inOff, inOff + len), e.name() + " in place");
            }
        }
    }

    @Property(tries = 200)
    void differentTweaksGiveDifferentCiphertexts(@ForAll("key") byte[] key, @ForAll("tweak") byte[] t1, @ForAll("tweak") byte[] t2,
            @ForAll("dataUnit") byte[] p) {
        Assume.that(!Arrays.equals(t1, t2));
        try (XtsKey k = XtsKey.of(key)) {
            for (XtsEngine e : ENGINES) {
                assertFalse(Arrays.equals(e.encrypt(k, t1, p), e.encrypt(k, t2, p)), e.name());
            }
        }
    }

    @Property(tries = 200)
    void sameLineAtTwoAddressesGivesTwoCiphertexts(@ForAll("key") byte[] key, @ForAll("lineAddress") long pa1,
            @ForAll("lineAddress") long pa2, @ForAll @Size(64) byte[] line) {
        Assume.that(pa1 != pa2);
        try (XtsKey k = XtsKey.of(key)) {
            for (XtsEngine e : ENGINES) {
                byte[] c1 = new byte[64];
                byte[] c2 = new byte[64];
                e.encryptLines(k, LineTweak.NONE, pa1, line, 0, c1, 0, 1);
                e.encryptLines(k, LineTweak.NONE, pa2, line, 0, c2, 0, 1);
                assertFalse(Arrays.equals(c1, c2), e.name());
            }
        }
    }

    @Property(tries = 100)
    void lineModeIsGenericXtsWithTheSpecFactsTweak(@ForAll("key") byte[] key, @ForAll("lineAddress") long pa,
            @ForAll long saltLo, @ForAll long saltHi, @ForAll @IntRange(min = 1, max = 70) int nLines) {
        LineTweak salt = new LineTweak(saltLo, saltHi);
        byte[] mem = new byte[nLines * 64];
        new java.util.Random(pa).nextBytes(mem);
        try (XtsKey k = XtsKey.of(key)) {
            for (XtsEngine e : ENGINES) {
                byte[] lines = new byte[mem.length];
                e.encryptLines(k, salt, pa, mem, 0, lines, 0, nLines);
                for (int i = 0; i < nLines; i++) {
                    long a = pa + 64L * i;
                    // SPEC-FACTS §1: tweak = PA as a 128-bit little-endian integer, XOR the salt
                    byte[] t = new byte[16];
                    for (int b = 0; b < 8; b++) t[b] = (byte) ((a ^ saltLo) >>> (8 * b));
                    for (int b = 0; b < 8; b++) t[8 + b] = (byte) (saltHi >>> (8 * b));
                    byte[] c = new byte[64];
                    e.encrypt(k, t, mem, 64 * i, 64, c, 0);
                    assertEquals(Hex.of(c), Hex.of(lines, 64 * i, 64), e.name() + " line " + i);
                }
                byte[] back = lines.clone();
                e.decryptLines(k, salt, pa, back, 0, back, 0, nLines);
                assertArrayEquals(mem, back, e.name() + " decryptLines in place");
            }
        }
    }
}
