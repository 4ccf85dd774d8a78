package dev.memcrypt.kernel.boot;

import dev.memcrypt.util.Outcome;

/** How an SME boot ended (an expected outcome, so a value, not an exception). */
public enum SmeBootStatus implements Outcome {
    /** Kernel and initrd were encrypted in place; the kernel runs with the C-bit in its mappings. */
    ENCRYPTED,
    /** mem_encrypt=off: nothing encrypted, the kernel runs without the C-bit. */
    NOT_REQUESTED,
    /** SME not usable: not enumerated, SYSCFG[MemEncryptionModEn] clear, or running under a hypervisor. */
    SME_UNAVAILABLE,
    /** sme_encrypt_kernel refused before touching memory (the workarea cannot hold its page tables). */
    REFUSED;

    @Override
    public String outcomeName() {
        return name();
    }
}
