package dev.memcrypt.bench;

import dev.memcrypt.hw.MemoryBench;
import dev.memcrypt.hw.mmu.Mmu;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@code memcrypt bench memory} workloads under JMH (same machines as {@link MemoryBench}).
 * <ul>
 *   <li>{@code memStream}: one op = one 4 KiB page stored then loaded again later through cpu 0's
 *       MMU and caches, under user KeyID 1, cycling through 16 MiB (8x the LLC), so every line is
 *       encrypted on write-back and decrypted on fill; bytes/s = ops/s x 8192.
 *   <li>{@code memStreamOp} and {@code memFloor}: one op = one page operation of the CLI's
 *       {@code mem-stream} and {@code mem-floor} workloads ({@link MemoryBench#workload}; bytes/s =
 *       ops/s x 4096): the model, and the same engine calls and copies with no model at all.
 *   <li>{@code memRandomLoad}: one op = one random aligned 8-byte load through the MMU, warm TLB,
 *       16 KiB working set (L1-resident); {@code memRandomLoadLlc}: 256 KiB (LLC hits).
 * </ul>
 * Run: {@code ./mvnw -q -pl memcrypt-bench -am package -DskipTests && java -jar memcrypt-bench/target/benchmarks.jar Memory}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
public class MemoryBenchmarks {
    static final long VA = 0x4000_0000L;

    @State(Scope.Thread)
    public static class Stream {
        static final int PAGES = 4096;
        Mmu mmu;
        byte[] page = new byte[4096];
        int next;

        @Setup(Level.Trial)
        public void setUp() {
            mmu = MemoryBench.setup(PAGES, 0);
        }
    }

    @State(Scope.Thread)
    public static class Random {
        Mmu mmu;
        long mask;
        long x = 0x9E3779B97F4A7C15L;

        void init(int pages) {
            mmu = MemoryBench.setup(pages, 0);
            mask = ((long) pages << 12) - 8;
            for (int p = 0; p < pages; p++) mmu.load64(VA + ((long) p << 12));
        }
    }

    public static class RandomL1 extends Random {
        @Setup(Level.Trial)
        public void setUp() {
            init(4);
        }
    }

    public static class RandomLlc extends Random {
        @Setup(Level.Trial)
        public void setUp() {
            init(64);
        }
    }

    @State(Scope.Thread)
    public static class StreamOp {
        Runnable stream;
        Runnable floor;

        @Setup(Level.Trial)
        public void setUp() {
            stream = MemoryBench.workload("mem-stream").op();
            floor = MemoryBench.workload("mem-floor").op();
        }
    }

    @Benchmark
    public void memStreamOp(StreamOp s) {
        s.stream.run();
    }

    @Benchmark
    public void memFloor(StreamOp s) {
        s.floor.run();
    }

    /** Stores page n, and loads page n - PAGES/2 (long since evicted from the LLC). */
    @Benchmark
    public byte memStream(Stream s) {
        int p = s.next;
        s.next = (p + 1) & (Stream.PAGES - 1);
        s.mmu.store(VA + ((long) p << 12), s.page);
        int q = (p + Stream.PAGES / 2) & (Stream.PAGES - 1);
        s.mmu.load(VA + ((long) q << 12), s.page, 0, 4096, Mmu.Access.READ);
        return s.page[0];
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public long memRandomLoad(RandomL1 r) {
        return loads(r);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public long memRandomLoadLlc(RandomLlc r) {
        return loads(r);
    }

    private static long loads(Random r) {
        long sum = 0, x = r.x;
        for (int i = 0; i < 64; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sum += r.mmu.load64(VA + (x & r.mask));
        }
        r.x = x;
        return sum;
    }
}
