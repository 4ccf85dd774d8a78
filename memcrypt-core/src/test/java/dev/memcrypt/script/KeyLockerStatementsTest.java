package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Key Locker and KVM statements: results, ZF as a status, bad arguments. */
class KeyLockerStatementsTest {
    static ScriptHarness.Run run(String script) {
        return ScriptHarness.run(Interpreter.standard(), "kl.mc", script, false);
    }

    @Test
    void unassertedZfSetFailsTheScript() {
        ScriptHarness.Run r = run("""
                cr4 kl on
                aesenc128kl 0 00*48
                """);
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("ZF_SET"), r.err());
    }

    @Test
    void encodekeyDestAndWideResults() {
        ScriptHarness.Run r = run("""
                cr4 kl on
                loadiwkey eax=1
                encodekey128 dest => 1
                xmm 0 000102030405060708090a0b0c0d0e0f
                xmm 1 101112131415161718191a1b1c1d1e1f
                h = encodekey256 2
                bits 0 0 => 0
                aesencwide256kl $h => ZF_SET
                aesdecwide256kl $h => !ZF_SET
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void keylockerBootThenS3ResumeRestores() {
        ScriptHarness.Run r = run("""
                keylocker boot
                xmm 0 00*16
                h = encodekey128
                s3 suspend
                s3 resume => ZF_CLEAR
                aesenc128kl cpu=3 0 $h
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void cpuOnlineThroughTheKernelRestoresIwKeyWithoutTheStopgap() {
        ScriptHarness.Run r = run("""
                keylocker boot
                xmm 0 00*16
                h = encodekey128
                cpu offline 3
                cpu offline 2
                cpu online 3
                xmm cpu=3 3 00112233445566778899aabbccddeeff
                aesenc128kl cpu=3 3 $h => !ZF_SET
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void vmSurvivesPackageHotplugAndS3ThroughTheKernel() {
        ScriptHarness.Run r = run("""
                a = vm create a
                vcpu run $a 0 cpu=3
                guest store 0x1000 "kept across hotplug"
                guest cr4 kl=on
                guest loadiwkey => ZF_CLEAR
                xmm 0 00*16
                guest xmm 0 00*16
                h = guest encodekey128
                cpu offline 3
                cpu offline 2
                cpu online 2
                vcpu run $a 0 cpu=2
                guest load 0x1000 19 => "kept across hotplug"
                guest aesenc128kl 3 $h => !ZF_SET
                s3 suspend
                s3 resume
                vcpu run $a 0 cpu=1
                guest load 0x1000 19 => "kept across hotplug"
                guest aesenc128kl 3 $h => !ZF_SET
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void hostKeyLockerLeavesGuestsWithout() {
        ScriptHarness.Run r = run("""
                keylocker boot
                a = vm create a
                vcpu run $a 0 cpu=1
                guest cpuid 7 0 ecx => 0
                guest cr4 kl=on => #GP
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            xmmOutOfRange        | xmm 16
            xmmWrongLength       | xmm 0 00*15
            handleWrongLength    | aesenc128kl 0 00*47
            srcOutOfRange        | loadiwkey 16 1
            cr4KlWord            | cr4 kl maybe
            guestWithoutVcpu     | guest load 0 8
            vmCreateNoName       | vm create
            vcpuRunNoCpu         | vcpu run x 0
            restoreBeforeBoot    | keylocker restore 1
            """)
    void badArgumentsExit2(String name, String line) {
        ScriptHarness.Run r = run(line + "\n");
        assertEquals(2, r.exit(), name + ": " + r.out() + r.err());
    }
}
