package dev.memcrypt.kernel.keys.mktme;

/**
 * What the mktme key type needs from the platform: execute PCONFIG(MKTME_KEY_PROGRAM) on a given
 * logical CPU, which programs the key table of that CPU's package. Implementations: the machine
 * model's PCONFIG ({@code MachinePconfig}), or {@link SoftPconfig} over plain key tables.
 */
public interface KeyTableProgrammer {
    /** Runs PCONFIG on {@code cpu} with {@code program}. Never retains the program's key fields. */
    ProgramStatus program(int cpu, KeyProgram program);
}
