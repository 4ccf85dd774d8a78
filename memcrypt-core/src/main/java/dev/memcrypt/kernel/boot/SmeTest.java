package dev.memcrypt.kernel.boot;

import java.util.Locale;

/**
 * Deliberate mistakes in the in-place encryption, selectable with the boot option
 * {@code sme_test=...}, each showing what the corresponding step of sme_encrypt_kernel protects
 * against (seed 004, SPEC-FACTS §4).
 */
public enum SmeTest {
    /** The real sequence. */
    NONE,
    /** The routine does not WBINVD after loading the new CR3: dirty plaintext lines of the loaded image stay cached under the decrypted alias and are written back over the ciphertext later. */
    SKIP_WBINVD,
    /**
     * No intermediate buffer and no separate plaintext source: each chunk is read and written back
     * through the encrypted mapping of the same frames. The read decrypts plaintext (garbage), the
     * write-back encrypts the garbage back to the same plaintext: DRAM stays plaintext and the
     * kernel reads garbage.
     */
    NO_BUFFER,
    /** The routine writes the chunk back through the decrypted, write-protected mapping: #PF. */
    WRITE_DECRYPTED,
    /** Only one page of room after the executable part of the workarea: the boot refuses before touching memory. */
    SMALL_WORKAREA;

    /** The option spelling: lower case, e.g. {@code skip_wbinvd}. */
    public String option() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SmeTest parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT).replace('-', '_');
        for (SmeTest t : values()) if (t.option().equals(v)) return t;
        throw new IllegalArgumentException("sme_test=" + s + " is not one of none|skip_wbinvd|no_buffer|write_decrypted|small_workarea");
    }
}
