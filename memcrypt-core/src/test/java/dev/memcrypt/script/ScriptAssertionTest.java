package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** {@code => EXPECTED} semantics, bindings, and exit statuses 0 and 1. */
class ScriptAssertionTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            faultMatches               | fault '#GP' => #GP
            errnoMatches               | fault EINVAL => EINVAL
            statusMatches              | status INVALID_KEYID => INVALID_KEYID
            successStatus              | status SUCCESS
            successStatusAsserted      | status SUCCESS => SUCCESS
            decimalVsHex               | hex 16 => 0x10
            hexVsDecimal               | num 0x10 => 16
            negativeNumber             | num -1 => 0xffffffffffffffff
            sizeSuffix                 | num 4K => 4096
            bytesHex                   | bytes 00112233 => 00112233
            bytesHexWith0x             | bytes 00112233 => 0x00112233
            bytesRepeat                | bytes 00*16 => 00000000000000000000000000000000
            bytesConcat                | bytes "ab"+00*2 => 61620000
            bytesVsString              | bytes 616263 => "abc"
            stringVsString             | print a b => "a b"
            stringEscapes              | print "t\\tq\\"" => "t\\tq\\""
            negatedValue               | bytes 00 => !01
            negatedStatus              | status ENTROPY_ERROR => !INVALID_KEYID
            bindingCompare             | x = bytes 0102\\nbytes 0102 => $x
            negatedBinding             | x = bytes 0102\\nbytes 0103 => !$x
            bindingInBytes             | x = bytes 0102\\nbytes $x+03 => 010203
            bindingInOption            | x = num 2\\nopt cpu=$x key=$k2 5 => "2/1/A/5"
            bindingInString            | x = hex 255\\nprint "v=$x" => "v=0xff"
            bindingWordConcat          | x = num 7\\nprint a${x}b => "a7b"
            statusBound                | r = fault '#UD' => #UD\\nstatus '#UD' => $r
            optionsAnyOrder            | opt 5 key=0011 mode=b cpu=3 => "3/2/B/5"
            emptyString                | print "" => ""
            bitsField                  | bits 0x0000000600000001 35:32 => 6
            bitsOne                    | bits 0x2000 13 => 1
            bitsAll                    | bits -1 63:0 => 0xffffffffffffffff
            """)
    void passes(String name, String script) {
        String s = script.replace("\\n", "\n").replace("$k2", "00");
        ScriptHarness.Run r = ScriptHarness.run(s + "\n");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals("", r.err());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            unassertedFault            | fault '#GP'                | unexpected #GP: test fault
            unassertedErrno            | fault EINVAL               | unexpected EINVAL: test fault
            unassertedFailureStatus    | status DEVICE_BUSY         | unexpected DEVICE_BUSY (assert it with => DEVICE_BUSY)
            wrongFault                 | fault '#UD' => #GP           | expected #GP, got #UD
            faultWhenValueExpected     | fault '#PF' => 5             | expected 5, got #PF
            valueWhenFaultExpected     | num 5 => #GP               | expected #GP, got 5
            wrongStatus                | status SUCCESS => INVALID_KEYID | expected INVALID_KEYID, got SUCCESS
            wrongNumber                | num 5 => 6                 | expected 6, got 5
            wrongBytes                 | bytes 0011 => 0012         | expected 0012, got 0011 (first difference at byte 1: expected 12, got 11)
            wrongString                | print a => "b"             | expected "b", got "a"
            negationFails              | bytes 00 => !00            | expected !00, got 00
            negationNeverMatchesFault  | fault '#GP' => !#UD          | expected !#UD, got #GP
            bytesLengthDiffers         | bytes 0000 => 00           | expected 00, got 0000 (2 bytes, expected 1)
            multilineStringOneLine     | print "a\\nb" => "a"       | expected "a", got "a\\nb"
            """)
    void failsWithExit1(String name, String script, String why) {
        ScriptHarness.Run r = ScriptHarness.run("num 1\n" + script + "\nnum 2\n");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals("t.mc:2: FAIL: " + script + ": " + why + "\n", r.err());
        assertEquals(2, r.steps().size(), "stops at the first unexpected outcome");
    }

    @Test
    void logFormat() {
        ScriptHarness.Run r = ScriptHarness.run("""
                # comment
                a = bytes 00*100   # long
                hex 0x1000
                fault '#GP' => #GP
                print "two\\nlines"
                status SUCCESS
                """);
        assertEquals(0, r.exit(), r.err());
        assertEquals("""
                [line 2] a = bytes 00*100 -> 0000000000000000000000000000000000000000000000000000000000000000... (100 bytes)
                [line 3] hex 0x1000 -> 0x1000
                [line 4] fault '#GP' => #GP -> #GP (test fault)
                [line 5] print "two\\nlines" ->
                    two
                    lines
                [line 6] status SUCCESS -> SUCCESS
                PASS 5 statements
                """, r.out());
    }

    @Test
    void quietPrintsOnlyTheFailure() {
        ScriptHarness.Run r = ScriptHarness.run(new Interpreter(ScriptHarness.testRegistry()), "q.mc", "num 1\nnum 2 => 3\n", true);
        assertEquals(1, r.exit());
        assertEquals("", r.out());
        assertEquals("q.mc:2: FAIL: num 2 => 3: expected 3, got 2\n", r.err());
    }

    @Test
    void finalCheckFailureIsExit1() {
        StatementRegistry reg = ScriptHarness.testRegistry().finalCheck("invariants", s -> true, s -> "line 0x40 stale");
        ScriptHarness.Run r = ScriptHarness.run(new Interpreter(reg), "f.mc", "num 1\n", false);
        assertEquals(1, r.exit());
        assertEquals("[line 1] num 1 -> 1\n[end] invariants -> VIOLATED: line 0x40 stale\n", r.out());
        assertEquals("f.mc: FAIL: end of script: invariants: line 0x40 stale\n", r.err());
        r = ScriptHarness.run(new Interpreter(reg).finalChecks(false), "f.mc", "num 1\n", false);
        assertEquals(0, r.exit());
    }

    @Test
    void flagsLikeC() {
        StatementRegistry reg = ScriptHarness.testRegistry();
        java.util.Map<String, Long> prot = new java.util.LinkedHashMap<>();
        prot.put("PROT_NONE", 0L);
        prot.put("PROT_READ", 1L);
        prot.put("PROT_WRITE", 2L);
        reg.register(Statement.of("prot", "prot FLAGS", "test", a -> {
            Arg<Long> f = a.flags("FLAGS", prot);
            return s -> Value.hex(f.get(s));
        }));
        Interpreter in = new Interpreter(reg);
        ScriptHarness.Run r = ScriptHarness.run(in, "f.mc", "prot PROT_READ|PROT_WRITE => 3\nprot PROT_NONE => 0\nprot PROT_READ|0x8 => 9\nx = num 2\nprot $x => 2\n", false);
        assertEquals(0, r.exit(), r.err());
        r = ScriptHarness.run(in, "f.mc", "prot PROT_READ|PROT_EXEC\n", false);
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown flag 'PROT_EXEC' (known: PROT_NONE PROT_READ PROT_WRITE)"), r.err());
    }

    @Test
    void objectHandles() {
        StatementRegistry reg = ScriptHarness.testRegistry();
        reg.register(Statement.of("mkobj", "mkobj", "test", a -> s -> new Value.Obj(new StringBuilder("x"), "sb#1")));
        reg.register(Statement.of("useobj", "useobj OBJ", "test", a -> {
            Arg<StringBuilder> o = a.object("OBJ", StringBuilder.class);
            return s -> Value.str(o.get(s).append("y").toString());
        }));
        Interpreter in = new Interpreter(reg);
        ScriptHarness.Run r = ScriptHarness.run(in, "o.mc", "o = mkobj\nuseobj $o => \"xy\"\nprint $o => \"sb#1\"\n", false);
        assertEquals(0, r.exit(), r.err());
        r = ScriptHarness.run(in, "o.mc", "useobj 5\n", false);
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("useobj: OBJ: a string is not a StringBuilder"), r.err());
    }

    @Test
    void emptyScriptPasses() {
        ScriptHarness.Run r = ScriptHarness.run("# nothing\n\n");
        assertEquals(0, r.exit());
        assertEquals("PASS 0 statements\n", r.out());
    }

    @Test
    void rebindingReplaces() {
        ScriptHarness.Run r = ScriptHarness.run("x = num 1\nx = num 2\nnum 2 => $x\n");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.result().session().lookup("x") instanceof Value.Num n && n.value() == 2);
    }
}
