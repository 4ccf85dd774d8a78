package dev.memcrypt.hw.cpu;

import dev.memcrypt.util.Hex;
import java.util.Arrays;

/**
 * XMM0..XMM15 of one core, each a 16-byte array in memory order (byte 0 = bits 7:0, as MOVDQU
 * stores it). Architectural state; {@link #get}/{@link #set} copy, {@link #raw} is for
 * instruction implementations in hw that read and write registers in place.
 */
public final class XmmFile {
    public static final int COUNT = 16;
    private final byte[][] regs = new byte[COUNT][16];

    public byte[] get(int i) {
        return reg(i).clone();
    }

    public void set(int i, byte[] v16) {
        if (v16 == null || v16.length != 16) throw new IllegalArgumentException("XMM value must be 16 bytes, got " + (v16 == null ? "null" : v16.length));
        System.arraycopy(v16, 0, reg(i), 0, 16);
    }

    /** Register {@code i} itself (no copy), for instruction implementations. */
    public byte[] raw(int i) {
        return reg(i);
    }

    public void zero(int i) {
        Arrays.fill(reg(i), (byte) 0);
    }

    /** Zeroes every register (reset, power loss, scrubbing a vCPU's state). */
    public void clear() {
        for (byte[] r : regs) Arrays.fill(r, (byte) 0);
    }

    /** Copies all registers from {@code o} (a hypervisor's FPU state switch). */
    public void copyFrom(XmmFile o) {
        for (int i = 0; i < COUNT; i++) System.arraycopy(o.regs[i], 0, regs[i], 0, 16);
    }

    private byte[] reg(int i) {
        if (i < 0 || i >= COUNT) throw new IllegalArgumentException("no XMM" + i + " (0..15)");
        return regs[i];
    }

    /** Hex of one register in memory order. */
    public String hex(int i) {
        return Hex.of(reg(i));
    }

    @Override
    public String toString() {
        return "XmmFile[16 registers]";
    }
}
