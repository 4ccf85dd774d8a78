package dev.memcrypt.kernel.keylocker;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.XmmFile;
import dev.memcrypt.hw.keylocker.Handle;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import java.util.Arrays;
import javax.security.auth.Destroyable;

/**
 * XTS-AES (IEEE 1619) built on the Key Locker instructions, after Linux's xts-aes-aeskl
 * (intel-staging/keylocker arch/x86/crypto/aeskl_glue.c, aeskl-xts-x86_64.S): {@link #setKey}
 * turns the data key and the tweak key into two CPL0-only handles with ENCODEKEY and forgets the
 * key; afterwards the key exists only as handles. The tweak is AESENC*KL(IV) with the tweak handle;
 * data goes through AESENCWIDE*KL/AESDECWIDE*KL eight blocks at a time (single-block forms for the
 * rest), each block XORed with its tweak before and after, the tweak multiplied by alpha.
 *
 * <p>Runs as kernel code on a given CPU: it switches that core to CPL 0 and saves and restores
 * its XMM registers around the work (kernel_fpu_begin/end). Results are errno values: 0, -EINVAL
 * when a handle is refused (the IWKey is not the one the handles were made under, e.g. after a
 * reboot or on a CPU that did not restore it), -ENODEV when Key Locker is disabled or not set up on that CPU. Data lengths
 * are whole blocks (sectors); ciphertext stealing is not needed by the block device.
 */
public final class AesKlXts implements Destroyable {
    private static final java.lang.invoke.VarHandle LE = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    public static final int EINVAL = 22;
    public static final int ENODEV = 19;

    private final KernelKeyLocker kl;
    private final boolean aes256;
    private final byte[] dataHandle; // 48 or 64 bytes, no key material in the clear
    private final byte[] tweakHandle;
    private boolean wide;
    private boolean instructionLevel;
    private volatile boolean destroyed;

    private AesKlXts(KernelKeyLocker kl, boolean aes256, byte[] dataHandle, byte[] tweakHandle, boolean wide) {
        this.kl = kl;
        this.aes256 = aes256;
        this.dataHandle = dataHandle;
        this.tweakHandle = tweakHandle;
        this.wide = wide;
    }

    /**
     * xts_setkey: {@code key} is data key || tweak key, 32 bytes (XTS-AES-128) or 64 (XTS-AES-256).
     * The array is wiped. Throws IllegalStateException when Key Locker is disabled (-ENODEV in Linux).
     */
    public static AesKlXts setKey(KernelKeyLocker kl, int cpu, byte[] key) {
        if (key == null || (key.length != 32 && key.length != 64)) {
            throw new IllegalArgumentException("XTS key must be 32 or 64 bytes, got " + (key == null ? "null" : key.length));
        }
        try {
            if (!kl.enabled()) throw new IllegalStateException("Key Locker disabled (ENODEV)");
            Core c = kl.machine().core(cpu);
            boolean aes256 = key.length == 64;
            int half = key.length / 2;
            XmmFile saved = new XmmFile();
            saved.copyFrom(c.xmm());
            int cpl = c.cpl();
            c.setCpl(0);
            try {
                byte[] d = encode(c, key, 0, half);
                byte[] t = encode(c, key, half, half);
                boolean wide = (c.cpuid(KeyLockerUnit.CPUID_LEAF, 0).ebx() & KeyLockerUnit.EBX_WIDE) != 0;
                return new AesKlXts(kl, aes256, d, t, wide);
            } finally {
                c.xmm().copyFrom(saved);
                saved.clear();
                c.setCpl(cpl);
            }
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static byte[] encode(Core c, byte[] key, int off, int len) {
        XmmFile x = c.xmm();
        x.set(0, Arrays.copyOfRange(key, off, off + 16));
        if (len == 32) {
            x.set(1, Arrays.copyOfRange(key, off + 16, off + 32));
            c.keyLocker().encodekey256(Handle.R_CPL0);
        } else {
            c.keyLocker().encodekey128(Handle.R_CPL0);
        }
        int regs = len == 32 ? 4 : 3;
        byte[] h = new byte[16 * regs];
        for (int i = 0; i < regs; i++) System.arraycopy(x.raw(i), 0, h, 16 * i, 16);
        return h;
    }

    /** The two handles (data, tweak): what an attacker reading kernel memory could steal. */
    public byte[][] handles() {
        return new byte[][] {dataHandle.clone(), tweakHandle.clone()};
    }

    public boolean aes256() {
        return aes256;
    }

    /** Uses single-block instructions only (as on a part without the wide forms). */
    public void disableWide() {
        wide = false;
    }

    /**
     * Runs every AES*KL instruction one by one (true) instead of the core's speed-only XTS
     * composite (false, the default for XTS-AES-128 with wide instructions). Both give the same
     * results; tests run both.
     */
    public void setInstructionLevel(boolean on) {
        instructionLevel = on;
    }

    public int encrypt(int cpu, byte[] iv16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        return crypt(true, cpu, iv16, in, inOff, len, out, outOff);
    }

    public int decrypt(int cpu, byte[] iv16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        return crypt(false, cpu, iv16, in, inOff, len, out, outOff);
    }

    private int crypt(boolean enc, int cpu, byte[] iv16, byte[] in, int inOff, int len, byte[] out, int outOff) {
        if (destroyed) throw new IllegalStateException("AesKlXts used after destroy()");
        if (iv16 == null || iv16.length != 16) throw new IllegalArgumentException("XTS IV must be 16 bytes");
        if (len < 16 || len % 16 != 0) throw new IllegalArgumentException("XTS length must be a positive multiple of 16, got " + len);
        if (!kl.enabled()) return -ENODEV;
        Core c = kl.machine().core(cpu);
        if ((c.cr4() & Core.CR4_KL) == 0) return -ENODEV; // this CPU has not (re)initialised Key Locker
        KeyLockerUnit u = c.keyLocker();
        XmmFile x = c.xmm();
        XmmFile saved = new XmmFile();
        saved.copyFrom(x);
        int cpl = c.cpl();
        c.setCpl(0);
        try {
            if (!aes256 && wide && !instructionLevel) {
                return u.xts128(enc, dataHandle, tweakHandle, iv16, in, inOff, len, out, outOff) ? 0 : -EINVAL;
            }
            byte[] t = x.raw(0);
            System.arraycopy(iv16, 0, t, 0, 16);
            if (!(aes256 ? u.aesenc256kl(0, tweakHandle) : u.aesenc128kl(0, tweakHandle))) return -EINVAL;
            long tLo = (long) LE.get(t, 0), tHi = (long) LE.get(t, 8);
            long[] tw = new long[16];
            int n = len / 16, b = 0;
            if (wide) {
                for (; b + 8 <= n; b += 8) {
                    for (int i = 0; i < 8; i++) {
                        tw[2 * i] = tLo;
                        tw[2 * i + 1] = tHi;
                        byte[] reg = x.raw(i);
                        int off = inOff + 16 * (b + i);
                        LE.set(reg, 0, (long) LE.get(in, off) ^ tLo);
                        LE.set(reg, 8, (long) LE.get(in, off + 8) ^ tHi);
                        long carry = tHi >> 63; // multiply by alpha
                        tHi = tHi << 1 | tLo >>> 63;
                        tLo = tLo << 1 ^ (carry & 0x87);
                    }
                    boolean ok = enc ? (aes256 ? u.aesencwide256kl(dataHandle) : u.aesencwide128kl(dataHandle))
                            : (aes256 ? u.aesdecwide256kl(dataHandle) : u.aesdecwide128kl(dataHandle));
                    if (!ok) return -EINVAL;
                    for (int i = 0; i < 8; i++) {
                        byte[] reg = x.raw(i);
                        int off = outOff + 16 * (b + i);
                        LE.set(out, off, (long) LE.get(reg, 0) ^ tw[2 * i]);
                        LE.set(out, off + 8, (long) LE.get(reg, 8) ^ tw[2 * i + 1]);
                    }
                }
            }
            byte[] reg = x.raw(0);
            for (; b < n; b++) {
                int off = 16 * b;
                LE.set(reg, 0, (long) LE.get(in, inOff + off) ^ tLo);
                LE.set(reg, 8, (long) LE.get(in, inOff + off + 8) ^ tHi);
                boolean ok = enc ? (aes256 ? u.aesenc256kl(0, dataHandle) : u.aesenc128kl(0, dataHandle))
                        : (aes256 ? u.aesdec256kl(0, dataHandle) : u.aesdec128kl(0, dataHandle));
                if (!ok) return -EINVAL;
                LE.set(out, outOff + off, (long) LE.get(reg, 0) ^ tLo);
                LE.set(out, outOff + off + 8, (long) LE.get(reg, 8) ^ tHi);
                long carry = tHi >> 63;
                tHi = tHi << 1 | tLo >>> 63;
                tLo = tLo << 1 ^ (carry & 0x87);
            }
            return 0;
        } finally {
            x.copyFrom(saved); // kernel_fpu_end: the caller's registers back, no data left behind
            saved.clear();
            c.setCpl(cpl);
        }
    }

    /** Multiplies the little-endian tweak by alpha in GF(2^128) (IEEE 1619 §5.2). */
    static void mulAlpha(byte[] t) {
        int carry = 0;
        for (int i = 0; i < 16; i++) {
            int v = t[i] & 0xff;
            t[i] = (byte) (v << 1 | carry);
            carry = v >>> 7;
        }
        if (carry != 0) t[0] ^= (byte) 0x87;
    }

    @Override
    public void destroy() {
        destroyed = true;
        Arrays.fill(dataHandle, (byte) 0);
        Arrays.fill(tweakHandle, (byte) 0);
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "AesKlXts[" + (aes256 ? "xts-aes-256" : "xts-aes-128") + ", handles only]";
    }
}
