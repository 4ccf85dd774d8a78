package dev.memcrypt.kernel.mm;

import dev.memcrypt.util.Outcome;

/** A user access the kernel cannot satisfy: SIGSEGV (no VMA, or the VMA forbids it) or SIGBUS (beyond a file's end). */
public final class SegvException extends RuntimeException implements Outcome {
    private final String signal;
    private final long address;

    public SegvException(String signal, long address, String reason) {
        super(String.format("%s at 0x%x: %s", signal, address, reason), null, false, false);
        this.signal = signal;
        this.address = address;
    }

    public long address() {
        return address;
    }

    @Override
    public String outcomeName() {
        return signal;
    }
}
