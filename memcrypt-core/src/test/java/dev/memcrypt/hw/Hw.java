package dev.memcrypt.hw;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;

/** Test helpers: machines from option strings, keys, programming. */
public final class Hw {
    private Hw() {}

    /** A machine from the defaults changed by "key=value" options; small caches keep tests quick. */
    public static Machine machine(String... opts) {
        MachineConfig c = MachineConfig.defaults().with("l1", "4K").with("llc", "64K").with("dram", "64M");
        for (String o : opts) {
            int i = o.indexOf('=');
            c = c.with(o.substring(0, i), o.substring(i + 1));
        }
        return Machine.powerOn(c);
    }

    public static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (seed * 31 + i * 7 + 1);
        return b;
    }

    public static byte[] key16(int seed) {
        return bytes(16, seed);
    }

    public static PconfigResult direct(Machine m, int cpu, int keyId, byte[] k1, byte[] k2) {
        return m.core(cpu).pconfig(keyId, PconfigCommand.SET_KEY_DIRECT, KeyProgram.ALG_AES_XTS_128, k1, k2);
    }

    /** Programs {@code keyId} with a direct key on every package (as the kernel must). */
    public static void directAll(Machine m, int keyId, byte[] k1, byte[] k2) {
        for (var p : m.packages()) {
            var c = p.cores().stream().filter(x -> x.online()).findFirst().orElseThrow();
            PconfigResult r = c.pconfig(keyId, PconfigCommand.SET_KEY_DIRECT, KeyProgram.ALG_AES_XTS_128, k1, k2);
            if (!r.ok()) throw new AssertionError("PCONFIG failed: " + r);
        }
    }

    /** SPEC-FACTS tweak, computed independently of LineTweak: PA as a 128-bit little-endian integer. */
    public static byte[] specTweak(long pa) {
        byte[] t = new byte[16];
        for (int i = 0; i < 8; i++) t[i] = (byte) (pa >>> (8 * i));
        return t;
    }

    public static XtsEngine ref() {
        return XtsEngine.java();
    }
}
