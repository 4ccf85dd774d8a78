package dev.memcrypt.script.sme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.script.Interpreter;
import dev.memcrypt.script.TextReporter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code boot mem_encrypt=on ...}, {@code pte ADDR} and {@code sme verify} in scripts, including the failure modes. */
class SmeStatementsTest {
    static final String MACHINE = "machine sme=on tme=off pconfig=off keyid_bits=0 max_keyid_bits=0 max_keys=0 maxphyaddr=48 cbit=47 dram=256M l1=8K llc=256K\n";

    record Out(int exit, String out) {}

    static Out run(String script) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(o, true, StandardCharsets.UTF_8);
        TextReporter text = new TextReporter("t.mc", p, p, false);
        Interpreter.Result r = Interpreter.standard().run("t.mc", MACHINE + script, new Interpreter.Listener() {
            @Override
            public void step(Interpreter.Step s) {
                text.step(s);
            }

            @Override
            public void syntaxError(dev.memcrypt.script.ScriptSyntaxException e) {
                p.println("syntax: " + e.getMessage());
            }
        });
        return new Out(r.exitStatus(), o.toString(StandardCharsets.UTF_8) + (r.failure() == null ? "" : "\nfailure: " + r.failure()));
    }

    @Test
    void bootPteAndVerify() {
        Out r = run("boot mem_encrypt=on kernel-size=2M initrd-size=2M\npte 0x1000000\npte 0xffffffff81000000 cpu=0\nsme verify => VERIFIED\n");
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("ENCRYPTED") && r.out().contains("stack page"), r.out());
        assertTrue(r.out().contains("C-bit 1 (encrypted)"), r.out());
    }

    @Test
    void pteShowsPlaintextMappingWithoutSme() {
        Out r = run("boot mem_encrypt=off kernel-size=2M initrd-size=0\npte 0x1000000\n");
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("C-bit 0 (plaintext)"), r.out());
    }

    @Test
    void failureModesAsOutcomes() {
        Out a = run("boot mem_encrypt=on kernel-size=2M initrd-size=2M sme_test=small_workarea => REFUSED\n");
        assertEquals(0, a.exit(), a.out());
        Out b = run("boot mem_encrypt=on kernel-size=2M initrd-size=2M sme_test=write_decrypted => #PF\n");
        assertEquals(0, b.exit(), b.out());
        Out c = run("boot mem_encrypt=on kernel-size=2M initrd-size=2M sme_test=no_buffer\nsme verify => CORRUPTED\n");
        assertEquals(0, c.exit(), c.out());
        Out d = run("boot mem_encrypt=on kernel-size=2M initrd-size=2M sme_test=skip_wbinvd\nsme verify\n");
        assertNotEquals(0, d.exit(), d.out());
        assertTrue(d.out().contains("CORRUPTED"), d.out());
    }
}
