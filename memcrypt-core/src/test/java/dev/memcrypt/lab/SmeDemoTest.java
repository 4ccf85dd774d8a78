package dev.memcrypt.lab;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SmeDemoTest {
    @Test
    void narratesBeforeAfterChecksumsAndFailureModes() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        SmeDemo.run(new PrintStream(o, true, StandardCharsets.UTF_8), 2L << 20, 2L << 20);
        String s = o.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("plaintext (equal to the image)"), s);
        assertTrue(s.contains("ciphertext (its CRC32C differs"), s);
        assertTrue(s.contains("=> the image reads back byte for byte"), s);
        for (String t : new String[] {"skip_wbinvd", "no_buffer", "write_decrypted", "small_workarea"}) assertTrue(s.contains("sme_test=" + t), t);
        assertTrue(s.contains("#PF") && s.contains("REFUSED") && s.contains("MISMATCH"), s);
    }
}
