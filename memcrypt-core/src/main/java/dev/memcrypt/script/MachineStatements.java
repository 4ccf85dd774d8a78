package dev.memcrypt.script;

/** The hardware statements of issue 3 (cpuid, rdmsr, wrmsr, pconfig, pstore, pload, ...). */
final class MachineStatements {
    private MachineStatements() {}

    static void register(StatementRegistry r) {}
}
