package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memcrypt.util.Hex;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** A result written as it prints is a passing {@code => EXPECTED}; quoting round-trips through the lexer. */
class ScriptPropertiesTest {
    @Property(tries = 300)
    void quotedStringLexesBack(@ForAll("text") String s) {
        List<Token> ts = Lexer.lex(1, "print " + Value.quote(s) + " # c").tokens();
        assertEquals(2, ts.size());
        assertEquals(s, ts.get(1).literal());
    }

    @Property(tries = 200)
    void bytesAsPrintedMatch(@ForAll @Size(max = 64) byte[] b) {
        if (b.length == 0) return;
        String h = Hex.of(b);
        ScriptHarness.Run r = ScriptHarness.run("x = bytes " + h + "\nbytes " + h + " => " + Value.bytes(b).display() + "\nbytes " + h + " => $x\n");
        assertEquals(0, r.exit(), r.err());
    }

    @Property(tries = 200)
    void numbersAsPrintedMatch(@ForAll long n) {
        ScriptHarness.Run r = ScriptHarness.run("hex " + n + " => " + Value.hex(n).display() + "\nnum " + Value.hex(n).display() + " => " + Value.num(n).display() + "\n");
        assertEquals(0, r.exit(), r.err());
    }

    @Property(tries = 200)
    void stringsAsPrintedMatch(@ForAll("text") String s) {
        if (s.indexOf('\n') >= 0) return; // multi-line strings print as blocks
        String q = Value.quote(s);
        ScriptHarness.Run r = ScriptHarness.run("print " + q + " => " + Value.str(s).display() + "\n");
        assertEquals(0, r.exit(), r.err());
    }

    @Provide
    Arbitrary<String> text() {
        return Arbitraries.strings().withCharRange((char) 0, (char) 0x7f).withChars('é', '€').ofMaxLength(30);
    }
}
