package dev.memcrypt.kernel.keys.mktme;

import dev.memcrypt.util.Outcome;

/** PCONFIG MKTME_KEY_PROGRAM return codes (RAX; SPEC-FACTS §1). */
public enum ProgramStatus implements Outcome {
    SUCCESS(0, false),
    INVALID_PROG_CMD(1, false),
    ENTROPY_ERROR(2, true),
    INVALID_KEYID(3, false),
    INVALID_ENC_ALG(4, false),
    DEVICE_BUSY(5, true);

    private final int code;
    private final boolean retry;

    ProgramStatus(int code, boolean retry) {
        this.code = code;
        this.retry = retry;
    }

    public int code() {
        return code;
    }

    /** Whether the key service retries it (entropy error, device busy). */
    public boolean retryable() {
        return retry;
    }

    public static ProgramStatus ofCode(int code) {
        for (ProgramStatus s : values()) if (s.code == code) return s;
        throw new IllegalArgumentException("unknown PCONFIG status " + code);
    }

    @Override
    public String outcomeName() {
        return name();
    }
}
