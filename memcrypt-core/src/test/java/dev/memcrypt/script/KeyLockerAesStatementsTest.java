package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * Every AES Key Locker statement run from a script, its XMM results checked against AES computed
 * here with the JDK (AES/ECB/NoPadding) under the key that was wrapped: aesenc256kl, aesdec256kl,
 * and the wide forms on XMM0-7 (128 and 256), each register read back with {@code xmm N}.
 */
class KeyLockerAesStatementsTest {
    static final HexFormat HEX = HexFormat.of();
    // IWKey material (not the FIPS keys, so a mix-up of wrapped key and IWKey would show)
    static final String IK = "8f1e2d3c4b5a69788796a5b4c3d2e1f0";
    static final String E_LO = "0123456789abcdeffedcba9876543210", E_HI = "13579bdf02468ace0f1e2d3c4b5a6978";
    // the keys wrapped into handles: XMM0 (128) and XMM1:XMM0 (256)
    static final String K128 = "2b7e151628aed2a6abf7158809cf4f3c";
    static final String K256 = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

    static ScriptHarness.Run run(String script) {
        return ScriptHarness.run(Interpreter.standard(), "kl-aes.mc", script, false);
    }

    static byte[] aes(String key, byte[] data, boolean enc) throws Exception {
        Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
        c.init(enc ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, new SecretKeySpec(HEX.parseHex(key), "AES"));
        return c.doFinal(data);
    }

    static byte[] blocks(int n, int seed) {
        byte[] b = new byte[16 * n];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (seed * 37 + i * 13 + 11);
        return b;
    }

    static String block(byte[] b, int i) {
        return HEX.formatHex(b, 16 * i, 16 * i + 16);
    }

    static final String SETUP = """
            cr4 kl on
            xmm 0 %s
            xmm 1 %s
            xmm 2 %s
            loadiwkey => ZF_CLEAR
            xmm 0 %s
            h128 = encodekey128
            xmm 0 %s
            xmm 1 %s
            h256 = encodekey256
            """.formatted(IK, E_LO, E_HI, K128, K256.substring(0, 32), K256.substring(32));

    /** The script under test; {@code corrupt} changes one expected value (to show a mismatch fails). */
    static String script(boolean corrupt) throws Exception {
        StringBuilder s = new StringBuilder(SETUP);
        byte[] pt = blocks(1, 1);
        byte[] ct256 = aes(K256, pt, true);
        s.append("xmm 3 ").append(HEX.formatHex(pt)).append('\n');
        String expect = HEX.formatHex(ct256);
        if (corrupt) expect = (expect.charAt(0) == '0' ? "1" : "0") + expect.substring(1);
        s.append("aesenc256kl 3 $h256 => ").append(expect).append('\n');
        s.append("xmm 3 => ").append(HEX.formatHex(ct256)).append('\n');
        // aesdec256kl on a block that is not an encryption result: the JDK's inverse cipher
        byte[] other = blocks(1, 2);
        s.append("xmm 7 ").append(HEX.formatHex(other)).append('\n');
        s.append("aesdec256kl 7 $h256 => ").append(HEX.formatHex(aes(K256, other, false))).append('\n');
        s.append("aesdec256kl 3 $h256 => ").append(HEX.formatHex(pt)).append('\n');
        // the wide forms: XMM0-7 in, XMM0-7 out, each register checked
        String[][] wide = {{"aesencwide128kl", "h128", K128, "true"}, {"aesdecwide128kl", "h128", K128, "false"},
                {"aesencwide256kl", "h256", K256, "true"}, {"aesdecwide256kl", "h256", K256, "false"}};
        int seed = 10;
        for (String[] w : wide) {
            byte[] in = blocks(8, seed++);
            byte[] out = aes(w[2], in, Boolean.parseBoolean(w[3]));
            for (int i = 0; i < 8; i++) s.append("xmm ").append(i).append(' ').append(block(in, i)).append('\n');
            s.append(w[0]).append(" $").append(w[1]).append(" => ").append(HEX.formatHex(out)).append('\n');
            for (int i = 0; i < 8; i++) s.append("xmm ").append(i).append(" => ").append(block(out, i)).append('\n');
        }
        // the 128-bit single-block forms too
        s.append("xmm 9 ").append(HEX.formatHex(pt)).append('\n');
        s.append("aesenc128kl 9 $h128 => ").append(HEX.formatHex(aes(K128, pt, true))).append('\n');
        s.append("aesdec128kl 9 $h128 => ").append(HEX.formatHex(pt)).append('\n');
        return s.toString();
    }

    @Test
    void aesKlStatementsEqualJdkAesOnEveryXmmRegister() throws Exception {
        ScriptHarness.Run r = run(script(false));
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void aMismatchedExpectationFailsTheScript() throws Exception {
        ScriptHarness.Run r = run(script(true));
        assertNotEquals(0, r.exit(), "the script's => checks are live: " + r.out() + r.err());
        assertTrue((r.out() + r.err()).contains("aesenc256kl"), r.out() + r.err());
    }
}
