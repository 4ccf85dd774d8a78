package dev.memcrypt.bench;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.sme.SmePlatform;
import dev.memcrypt.kernel.boot.SmeBoot;
import dev.memcrypt.kernel.boot.SmeBootOptions;
import dev.memcrypt.kernel.boot.SmeBootResult;
import dev.memcrypt.kernel.boot.SmeBootStatus;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code memcrypt bench sme} under JMH: one operation = the kernel's SME boot path (sme_enable,
 * sme_encrypt_kernel of kernel and initrd, its own page tables) on a freshly loaded machine
 * (loading is in the per-invocation setup, not measured), against {@code xtsLinesSameBytes}: the
 * engine's encryptLines over the same number of bytes, 4 KiB per call. The bound:
 * smeBoot time &lt;= 3 x xtsLinesSameBytes time (for 64M + 32M).
 * Run: {@code ./mvnw -q -pl memcrypt-bench -am package -DskipTests && java -jar memcrypt-bench/target/benchmarks.jar SmeBoot}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx3g"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class SmeBootBenchmark {
    @Param({"64M"})
    public String kernel;

    @Param({"32M"})
    public String initrd;

    private SmeBoot.Loaded loaded;
    private XtsKey key;
    private byte[] page;
    private long bytes;

    static long size(String s) {
        return Long.parseLong(s.substring(0, s.length() - 1)) << 20;
    }

    @Setup(Level.Trial)
    public void trial() {
        byte[] k = new byte[32];
        for (int i = 0; i < 32; i++) k[i] = (byte) (i * 7 + 1);
        key = XtsKey.of(k);
        page = new byte[4096];
        bytes = (SmeBootBenchmarkSizes.align2m(size(kernel)) + SmeBootBenchmarkSizes.align2m(size(initrd)));
    }

    @Setup(Level.Invocation)
    public void load() {
        Machine m = Machine.powerOn(SmePlatform.config(1L << 30));
        loaded = SmeBoot.load(m, SmeBootOptions.defaults().withSizes(size(kernel), size(initrd)), InstantSource.system());
    }

    @Benchmark
    public SmeBootResult smeBoot() {
        SmeBootResult r = loaded.start();
        if (r.status() != SmeBootStatus.ENCRYPTED) throw new IllegalStateException(r.message());
        return r;
    }

    @Benchmark
    public byte[] xtsLinesSameBytes() {
        XtsEngine e = XtsEngine.best();
        for (long pa = 0; pa < bytes; pa += 4096) e.encryptLines(key, LineTweak.NONE, pa, page, 0, page, 0, 64);
        return page;
    }

    @TearDown(Level.Trial)
    public void done() {
        key.destroy();
    }

    static final class SmeBootBenchmarkSizes {
        static long align2m(long v) {
            return (v + (2L << 20) - 1) & -(2L << 20);
        }
    }
}
