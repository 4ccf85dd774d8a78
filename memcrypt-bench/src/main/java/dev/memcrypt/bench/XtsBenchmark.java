package dev.memcrypt.bench;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@code memcrypt bench xts} workloads under JMH. One operation = one 4096-byte page, so
 * bytes per second = ops/s x 4096.
 * <ul>
 *   <li>{@code xts4k}: the page as one XTS data unit (tweak = page number);
 *   <li>{@code xtsLines}: the page as 64 lines, each with its physical-address tweak;
 *   <li>{@code xtsPageRun}: all 64 pages (256 KiB) as one run of 4096 lines in one call
 *       ({@code @OperationsPerInvocation(64)}, so still one op = one page).
 * </ul>
 * Run: {@code ./mvnw -q -pl memcrypt-bench -am package -DskipTests && java -jar memcrypt-bench/target/benchmarks.jar Xts}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
public class XtsBenchmark {
    static final int PAGE = 4096;
    static final int PAGES = 64;

    @Param({"libcrypto", "java"})
    public String engine;

    private XtsEngine e;
    private XtsKey key;
    private byte[] mem;
    private byte[] out;
    private byte[][] tweaks;
    private int page;

    @Setup(Level.Trial)
    public void setUp() {
        e = XtsEngine.byName(engine);
        SplittableRandom rnd = new SplittableRandom(42);
        byte[] k = new byte[32];
        rnd.nextBytes(k);
        key = XtsKey.of(k);
        mem = new byte[PAGE * PAGES];
        rnd.nextBytes(mem);
        out = new byte[mem.length];
        tweaks = new byte[PAGES][];
        for (int p = 0; p < PAGES; p++) tweaks[p] = XtsEngine.dataUnitTweak(p);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        key.destroy();
    }

    @Benchmark
    public byte[] xts4k() {
        int p = page;
        page = (p + 1) & (PAGES - 1);
        e.encrypt(key, tweaks[p], mem, p * PAGE, PAGE, out, p * PAGE);
        return out;
    }

    @Benchmark
    public byte[] xtsLines() {
        int p = page;
        page = (p + 1) & (PAGES - 1);
        e.encryptLines(key, LineTweak.NONE, 0x1_0000_0000L + (long) p * PAGE, mem, p * PAGE, out, p * PAGE, XtsEngine.LINES_PER_PAGE);
        return out;
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public byte[] xtsPageRun() {
        e.encryptPages(key, LineTweak.NONE, 0x1_0000_0000L, mem, 0, out, 0, PAGES);
        return out;
    }
}
