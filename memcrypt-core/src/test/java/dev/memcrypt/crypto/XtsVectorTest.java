package dev.memcrypt.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.util.Hex;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** External known answers (IEEE 1619-2007 Annex B, NIST CAVP XTSGenAES128) on every engine. */
class XtsVectorTest {
    static Stream<XtsEngine> engines() {
        return XtsEngine.available().stream();
    }

    static Stream<Arguments> ieeeCases() {
        return engines().flatMap(e -> Vectors.ieee1619().stream().map(c -> Arguments.of(e.name(), c)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("ieeeCases")
    void ieee1619Vector(String engine, Vectors.Case c) {
        XtsEngine e = XtsEngine.byName(engine);
        try (XtsKey k = XtsKey.of(c.key())) {
            assertEquals(Hex.of(c.ct()), Hex.of(e.encrypt(k, c.tweak(), c.pt())), "encrypt");
            assertEquals(Hex.of(c.pt()), Hex.of(e.decrypt(k, c.tweak(), c.ct())), "decrypt");
            // in place, inside a larger buffer at an odd offset
            byte[] buf = new byte[c.pt().length + 7];
            System.arraycopy(c.pt(), 0, buf, 3, c.pt().length);
            e.encrypt(k, c.tweak(), buf, 3, c.pt().length, buf, 3);
            assertEquals(Hex.of(c.ct()), Hex.of(buf, 3, c.pt().length), "encrypt in place");
        }
    }

    @Test
    void ieeeFileHasEveryXtsAes128Vector() {
        List<String> ids = Vectors.ieee1619().stream().map(Vectors.Case::id).toList();
        for (int v : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19}) {
            assertTrue(ids.contains("IEEE 1619-2007 vector " + v), "vector " + v);
        }
    }

    @Test
    void dataUnitsLongerThanOpensslAcceptsStillWork() {
        byte[] p = new byte[(16 << 20) + 21];
        new java.util.Random(3).nextBytes(p);
        byte[] tweak = XtsEngine.dataUnitTweak(77);
        try (XtsKey k = XtsKey.of(Hex.parse("1111111111111111111111111111111122222222222222222222222222222222"))) {
            byte[] want = XtsEngine.java().encrypt(k, tweak, p);
            for (XtsEngine e : XtsEngine.available()) {
                if (e == XtsEngine.reference()) continue; // same code path as for short units, and slow
                byte[] c = e.encrypt(k, tweak, p);
                assertTrue(java.util.Arrays.equals(want, c), e.name());
                assertTrue(java.util.Arrays.equals(p, e.decrypt(k, tweak, c)), e.name());
            }
        }
    }

    static Stream<Arguments> cavpSets() {
        return engines().flatMap(e -> Stream.of("XTSGenAES128-tweak128hexstr.rsp", "XTSGenAES128-dataunitseqno.rsp")
                .map(f -> Arguments.of(e.name(), f)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cavpSets")
    void nistCavpXtsGenAes128(String engine, String file) {
        XtsEngine e = XtsEngine.byName(engine);
        int[] skipped = {0};
        List<Vectors.Case> cases = Vectors.cavp(file, skipped);
        assertEquals(200, skipped[0], "non-byte-aligned entries skipped");
        long enc = cases.stream().filter(Vectors.Case::encrypt).count();
        assertEquals(400, enc, "ENCRYPT entries used");
        assertEquals(400, cases.size() - enc, "DECRYPT entries used");
        List<String> failures = new ArrayList<>();
        for (Vectors.Case c : cases) {
            try (XtsKey k = XtsKey.of(c.key())) {
                String got = c.encrypt() ? Hex.of(e.encrypt(k, c.tweak(), c.pt())) : Hex.of(e.decrypt(k, c.tweak(), c.ct()));
                String want = Hex.of(c.encrypt() ? c.ct() : c.pt());
                if (!got.equals(want)) failures.add(c.id());
            }
        }
        assertEquals(List.of(), failures);
    }

    static Stream<Arguments> ieee256Cases() {
        return engines().flatMap(e -> Vectors.ieee1619Aes256().stream().map(c -> Arguments.of(e.name(), c)));
    }

    /** XTS-AES-256 (TME policy 2): IEEE 1619-2007 vector 10 on every engine, both directions, and line mode agreeing with data-unit mode. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("ieee256Cases")
    void ieee1619XtsAes256Vector(String engine, Vectors.Case c) {
        XtsEngine e = XtsEngine.byName(engine);
        try (XtsKey k = XtsKey.of(c.key())) {
            assertEquals(256, k.aesBits());
            assertEquals(Hex.of(c.ct()), Hex.of(e.encrypt(k, c.tweak(), c.pt())), "encrypt");
            assertEquals(Hex.of(c.pt()), Hex.of(e.decrypt(k, c.tweak(), c.ct())), "decrypt");
            byte[] lines = new byte[256];
            e.encryptLines(k, LineTweak.NONE, 0x4000, c.pt(), 0, lines, 0, 4);
            for (int i = 0; i < 4; i++) {
                byte[] unit = e.encrypt(k, LineTweak.NONE.tweakFor(0x4000 + 64L * i), java.util.Arrays.copyOfRange(c.pt(), 64 * i, 64 * i + 64));
                assertEquals(Hex.of(unit), Hex.of(lines, 64 * i, 64), "line " + i);
            }
        }
    }

    @Test
    void xtsKeyIs32Or64Bytes() {
        try (XtsKey k = XtsKey.of(new byte[32])) {
            assertEquals(128, k.aesBits());
        }
        for (int n : new int[] {0, 16, 31, 33, 48, 63, 65}) assertThrows(IllegalArgumentException.class, () -> XtsKey.of(new byte[n]), n + " bytes");
        assertThrows(IllegalArgumentException.class, () -> XtsKey.of(new byte[16], new byte[32]));
        try (XtsKey k = XtsKey.of(new byte[32], new byte[32])) {
            assertEquals(256, k.aesBits());
        }
    }
}
