package dev.memcrypt.kvm;

import dev.memcrypt.hw.cpu.VmExit;

/**
 * One VM exit in the trace.
 *
 * @param seq           order in the hypervisor's trace
 * @param vm            VM name
 * @param vcpu          vCPU index
 * @param level         2 when the exit came from a nested (L2) guest, else 1
 * @param reason        basic exit reason (SDM Appendix C)
 * @param qualification exit qualification (MSR index, guest-physical address, ...)
 * @param handledBy     "L0" (this hypervisor) or "L1" (reflected to the guest hypervisor)
 * @param pcpu          physical core the vCPU ran on
 */
public record ExitRecord(long seq, String vm, int vcpu, int level, int reason, long qualification, String handledBy, int pcpu) {
    public String reasonName() {
        return VmExit.name(reason);
    }

    @Override
    public String toString() {
        return String.format("#%d %s/vcpu%d L%d cpu%d exit %d %s qual=0x%x -> %s", seq, vm, vcpu, level, pcpu, reason, reasonName(), qualification, handledBy);
    }
}
