package dev.memcrypt.hw.cpu;

import dev.memcrypt.util.Outcome;

/** PCONFIG MKTME_KEY_PROGRAM status codes returned in RAX (SPEC-FACTS §1). */
public enum PconfigStatus implements Outcome {
    SUCCESS(0),
    INVALID_PROG_CMD(1),
    /** Retryable. */
    ENTROPY_ERROR(2),
    INVALID_KEYID(3),
    INVALID_ENC_ALG(4),
    /** Key table lock busy; retryable. */
    DEVICE_BUSY(5);

    public final int code;

    PconfigStatus(int code) {
        this.code = code;
    }

    public static PconfigStatus of(long rax) {
        for (PconfigStatus s : values()) if (s.code == rax) return s;
        throw new IllegalArgumentException("no PCONFIG status " + rax);
    }

    @Override
    public String outcomeName() {
        return name();
    }
}
