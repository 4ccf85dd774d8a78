package dev.memcrypt.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memcrypt.util.Hex;
import org.junit.jupiter.api.Test;

class XtsSmokeTest {
    @Test
    void ieee1619Vector2FromSpecFacts() {
        XtsKey k = XtsKey.of(Hex.parse("11111111111111111111111111111111" + "22222222222222222222222222222222"));
        byte[] tweak = Hex.parse("33333333330000000000000000000000");
        byte[] p = new byte[32];
        java.util.Arrays.fill(p, (byte) 0x44);
        byte[] c = new byte[32];
        XtsEngine.java().encrypt(k, tweak, p, 0, 32, c, 0);
        assertEquals("c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0", Hex.of(c));
    }

    @Test
    void ciphertextStealingVectorFromSpecFacts() {
        XtsKey k = XtsKey.of(Hex.parse("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" + "bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0"));
        byte[] tweak = Hex.parse("9a78563412000000000000000000000000".substring(0, 32));
        byte[] p = Hex.parse("000102030405060708090a0b0c0d0e0f10");
        byte[] c = new byte[17];
        XtsEngine.java().encrypt(k, tweak, p, 0, 17, c, 0);
        assertEquals("6c1625db4671522d3d7599601de7ca09ed", Hex.of(c));
        byte[] back = new byte[17];
        XtsEngine.java().decrypt(k, tweak, c, 0, 17, back, 0);
        assertEquals(Hex.of(p), Hex.of(back));
    }
}
