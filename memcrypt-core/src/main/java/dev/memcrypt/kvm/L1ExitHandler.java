package dev.memcrypt.kvm;

/**
 * An L1 hypervisor's handler for exits of its L2 guest that L0 reflects to it. It runs as L1
 * code ({@code l1}) and returns the value the L2 instruction completes with (e.g. Boolean for
 * LOADIWKEY, Long for RDMSR, a CpuidResult for CPUID, null for WRMSR), or throws a fault to
 * inject into L2.
 */
@FunctionalInterface
public interface L1ExitHandler {
    Object handle(GuestCpu l1, L2Exit exit);

    /** An exit of L2 as L1 sees it: reason, qualification, and the instruction's operands. */
    record L2Exit(int reason, long qualification, long[] operands) {}
}
