package dev.memcrypt.hw.cpu;

import dev.memcrypt.util.Outcome;

/** #GP(0): an architectural general-protection fault (bad WRMSR value, PCONFIG operand, ...). */
public final class GeneralProtectionFault extends RuntimeException implements Outcome {
    public GeneralProtectionFault(String reason) {
        super("#GP(0): " + reason, null, false, false);
    }

    @Override
    public String outcomeName() {
        return "#GP";
    }
}
