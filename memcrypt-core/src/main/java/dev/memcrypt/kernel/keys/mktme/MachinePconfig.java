package dev.memcrypt.kernel.keys.mktme;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;

/**
 * PCONFIG on the machine model: the kernel's MKTME_KEY_PROGRAM, built from {@link KeyProgram},
 * executed on the given core (which writes it to the core's scratch page and runs PCONFIG leaf 0).
 * The machine is single-threaded, so calls are serialized on it; the kernel's own retry loop still
 * sees DEVICE_BUSY when the hardware model reports it.
 */
public final class MachinePconfig implements KeyTableProgrammer {
    private final Machine machine;

    public MachinePconfig(Machine machine) {
        this.machine = machine;
    }

    @Override
    public ProgramStatus program(int cpu, KeyProgram p) {
        PconfigCommand cmd = switch (p.command()) {
            case KeyProgram.CMD_SET_KEY_DIRECT -> PconfigCommand.SET_KEY_DIRECT;
            case KeyProgram.CMD_SET_KEY_RANDOM -> PconfigCommand.SET_KEY_RANDOM;
            case KeyProgram.CMD_CLEAR_KEY -> PconfigCommand.CLEAR_KEY;
            case KeyProgram.CMD_NO_ENCRYPT -> PconfigCommand.NO_ENCRYPT;
            default -> null;
        };
        if (cmd == null) return ProgramStatus.INVALID_PROG_CMD;
        PconfigResult r;
        synchronized (machine) {
            r = machine.core(cpu).pconfig(p.keyId(), cmd, p.algorithms(), p.field1(), p.field2());
        }
        return ProgramStatus.ofCode(r.status().code);
    }
}
