package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.*;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** {@code memcrypt kl}: encodekey, aesenc/aesdec (also --wide), refusals and bad arguments. */
class KlCommandTest {
    static Cli.Run memcrypt(String... args) {
        return Cli.run(args);
    }

    static final String Z32 = "00".repeat(16), Z64 = "00".repeat(32);
    static final String IK = "000102030405060708090a0b0c0d0e0f";
    static final String EK = "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
    static final String K128 = "000102030405060708090a0b0c0d0e0f";
    static final String K256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    static final String PT = "00112233445566778899aabbccddeeff";

    static String encode(String key, String... extra) {
        String[] base = {"kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK, "--key", key};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        Cli.Run r = memcrypt(all);
        assertEquals(0, r.exit(), r.err());
        return r.out().strip();
    }

    static Cli.Run aes(String op, String handle, String block, String... extra) {
        String[] base = {"kl", op, "--integrity-key", IK, "--encryption-key", EK, "--handle", handle};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length + 1);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        all[all.length - 1] = block;
        return memcrypt(all);
    }

    @Test
    void encodekeyReproducesTheSpecZeroVector() {
        Cli.Run r = memcrypt("kl", "encodekey", "--integrity-key", Z32, "--encryption-key", Z64, "--key", Z32);
        assertEquals(0, r.exit());
        assertEquals(Z32 + "dc95c078a2408989ad48a21492842087" + "08c374848c228233c2b34f332bd2e9d3" + "\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void encodekeyRestrictionsLandInTheAad() {
        String h = encode(K128, "--restrictions", "5");
        assertEquals(96, h.length());
        assertTrue(h.startsWith("05000000"));
        String h256 = encode(K256, "--restrictions", "0x2");
        assertEquals(128, h256.length());
        assertTrue(h256.startsWith("02000001"));
    }

    @Test
    void aesencAndAesdecEqualFips197() {
        String h = encode(K128);
        Cli.Run r = aes("aesenc", h, PT);
        assertEquals("69c4e0d86a7b0430d8cdb78070b4c55a\n", r.out());
        assertEquals(PT + "\n", aes("aesdec", h, "69c4e0d86a7b0430d8cdb78070b4c55a").out());
        String h256 = encode(K256);
        assertEquals("8ea2b7ca516745bfeafc49904b496089\n", aes("aesenc", h256, PT).out());
        assertEquals(PT + "\n", aes("aesdec", h256, "8ea2b7ca516745bfeafc49904b496089").out());
    }

    @Test
    void wideProcessesEightBlocks() throws Exception {
        String h = encode(K256);
        String data = PT.repeat(4) + "ff".repeat(64);
        Cli.Run r = aes("aesenc", h, data, "--wide");
        assertEquals(0, r.exit(), r.err());
        Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(HexFormat.of().parseHex(K256), "AES"));
        assertEquals(HexFormat.of().formatHex(c.doFinal(HexFormat.of().parseHex(data))) + "\n", r.out());
        assertEquals(data + "\n", aes("aesdec", h, r.out().strip(), "--wide").out());
    }

    @Test
    void refusedHandlePrintsZf1() {
        String h = encode(K128, "--restrictions", "1");
        assertEquals("ZF=1\n", aes("aesenc", h, PT, "--cpl", "3").out());
        assertEquals("69c4e0d86a7b0430d8cdb78070b4c55a\n", aes("aesenc", h, PT, "--cpl", "0").out());
        String noDec = encode(K128, "--restrictions", "4");
        assertEquals("ZF=1\n", aes("aesdec", noDec, PT).out());
        char[] t = encode(K128).toCharArray();
        t[40] = t[40] == '0' ? '1' : '0'; // flip a tag bit
        Cli.Run r = aes("aesenc", new String(t), PT);
        assertEquals(0, r.exit());
        assertEquals("ZF=1\n", r.out());
    }

    @Test
    void handleUnderAnotherIwKeyIsRefused() {
        String h = encode(K128);
        Cli.Run r = memcrypt("kl", "aesenc", "--integrity-key", Z32, "--encryption-key", EK, "--handle", h, PT);
        assertEquals("ZF=1\n", r.out());
    }

    /**
     * Independent vectors (memcrypt-core HandleVectorsTest, made by scripts/keylocker_vectors.py with
     * pyca/cryptography): ik, ek = IWKey.EncryptionKey in memory order (SRC2's 16 bytes, then SRC1's),
     * restrictions, key, handle. Non-zero, unequal halves: swapping them must change everything.
     */
    static final String[][] VECTORS = {
            {"fb09b921bc42f5160429d357498f223b", "0dc6b69e52b2ba1c9b064a9f0e1b4d4077d8ebc696be977ec2ecc5c245e689bb", "0", "fc24c11235b80bebb7a82ab40bdc69d1",
                    "00000000000000000000000000000000083a1630cdc4e1b7297f131dfadd5af7a6c9238c3f4e99d98d95f7c847812b1c"},
            {"4029485a38fe447d6d9cb557dbda0640", "e355a2cf4dc0c97d44e202246fdb690326375459e44ad16684cd0cc0b7a2417a", "1",
                    "8b0c60732c9dbe3e66809cbe337f579ac0b381cd096ab58349cd611f12c0da15",
                    "010000010000000000000000000000000d48973ca053e84569ca91b7b3554f8f7e7fb730d7ed8e307c658f7c9729388e8453bac8e818c2df21db8fbce3a4e0dc"}};

    @Test
    void encryptionKeyIsSrc2ThenSrc1InMemoryOrder() throws Exception {
        for (String[] v : VECTORS) {
            String ik = v[0], ek = v[1], r = v[2], key = v[3], want = v[4];
            String swapped = ek.substring(32) + ek.substring(0, 32);
            Cli.Run e = memcrypt("kl", "encodekey", "--integrity-key", ik, "--encryption-key", ek, "--restrictions", r, "--key", key);
            assertEquals(0, e.exit(), e.err());
            assertEquals(want + "\n", e.out(), "handle of the independent wrap");
            Cli.Run s = memcrypt("kl", "encodekey", "--integrity-key", ik, "--encryption-key", swapped, "--restrictions", r, "--key", key);
            assertEquals(0, s.exit(), s.err());
            assertNotEquals(want + "\n", s.out(), "halves swapped: another IWKey, another handle");
            Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(HexFormat.of().parseHex(key), "AES"));
            String ct = HexFormat.of().formatHex(c.doFinal(HexFormat.of().parseHex(PT)));
            assertEquals(ct + "\n", memcrypt("kl", "aesenc", "--integrity-key", ik, "--encryption-key", ek, "--handle", want, PT).out());
            assertEquals(PT + "\n", memcrypt("kl", "aesdec", "--integrity-key", ik, "--encryption-key", ek, "--handle", want, ct).out());
            assertEquals("ZF=1\n", memcrypt("kl", "aesenc", "--integrity-key", ik, "--encryption-key", swapped, "--handle", want, PT).out(),
                    "the vector's handle does not authenticate under the swapped IWKey");
        }
    }

    static void bad(String... args) {
        Cli.Run r = memcrypt(args);
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one-line error: " + r.err());
        assertTrue(r.err().startsWith("memcrypt: "), r.err());
        assertEquals("", r.out());
    }

    @Test
    void badArgumentsExit2WithOneLine() {
        bad("kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK); // missing --key
        bad("kl", "encodekey", "--integrity-key", IK + "00", "--encryption-key", EK, "--key", K128);
        bad("kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK.substring(2), "--key", K128);
        bad("kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK, "--key", "0011");
        bad("kl", "encodekey", "--integrity-key", "zz" + IK.substring(2), "--encryption-key", EK, "--key", K128);
        bad("kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK, "--key", K128, "--restrictions", "8");
        bad("kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK, "--key", K128, "--restrictions", "x");
        bad("kl", "encodekey", "--integrity-key", IK, "--encryption-key", EK, "--key", K128, "--bogus");
        String h = encode(K128);
        bad("kl", "aesenc", "--integrity-key", IK, "--encryption-key", EK, "--handle", h.substring(2), PT);
        bad("kl", "aesenc", "--integrity-key", IK, "--encryption-key", EK, "--handle", h, PT + "00");
        bad("kl", "aesenc", "--integrity-key", IK, "--encryption-key", EK, "--handle", h, "--wide", PT);
        bad("kl", "aesdec", "--integrity-key", IK, "--encryption-key", EK, "--handle", h, "--cpl", "4", PT);
        bad("kl", "aesdec", "--integrity-key", IK, "--encryption-key", EK, "--handle", h); // missing block
        bad("kl", "aesenc", "--encryption-key", EK, "--handle", h, PT); // missing --integrity-key
    }
}
