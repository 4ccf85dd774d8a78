package dev.memcrypt.hw.cpu;

import dev.memcrypt.util.Outcome;

/** #UD: the instruction is not enumerated or not allowed here (e.g. PCONFIG at CPL &gt; 0). */
public final class InvalidOpcodeFault extends RuntimeException implements Outcome {
    public InvalidOpcodeFault(String reason) {
        super("#UD: " + reason, null, false, false);
    }

    @Override
    public String outcomeName() {
        return "#UD";
    }
}
