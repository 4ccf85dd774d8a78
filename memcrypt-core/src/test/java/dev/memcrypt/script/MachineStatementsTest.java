package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.util.Hex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The machine statements: argument shapes (syntax errors, exit 2, before anything runs), arguments
 * the model rejects at run time (exit 2, machine left consistent), and outcomes.
 */
class MachineStatementsTest {
    static ScriptHarness.Run run(String script) {
        return ScriptHarness.run(Interpreter.standard(), "m.mc", script, false);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            ploadMissingLen       | pload 0x1000 1                                        | pload: missing LEN
            keyIdTooWide          | pstore 0x1000 99999 00                                | pstore: KEYID: 99999 out of range 0..32767
            badMsrName            | rdmsr IA32_NOPE                                       | rdmsr: MSR: 'IA32_NOPE' is not an MSR number or one of IA32_TME_CAPABILITY
            msrTooWide            | rdmsr 0x100000000                                     | does not fit ECX
            badPconfigCommand     | pconfig keyid=1 cmd=BOGUS alg=AES_XTS_128             | cmd=: unknown PCONFIG command 'BOGUS'
            missingPconfigCmd     | pconfig keyid=1 alg=AES_XTS_128                       | pconfig: missing cmd=
            missingPconfigKeyId   | pconfig cmd=CLEAR_KEY alg=AES_XTS_128                 | pconfig: missing keyid=
            keyIdNotU16           | pconfig keyid=70000 cmd=CLEAR_KEY alg=AES_XTS_128     | keyid=: 70000 out of range 0..65535
            badAlgorithm          | pconfig keyid=1 cmd=CLEAR_KEY alg=AES_XTS_256         | alg=: 'AES_XTS_256' is not AES_XTS_128
            keyFieldTooLong       | pconfig keyid=1 cmd=SET_KEY_DIRECT alg=AES_XTS_128 key=00*65 | key=: 65 bytes, at most 64 allowed
            badCpuOption          | pconfig cpu=some keyid=1 cmd=CLEAR_KEY alg=AES_XTS_128 | cpu=: 'some' is not a number
            cpuidBadRegister      | cpuid 7 0 exx                                         | cpuid: REG: 'exx' is not one of eax
            cpuOfflineMissing     | cpu offline                                           | cpu offline: missing N
            cplRange              | cpl 4                                                 | cpl: LEVEL: 4 out of range 0..3
            keytableHoldNoCpu     | keytable hold                                         | keytable hold: missing cpu=
            xtsShortKey           | xts-lines key=00 tweak=00*16 0 00*64                  | xts-lines: key=: 1 bytes, need exactly 16
            xtsMissingTweak       | xts-lines key=00*16 0 00*64                           | xts-lines: missing tweak=
            dramWriteMissingData  | dram write 0x1000                                     | dram write: missing DATA
            unknownStatement      | wbinvd2                                               | unknown statement 'wbinvd2' (did you mean 'wbinvd'?)
            """)
    void badShapeIsSyntaxError(String name, String stmt, String fragment) {
        ScriptHarness.Run r = run("pstore 0x1000 0 aa\n" + stmt + "\n");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("m.mc:2: syntax error: "), r.err());
        assertTrue(r.err().contains(fragment), () -> "want '" + fragment + "' in " + r.err());
        assertEquals(null, r.result().session(), "nothing ran, not even the first line");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            paBeyondDram          | pload 0x100000000000 1 16              | pload: bad argument
            keyIdBeyondActivated  | pstore 0x2000 64 00                    | pstore: bad argument
            noSuchCpu             | cpu offline 9                          | cpu offline: bad argument: no cpu 9
            offlineCpuAccess      | cpu offline 1\\npload cpu=1 0x1000 0 1 | pload: bad argument
            lastCpu               | cpu offline 1\\ncpu offline 2\\ncpu offline 3\\ncpu offline 0 | cpu offline: bad argument
            releaseWithoutHold    | keytable release cpu=1                 | keytable release: bad argument
            doubleHold            | keytable hold cpu=1\\nkeytable hold cpu=0 | keytable hold: bad argument
            xtsNotWholeLines      | xts-lines key=00*16 tweak=00*16 0 00*63 | xts-lines: bad argument: DATA must be whole 64-byte lines
            bindingOfWrongKind    | x = bytes 0011\\npload $x 0 1           | pload: PA: a bytes is not a number
            """)
    void modelRejectsArgumentExit2AndStaysConsistent(String name, String stmts, String fragment) {
        ScriptHarness.Run r = run("pstore 0x1000 0 aabbccdd\n" + stmts.replace("\\n", "\n") + "\n");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains(fragment), () -> "want '" + fragment + "' in " + r.err());
        Machine m = r.result().session().machine();
        assertEquals(java.util.List.of(), m.checkInvariants());
        assertArrayEquals(Hex.parse("aabbccdd"), m.pload(0, 0x1000, 0, 4), "earlier data intact");
    }

    @Test
    void msrByNumberAndByNameAgree() {
        ScriptHarness.Run r = run("a = rdmsr 0x982\nrdmsr IA32_TME_ACTIVATE => $a\nrdmsr ia32_tme_activate => $a\nrdmsr 0x12345 => #GP\n");
        assertEquals(0, r.exit(), r.err());
    }

    @Test
    void wrmsrGpLeavesValueUnchanged() {
        ScriptHarness.Run r = run("""
                machine activate=false
                before = rdmsr IA32_TME_ACTIVATE
                # reserved bit 8 set
                wrmsr IA32_TME_ACTIVATE 0x100 => #GP
                rdmsr IA32_TME_ACTIVATE => $before
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void cpuidWholeLeafIsAString() {
        ScriptHarness.Run r = run("cpuid 7 => \"eax=0x00000000 ebx=0x00000000 ecx=0x00802008 edx=0x00040000\"\ncpuid 7 ecx => 0x802008\n");
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void keyMaterialIsMaskedInLogAndFailures() {
        ScriptHarness.Run r = run("pconfig keyid=1 cmd=SET_KEY_DIRECT alg=AES_XTS_128 key=0123456789abcdef0123456789abcdef tweak=fedcba98765432100123456789abcdef => INVALID_KEYID\n");
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("key=*** tweak=***"), r.out());
        assertTrue(!r.out().contains("0123456789abcdef") && !r.err().contains("0123456789abcdef"), r.out() + r.err());
    }

    @Test
    void pconfigAllProgramsEveryPackage() {
        ScriptHarness.Run r = run("pconfig cpu=all keyid=9 cmd=SET_KEY_DIRECT alg=AES_XTS_128 key=11*16 tweak=22*16\ncheck\n");
        assertEquals(0, r.exit(), r.out() + r.err());
        Machine m = r.result().session().machine();
        for (var p : m.packages()) assertEquals(dev.memcrypt.hw.controller.KeyTable.Mode.KEY, p.keyTable().get(9).mode());
    }

    @Test
    void programmingOnePackageOnlyFailsTheEndCheck() {
        ScriptHarness.Run r = run("pconfig keyid=9 cmd=SET_KEY_DIRECT alg=AES_XTS_128 key=11*16 tweak=22*16\n");
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("m.mc: FAIL: end of script: invariants: key tables of packages 0 and 1 disagree on KeyID 9"), r.err());
    }

    @Test
    void expectViolationInvertsTheEndCheck() {
        String broken = "pconfig keyid=9 cmd=SET_KEY_DIRECT alg=AES_XTS_128 key=11*16 tweak=22*16\n";
        ScriptHarness.Run r = run("expect-violation\n" + broken);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("[end] invariants (violation expected) -> ok"), r.out());
        r = run("expect-violation\nnum 1\n");
        assertEquals(0, r.exit(), "no machine powered on: nothing to check");
        r = run("expect-violation\npload 0x1000 0 1\n");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("no violation found, but the script expects one"), r.err());
    }

    @Test
    void noMachineNoCheck() {
        ScriptHarness.Run r = run("num 1\n");
        assertEquals(0, r.exit());
        assertTrue(r.result().session().machineIfOn().isEmpty(), "the machine is built lazily");
        assertEquals("[line 1] num 1 -> 1\nPASS 1 statement\n", r.out());
    }

    @Test
    void machineStatementConfiguresTheMachine() {
        ScriptHarness.Run r = run("machine packages=1 cores=1 dram=1T keyid_bits=4 max_keyid_bits=4 max_keys=15\npconfig keyid=15 cmd=NO_ENCRYPT alg=AES_XTS_128\npconfig keyid=16 cmd=NO_ENCRYPT alg=AES_XTS_128 => INVALID_KEYID\npstore 0xfff0000000 15 \"far away\"\npload 0xfff0000000 15 8 => \"far away\"\n");
        assertEquals(0, r.exit(), r.out() + r.err());
    }
}
