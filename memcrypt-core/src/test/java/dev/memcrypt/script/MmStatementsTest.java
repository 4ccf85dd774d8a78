package dev.memcrypt.script;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The process and memory statements: C-API-shaped arguments, errno outcomes, syntax errors. */
class MmStatementsTest {
    static ScriptHarness.Run run(String script) {
        return ScriptHarness.run(new Interpreter(StatementRegistry.standard()), "t.mc", script, false);
    }

    @Test
    void registeredWithUsage() {
        StatementRegistry r = StatementRegistry.standard();
        for (String n : new String[]{"mmap", "munmap", "mprotect", "pkey_mprotect", "madvise", "mremap", "encrypt_mprotect", "memfd_create",
                "fork", "exit", "switch", "poke", "peek", "keyid", "vdram", "smaps", "add_key", "keyctl"}) {
            assertNotNull(r.get(n), n);
        }
        assertEquals("encrypt_mprotect ADDR LEN PROT SERIAL", r.get("encrypt_mprotect").usage());
    }

    @Test
    void unknownFlagIsASyntaxError() {
        ScriptHarness.Run r = run("mmap 0 4096 PROT_BOGUS MAP_ANONYMOUS|MAP_PRIVATE\n");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("PROT_BOGUS"), r.err());
    }

    @Test
    void errnoAndSignalsAreOutcomes() {
        ScriptHarness.Run r = run("""
                machine dram=64M
                p = mmap 0 4096 PROT_NONE MAP_ANONYMOUS|MAP_PRIVATE
                peek $p 1 => SIGSEGV
                munmap 0x1001 4096 => EINVAL
                encrypt_mprotect $p 4096 PROT_NONE 77 => ENOKEY
                switch 999999 => ESRCH
                mprotect $p 4096 PROT_READ|PROT_WRITE
                poke $p "hi"
                peek $p 2 => "hi"
                """);
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void unassertedErrnoFails() {
        ScriptHarness.Run r = run("munmap 0x1001 4096\n");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("EINVAL"), r.err());
    }
}
