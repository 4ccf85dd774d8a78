package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kind of syntax error exits 2, names the line, and runs nothing. */
class ScriptSyntaxTest {
    @BeforeEach
    void clear() {
        ScriptHarness.sideEffects.clear();
    }

    private static void syntax(String script, int line, String fragment) {
        ScriptHarness.Run r = ScriptHarness.run(script);
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("t.mc:" + line + ": syntax error: "), r.err());
        assertTrue(r.err().contains(fragment), () -> "want '" + fragment + "' in: " + r.err());
        assertTrue(ScriptHarness.sideEffects.isEmpty(), "a statement ran before the syntax error");
        assertEquals("", r.out());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknownStatement          | frobnicate 1                 | unknown statement 'frobnicate'
            suggestion                | prnt hello                   | did you mean 'print'?
            unknownSubcommand         | cpu sideways 1               | cpu: expected one of offline|online, got 'sideways'
            missingSubcommand         | cpu                          | cpu: expected one of offline|online, got nothing
            missingArgument           | num                          | num: missing N (usage: num N)
            extraArgument             | num 1 2                      | num: unexpected argument '2'
            badNumber                 | num 12x                      | num: N: '12x' is not a number
            numberOutOfRange          | cpu offline 9                | cpu offline: N: 9 out of range 0..3
            unknownOption             | opt foo=1 5                  | opt: unknown option 'foo='
            repeatedOption            | opt cpu=1 cpu=2 5            | option cpu= given twice
            badChoice                 | opt mode=C 5                 | mode=: 'C' is not one of A|B
            badHex                    | bytes 0g                     | bytes: DATA: not hex bytes
            oddHex                    | bytes 001                    | odd number of digits
            unboundName               | print $nope                  | $nope is not bound
            unboundInOption           | opt key=$k 1                 | $k is not bound
            unboundInString           | print "a $z b"               | $z is not bound
            unboundExpected           | num 1 => $q                  | $q is not bound
            selfReference             | x = num $x                   | $x is not bound
            badBindName               | 1x = num 1                   | bad name '1x'
            missingStatementAfterBind | x =                          | missing statement after 'x ='
            missingExpected           | num 1 =>                     | missing expected outcome after '=>'
            twoExpected               | num 1 => 1 2                 | one expected outcome after '=>', got 2 words
            badExpected               | num 1 => 1zz                 | after '=>': '1zz' is not an outcome name
            nothingBeforeArrow        | => 1                         | missing statement before '=>'
            strayEquals               | print a = b                  | unexpected '='
            unterminatedString        | print "abc                   | unterminated "string"
            badEscape                 | print "\\q"                  | unknown escape
            dollarWithoutName         | print $                      | '$' must be followed by a name
            quotedStatementName       | "print" x                    | a statement must start with its name
            lateMachine               | num 1\\nmachine packages=1   | machine must be the first statement
            badMachineOption          | machine warp=9               | unknown machine option 'warp'
            badMachineValue           | machine packages=0           | machine option packages=0 out of range
            machineNotKeyValue        | machine big                  | machine: expected key=value
            """)
    void syntaxErrorExits2(String name, String script, String fragment) {
        String s = script.replace("\\n", "\n");
        int line = s.split("\n").length;
        if (s.startsWith("machine")) syntax(s + "\ntouch after\n", line, fragment);
        else syntax("touch before\n" + s + "\n", line + 1, fragment);
    }

    @Test
    void syntaxErrorOnLine40StopsBeforeAnySideEffect() {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < 40; i++) sb.append("touch line").append(i).append('\n');
        sb.append("frobnicate\n");
        syntax(sb.toString(), 40, "unknown statement");
    }

    @Test
    void machineAfterCommentsAndBlankLinesIsFirst() {
        ScriptHarness.Run r = ScriptHarness.run("# header\n\n   # more\nmachine packages=1 cores=4\nnum 1\n");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.result().session().config().packages());
        assertEquals(4, r.result().session().config().coresPerPackage());
    }

    @Test
    void machineLineIsLoggedWithASummary() {
        ScriptHarness.Run r = ScriptHarness.run("\uFEFF# bom and comment\nmachine packages=1 cores=4 dram=1T\nnum 1\n");
        assertEquals(0, r.exit(), r.err());
        assertEquals("[line 2] machine packages=1 cores=4 dram=1T -> \"1 package x 4 cores, DRAM 1 TiB, MAXPHYADDR 46, 6 KeyID bits\"\n"
                + "[line 3] num 1 -> 1\nPASS 2 statements\n", r.out());
    }

    @Test
    void runtimeKindErrorIsSyntaxExit2WithLine() {
        ScriptHarness.Run r = ScriptHarness.run("s = print hello\nx = bytes 0011\nnum $x\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("t.mc:3: syntax error: num: N: a bytes is not a number"), r.err());
    }

    @Test
    void modelRejectingAnArgumentIsExit2WithLine() {
        ScriptHarness.Run r = ScriptHarness.run("num 1\nbad\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("t.mc:2: syntax error: bad: bad argument: PA 0x123 beyond DRAM"), r.err());
    }

    @Test
    void lexerForms() {
        List<Token> ts = Lexer.lex(1, "a \"b c\" 'd $e' f=\"g h\" x$y ${z}w # comment \"x").tokens();
        assertEquals(List.of("a", "\"b c\"", "'d $e'", "f=\"g h\"", "x$y", "${z}w"), ts.stream().map(Token::raw).toList());
        assertEquals("b c", ts.get(1).literal());
        assertEquals("d $e", ts.get(2).literal());
        assertEquals("f", ts.get(3).optionKey());
        assertEquals("g h", ts.get(3).optionValue().literal());
        assertEquals(List.of("y"), ts.get(4).references());
        assertEquals(null, ts.get(1).optionKey());
        assertEquals("a \"b c\" 'd $e' f=\"g h\" x$y ${z}w", Lexer.lex(1, "  a \"b c\" 'd $e' f=\"g h\" x$y ${z}w # comment").text());
    }

    @Test
    void hashInsideStringIsNotAComment() {
        ScriptHarness.Run r = ScriptHarness.run("print \"a # b\" # real comment\n");
        assertEquals(0, r.exit(), r.err());
        assertEquals("[line 1] print \"a # b\" -> \"a # b\"\nPASS 1 statement\n", r.out());
    }

    @Test
    void faultNameAfterArrowIsNotAComment() {
        ScriptHarness.Run r = ScriptHarness.run("fault #GP => #GP # comment after\nfault #UD =>!#GP\n");
        // "fault #GP": the # starts a comment there (not after =>), so fault has no NAME
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("fault: missing NAME"), r.err());
        r = ScriptHarness.run("fault \"#GP\" => #GP # comment after\n");
        assertEquals(0, r.exit(), r.err());
    }
}
