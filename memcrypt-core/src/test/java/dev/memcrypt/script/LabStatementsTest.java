package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code lab NAME [CLAIM]}: the verdict as a status; success when it is the thread's conclusion. */
class LabStatementsTest {
    static ScriptHarness.Run run(String script) {
        return ScriptHarness.run(Interpreter.standard(), "l.mc", script, false);
    }

    @Test
    void verdictsAsStatuses() {
        ScriptHarness.Run r = run("lab replay => HOLDS\nlab replay kirill-what-replay => FAILS\nlab replay kai-no-nonce\nlab replay kirill-what-replay\n");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("[line 2] lab replay kirill-what-replay => FAILS -> FAILS"), r.out());
    }

    @Test
    void wrongExpectationFails() {
        ScriptHarness.Run r = run("lab replay kirill-what-replay => HOLDS\n");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("expected HOLDS, got FAILS"), r.err());
    }

    @Test
    void unknownExperimentOrClaimIsASyntaxError() {
        ScriptHarness.Run r = run("lab nope\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("lab: NAME: 'nope' is not one of cold-boot|replay"), r.err());
        r = run("lab replay luto-cold-boot\n");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("CLAIM: 'luto-cold-boot' is not one of jarkko-replay"), r.err());
        r = run("lab\n");
        assertEquals(2, r.exit());
    }

    @Test
    void doesNotPowerOnTheScriptMachine() {
        ScriptHarness.Run r = run("lab plaintext-in-caches luto-l1tf => HOLDS\n");
        assertEquals(0, r.exit(), r.err());
        assertTrue(!r.out().contains("invariants"), r.out());
    }
}
