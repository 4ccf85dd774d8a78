package dev.memcrypt.hw.cpu;

/**
 * A VM exit raised by an instruction executed in VMX non-root operation (Intel SDM Vol. 3C ch. 26
 * and Appendix C "VMX Basic Exit Reasons"). The hypervisor model catches it, handles the exit and
 * resumes the guest; the instruction has had no architectural effect.
 */
public final class VmExit extends RuntimeException {
    // ---- basic exit reasons (SDM Vol. 3D Appendix C)
    public static final int CPUID = 10;
    public static final int HLT = 12;
    public static final int VMCALL = 18;
    public static final int VMLAUNCH = 20;
    public static final int CR_ACCESS = 28;
    public static final int RDMSR = 31;
    public static final int WRMSR = 32;
    public static final int EPT_VIOLATION = 48;
    public static final int EPT_MISCONFIG = 49;
    /** LOADIWKEY with the "LOADIWKEY exiting" tertiary control set (SPEC-FACTS §3, seed 002). */
    public static final int LOADIWKEY = 69;

    private final int reason;
    private final long qualification;

    public VmExit(int reason, long qualification, String what) {
        super("VM exit " + reason + ": " + what, null, false, false);
        this.reason = reason;
        this.qualification = qualification;
    }

    public int reason() {
        return reason;
    }

    /** Exit qualification (e.g. the MSR index, or the guest-physical address of an EPT violation). */
    public long qualification() {
        return qualification;
    }

    /** Names of the exit reasons the model raises, for traces. */
    public static String name(int reason) {
        return switch (reason) {
            case CPUID -> "CPUID";
            case HLT -> "HLT";
            case VMCALL -> "VMCALL";
            case VMLAUNCH -> "VMLAUNCH";
            case CR_ACCESS -> "CR_ACCESS";
            case RDMSR -> "MSR_READ";
            case WRMSR -> "MSR_WRITE";
            case EPT_VIOLATION -> "EPT_VIOLATION";
            case EPT_MISCONFIG -> "EPT_MISCONFIG";
            case LOADIWKEY -> "LOADIWKEY";
            default -> "EXIT_" + reason;
        };
    }
}
