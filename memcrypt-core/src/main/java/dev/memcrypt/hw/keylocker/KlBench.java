package dev.memcrypt.hw.keylocker;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.XmmFile;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * Speed of the Key Locker model (issue 7 "Speed"; SPEC-FACTS §3: real AES-KL XTS is 2x-5x slower
 * than AES-NI XTS). Measures, on one model core:
 * <ul>
 *   <li>AESENC128KL per block vs one JDK AES block (the plain AES engine);</li>
 *   <li>AESENCWIDE128KL per block vs JDK AES on 128 bytes;</li>
 *   <li>XTS-AES-128 over 4 KiB units, as the kernel's xts-aes-aeskl runs it ({@link KeyLockerUnit#xts128},
 *       the speed-only composite) and instruction by instruction, vs {@link XtsEngine#best()};</li>
 *   <li>a vCPU switch that reloads the IWKey (hypervisor LOADIWKEY on vCPU load) followed by the
 *       guest's first AESENC128KL, which must re-authenticate its handle.</li>
 * </ul>
 * Entry point for {@code memcrypt bench kl}: {@link #run()} and {@link Report#toString()}.
 * Timing is wall-clock over a fixed duration per case after a warm-up; no assertions.
 */
public final class KlBench {
    private KlBench() {}

    /** One measured case: nanoseconds per operation and bytes per operation. */
    public record Case(String name, double nsPerOp, int bytesPerOp) {
        public double mbPerS() {
            return bytesPerOp == 0 ? 0 : bytesPerOp / nsPerOp * 1e3;
        }
    }

    /** The results; ratios are model time / plain time (how many times slower AES-KL is). */
    public record Report(List<Case> cases, double blockRatio, double wideRatio, double xtsRatio, double xtsInstructionRatio, double vcpuSwitchNs,
            double iwKeyReloadNs) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("Key Locker model speed (one core)\n");
            for (Case c : cases) {
                sb.append(String.format(Locale.ROOT, "  %-34s %10.1f ns/op%s%n", c.name, c.nsPerOp,
                        c.bytesPerOp == 0 ? "" : String.format(Locale.ROOT, " %9.1f MB/s", c.mbPerS())));
            }
            sb.append(String.format(Locale.ROOT, "  AESENC128KL vs AES block:      %.2fx slower%n", blockRatio));
            sb.append(String.format(Locale.ROOT, "  AESENCWIDE128KL vs AES:        %.2fx slower%n", wideRatio));
            sb.append(String.format(Locale.ROOT, "  AES-KL XTS vs XTS engine:      %.2fx slower (real hardware: 2x-5x)%n", xtsRatio));
            sb.append(String.format(Locale.ROOT, "  ... instruction by instruction: %.2fx slower%n", xtsInstructionRatio));
            sb.append(String.format(Locale.ROOT, "  vCPU switch reloading IWKey:   %.0f ns (IWKey reload alone %.0f ns; ACRN measured ~600 cycles)%n", vcpuSwitchNs, iwKeyReloadNs));
            return sb.toString();
        }
    }

    public static Report run() {
        return run(Duration.ofMillis(300));
    }

    public static Report run(Duration perCase) {
        long budget = perCase.toNanos();
        Machine m = Machine.powerOn(MachineConfig.defaults().with("dram", "16M").with("l1", "4K").with("llc", "64K").with("keylocker", "true").with("seed", "7"));
        Core c = m.core(0);
        KeyLockerUnit u = c.keyLocker();
        XmmFile x = c.xmm();
        SplittableRandom r = new SplittableRandom(1);
        byte[] key = bytes(r, 16);
        c.writeCr4(Core.CR4_KL);
        loadKey(c, bytes(r, 16), bytes(r, 32));
        byte[] h = encode(c, key);
        Cipher aes = jdk(key);
        List<Case> cases = new ArrayList<>();

        byte[] blk = bytes(r, 16);
        Case kl1 = time("AESENC128KL (1 block)", 16, budget, () -> u.aesenc128kl(3, h));
        Case aes1 = time("JDK AES (1 block)", 16, budget, () -> {
            try {
                aes.doFinal(blk, 0, 16, blk, 0);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
        Case klw = time("AESENCWIDE128KL (8 blocks)", 128, budget, () -> u.aesencwide128kl(h));
        byte[] b8 = bytes(r, 128);
        Case aesw = time("JDK AES (8 blocks)", 128, budget, () -> {
            try {
                aes.doFinal(b8, 0, 128, b8, 0);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });

        byte[] k2 = bytes(r, 16);
        byte[] th = encode(c, k2);
        byte[] unit = bytes(r, 4096), out = new byte[4096], iv = new byte[16];
        Case kli = time("AES-KL XTS-128 by instruction (4 KiB)", 4096, budget, () -> klXts(u, x, h, th, iv, unit, out));
        Case klx = time("AES-KL XTS-128 kernel path (4 KiB)", 4096, budget, () -> u.xts128(true, h, th, iv, unit, 0, 4096, out, 0));
        byte[] both = new byte[32];
        System.arraycopy(key, 0, both, 0, 16);
        System.arraycopy(k2, 0, both, 16, 16);
        XtsKey xk = XtsKey.of(both);
        XtsEngine eng = XtsEngine.best();
        Case plx = time("XTS engine " + eng.name() + " (4 KiB)", 4096, budget, () -> eng.encrypt(xk, iv, unit, 0, 4096, out, 0));

        // vCPU switch: two vCPUs with their own IWKeys alternate on the core
        IwKey[] vcpu = new IwKey[2];
        byte[][] vh = new byte[2][];
        for (int i = 0; i < 2; i++) {
            loadKey(c, bytes(r, 16), bytes(r, 32));
            vh[i] = encode(c, bytes(r, 16));
            x.set(0, bytes(r, 16));
            x.set(1, bytes(r, 16));
            x.set(2, bytes(r, 16));
            vcpu[i] = KeyLockerUnit.captureOperands(x, 2, 1, false);
            u.vmmLoad(vcpu[i]);
            vh[i] = encode(c, bytes(r, 16));
        }
        int[] turn = {0};
        Case sw = time("vCPU switch + first AESENC128KL", 0, budget, () -> {
            int t = turn[0] ^= 1;
            u.vmmLoad(vcpu[t]);
            if (!u.aesenc128kl(3, vh[t])) throw new IllegalStateException("vCPU handle refused");
        });
        Case reload = time("IWKey reload alone (vmmLoad)", 0, budget, () -> u.vmmLoad(vcpu[turn[0] ^= 1]));
        xk.destroy();
        for (IwKey k : vcpu) k.destroy();

        cases.addAll(List.of(kl1, aes1, klw, aesw, kli, klx, plx, sw, reload));
        return new Report(cases, kl1.nsPerOp / aes1.nsPerOp, klw.nsPerOp / aesw.nsPerOp, klx.nsPerOp / plx.nsPerOp,
                kli.nsPerOp / plx.nsPerOp, sw.nsPerOp, reload.nsPerOp);
    }

    private static final java.lang.invoke.VarHandle LE = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** XTS-AES-128 of one 4 KiB unit on AESENC128KL (tweak) and AESENCWIDE128KL (data), as the kernel's instruction-level path. */
    private static void klXts(KeyLockerUnit u, XmmFile x, byte[] h, byte[] th, byte[] iv, byte[] in, byte[] out) {
        System.arraycopy(iv, 0, x.raw(8), 0, 16);
        u.aesenc128kl(8, th);
        long tLo = (long) LE.get(x.raw(8), 0), tHi = (long) LE.get(x.raw(8), 8);
        long[] tw = new long[16];
        for (int b = 0; b < in.length / 16; b += 8) {
            for (int i = 0; i < 8; i++) {
                tw[2 * i] = tLo;
                tw[2 * i + 1] = tHi;
                byte[] reg = x.raw(i);
                LE.set(reg, 0, (long) LE.get(in, 16 * (b + i)) ^ tLo);
                LE.set(reg, 8, (long) LE.get(in, 16 * (b + i) + 8) ^ tHi);
                long carry = tHi >> 63;
                tHi = tHi << 1 | tLo >>> 63;
                tLo = tLo << 1 ^ (carry & 0x87);
            }
            u.aesencwide128kl(h);
            for (int i = 0; i < 8; i++) {
                byte[] reg = x.raw(i);
                LE.set(out, 16 * (b + i), (long) LE.get(reg, 0) ^ tw[2 * i]);
                LE.set(out, 16 * (b + i) + 8, (long) LE.get(reg, 8) ^ tw[2 * i + 1]);
            }
        }
    }

    private static Case time(String name, int bytes, long budgetNs, Runnable op) {
        long warm = System.nanoTime() + budgetNs / 3;
        while (System.nanoTime() < warm) for (int i = 0; i < 64; i++) op.run();
        long n = 0, t0 = System.nanoTime(), t1;
        do {
            for (int i = 0; i < 64; i++) op.run();
            n += 64;
            t1 = System.nanoTime();
        } while (t1 - t0 < budgetNs);
        return new Case(name, (double) (t1 - t0) / n, bytes);
    }

    private static void loadKey(Core c, byte[] ik, byte[] ek) {
        XmmFile x = c.xmm();
        x.set(0, ik);
        x.set(1, java.util.Arrays.copyOfRange(ek, 0, 16));
        x.set(2, java.util.Arrays.copyOfRange(ek, 16, 32));
        c.keyLocker().loadiwkey(2, 1, 0);
    }

    private static byte[] encode(Core c, byte[] key) {
        c.xmm().set(0, key);
        c.keyLocker().encodekey128(0);
        byte[] h = new byte[48];
        for (int i = 0; i < 3; i++) System.arraycopy(c.xmm().raw(i), 0, h, 16 * i, 16);
        return h;
    }

    private static Cipher jdk(byte[] key) {
        try {
            Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** {@code java ... dev.memcrypt.hw.keylocker.KlBench [millis-per-case]}. */
    public static void main(String[] args) {
        System.out.print(run(Duration.ofMillis(args.length > 0 ? Long.parseLong(args[0]) : 300)));
    }
}
