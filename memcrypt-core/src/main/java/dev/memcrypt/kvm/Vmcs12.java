package dev.memcrypt.kvm;

import dev.memcrypt.hw.cpu.VmxNonRoot;
import java.util.function.LongPredicate;

/**
 * The controls an L1 hypervisor sets for its L2 guest (the parts of a VMCS12 the model uses; seed
 * 002 patches 10-15: tertiary controls in vmcs12, IA32_VMX_PROCBASED_CTLS3, nested LOADIWKEY exit).
 *
 * @param primaryControls  primary processor-based controls; bit 17 activates the tertiary controls
 * @param tertiaryControls bit 0 = LOADIWKEY exiting
 * @param msrExits         L1's MSR bitmap (true = L1 wants the exit), reads and writes alike
 * @param cr4Mask          CR4 bits L1 owns (a change by L2 exits to L1)
 */
public record Vmcs12(long primaryControls, long tertiaryControls, LongPredicate msrExits, long cr4Mask) {
    /** Primary processor-based control bit 17: activate tertiary controls (SDM Vol. 3C Table 25-6). */
    public static final long PRIMARY_ACTIVATE_TERTIARY = 1L << 17;

    /** L1 sets LOADIWKEY exiting for L2 (and intercepts every MSR). */
    public static Vmcs12 loadiwkeyExiting() {
        return new Vmcs12(PRIMARY_ACTIVATE_TERTIARY, VmxNonRoot.TERTIARY_LOADIWKEY_EXITING, m -> true, 0);
    }

    /** L1 leaves LOADIWKEY to the hardware (L0 emulates it for the shared vCPU). */
    public static Vmcs12 noLoadiwkeyExiting() {
        return new Vmcs12(0, 0, m -> true, 0);
    }

    public boolean wantsLoadiwkeyExit() {
        return (primaryControls & PRIMARY_ACTIVATE_TERTIARY) != 0 && (tertiaryControls & VmxNonRoot.TERTIARY_LOADIWKEY_EXITING) != 0;
    }
}
