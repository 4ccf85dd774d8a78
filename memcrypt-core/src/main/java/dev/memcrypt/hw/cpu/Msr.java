package dev.memcrypt.hw.cpu;

/**
 * One model-specific register. {@link #read} has no side effects; {@link #write} validates the
 * value and throws {@link GeneralProtectionFault} exactly where the architecture does.
 */
public interface Msr {
    int address();

    String name();

    long read(Core core);

    void write(Core core, long value);
}
