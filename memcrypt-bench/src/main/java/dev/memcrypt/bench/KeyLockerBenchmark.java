package dev.memcrypt.bench;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.keylocker.IwKey;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Key Locker model speed under JMH (the {@code memcrypt bench kl} cases, see
 * dev.memcrypt.hw.keylocker.KlBench): AES-KL instructions against JDK AES, the kernel's AES-KL XTS
 * path against the XTS engine on 4 KiB units, and a vCPU switch that reloads the IWKey.
 * Run: {@code ./mvnw -q -pl memcrypt-bench -am package -DskipTests && java -jar memcrypt-bench/target/benchmarks.jar KeyLocker}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
public class KeyLockerBenchmark {
    private KeyLockerUnit u;
    private byte[] handle, tweakHandle, block, eight, unit, out, iv;
    private Cipher aes;
    private XtsEngine engine;
    private XtsKey xtsKey;
    private IwKey[] vcpu;
    private byte[][] vcpuHandle;
    private int turn;
    private dev.memcrypt.kvm.Vm[] vms;
    private byte[][] vmHandle;

    @Setup
    public void setup() throws Exception {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("dram", "16M").with("l1", "4K").with("llc", "64K").with("keylocker", "true"));
        Core c = m.core(0);
        u = c.keyLocker();
        SplittableRandom r = new SplittableRandom(1);
        c.writeCr4(Core.CR4_KL);
        load(c, r);
        byte[] k1 = bytes(r, 16), k2 = bytes(r, 16);
        handle = encode(c, k1);
        tweakHandle = encode(c, k2);
        aes = Cipher.getInstance("AES/ECB/NoPadding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k1, "AES"));
        byte[] both = Arrays.copyOf(k1, 32);
        System.arraycopy(k2, 0, both, 16, 16);
        xtsKey = XtsKey.of(both);
        engine = m.engine();
        block = bytes(r, 16);
        eight = bytes(r, 128);
        unit = bytes(r, 4096);
        out = new byte[4096];
        iv = new byte[16];
        vcpu = new IwKey[2];
        vcpuHandle = new byte[2][];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) c.xmm().set(j, bytes(r, 16));
            vcpu[i] = KeyLockerUnit.captureOperands(c.xmm(), 2, 1, false);
            u.vmmLoad(vcpu[i]);
            vcpuHandle[i] = encode(c, bytes(r, 16));
        }
        u.vmmLoad(null);
        // two VMs under the KVM model, alternating on cpu 1
        dev.memcrypt.kvm.Kvm kvm = dev.memcrypt.kvm.Kvm.create(m); // boots a host kernel that leaves Key Locker to guests
        vms = new dev.memcrypt.kvm.Vm[2];
        vmHandle = new byte[2][];
        for (int i = 0; i < 2; i++) {
            vms[i] = kvm.createVm("vm" + i, 1 << 16, 1, dev.memcrypt.kvm.Kvm.VmOptions.defaults());
            int vi = i;
            vms[i].vcpu(0).run(1, g -> {
                g.writeCr4(g.cr4() | Core.CR4_KL);
                for (int j = 0; j < 3; j++) g.xmm().set(j, bytes(r, 16));
                g.loadiwkey(2, 1, 0);
                g.xmm().set(0, bytes(r, 16));
                g.encodekey128(0);
                vmHandle[vi] = g.handleFromXmm(0);
            });
        }
        load(c, r);
        handle = encode(c, k1);
        tweakHandle = encode(c, k2);
    }

    private static void load(Core c, SplittableRandom r) {
        for (int j = 0; j < 3; j++) c.xmm().set(j, bytes(r, 16));
        c.keyLocker().loadiwkey(2, 1, 0);
    }

    private static byte[] encode(Core c, byte[] key) {
        c.xmm().set(0, key);
        c.keyLocker().encodekey128(0);
        byte[] h = new byte[48];
        for (int i = 0; i < 3; i++) System.arraycopy(c.xmm().get(i), 0, h, 16 * i, 16);
        return h;
    }

    private static byte[] bytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @Benchmark
    public boolean aesenc128kl() {
        return u.aesenc128kl(3, handle);
    }

    @Benchmark
    public byte[] jdkAesBlock() throws Exception {
        aes.doFinal(block, 0, 16, block, 0);
        return block;
    }

    @Benchmark
    public boolean aesencwide128kl() {
        return u.aesencwide128kl(handle);
    }

    @Benchmark
    public byte[] jdkAes8Blocks() throws Exception {
        aes.doFinal(eight, 0, 128, eight, 0);
        return eight;
    }

    @Benchmark
    public boolean aesklXts4k() {
        return u.xts128(true, handle, tweakHandle, iv, unit, 0, 4096, out, 0);
    }

    @Benchmark
    public byte[] engineXts4k() {
        engine.encrypt(xtsKey, iv, unit, 0, 4096, out, 0);
        return out;
    }

    /** A KVM vCPU switch on one core (vcpu_put of one VM, vcpu_load of the other) and one guest AESENC128KL. */
    @Benchmark
    public boolean kvmVcpuSwitch() {
        int t = turn ^= 1;
        boolean[] ok = new boolean[1];
        vms[t].vcpu(0).run(1, g -> ok[0] = g.aesenc128kl(3, vmHandle[t]));
        return ok[0];
    }

    /** A vCPU switch: the hypervisor reloads the other vCPU's IWKey, whose guest then runs AESENC128KL. */
    @Benchmark
    public boolean vcpuSwitchReloadingIwKey() {
        int t = turn ^= 1;
        u.vmmLoad(vcpu[t]);
        return u.aesenc128kl(3, vcpuHandle[t]);
    }
}
