package dev.memcrypt.kernel.mm;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;
import dev.memcrypt.kernel.keys.mktme.KeyProgram;
import dev.memcrypt.kernel.keys.mktme.KeyTableProgrammer;
import dev.memcrypt.kernel.keys.mktme.ProgramStatus;

/**
 * The mktme key type's PCONFIG over the machine model: builds the MKTME_KEY_PROGRAM structure and
 * executes PCONFIG leaf 0 on the given core (at CPL 0). Used by {@link MmKernel#boot} until the
 * key service's own hardware-backed boot lands.
 */
final class MachinePconfig implements KeyTableProgrammer {
    private final Machine m;

    MachinePconfig(Machine m) {
        this.m = m;
    }

    @Override
    public ProgramStatus program(int cpu, KeyProgram p) {
        Core c = m.core(cpu);
        int saved = c.cpl();
        c.setCpl(0);
        try {
            PconfigCommand cmd = PconfigCommand.values()[Math.min(p.command(), 3)];
            byte[] f1 = p.field1().clone(), f2 = p.field2().clone();
            PconfigResult r = p.command() > 3
                    ? c.pconfig(dev.memcrypt.hw.cpu.KeyProgram.build(p.keyId(), p.command(), p.algorithms(), 0, f1, f2))
                    : c.pconfig(p.keyId(), cmd, p.algorithms(), f1, f2);
            java.util.Arrays.fill(f1, (byte) 0);
            java.util.Arrays.fill(f2, (byte) 0);
            return ProgramStatus.ofCode((int) r.rax());
        } finally {
            c.setCpl(saved);
        }
    }
}
