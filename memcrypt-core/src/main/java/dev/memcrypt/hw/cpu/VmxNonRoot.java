package dev.memcrypt.hw.cpu;

import java.util.function.LongPredicate;

/**
 * The execution controls a core obeys while in VMX non-root operation (Intel SDM Vol. 3C §25.6):
 * just the ones the model needs. A hypervisor builds one per VM entry ({@link Core#vmEnter}).
 *
 * @param tertiaryControls tertiary processor-based VM-execution controls; bit 0 = LOADIWKEY exiting
 *                         (SDM Vol. 3C Table 25-8; activated by primary control bit 17)
 * @param rdmsrExits       MSR bitmap for reads: true = RDMSR of that MSR exits (reason 31)
 * @param wrmsrExits       MSR bitmap for writes: true = WRMSR of that MSR exits (reason 32)
 * @param cr4Exits         CR4 guest/host mask: bits a guest write may not change without an exit (reason 28)
 */
public record VmxNonRoot(long tertiaryControls, LongPredicate rdmsrExits, LongPredicate wrmsrExits, long cr4Exits) {
    /** Tertiary control bit 0: LOADIWKEY exiting. */
    public static final long TERTIARY_LOADIWKEY_EXITING = 1L;

    public boolean loadiwkeyExiting() {
        return (tertiaryControls & TERTIARY_LOADIWKEY_EXITING) != 0;
    }
}
