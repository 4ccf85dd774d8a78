package dev.memcrypt.cli.bench;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * Runs one operation repeatedly and reports bytes per second.
 *
 * <p>Design note: {@link Clock#CPU} divides by the measuring thread's CPU time, as {@code openssl speed}
 * divides by CPU user time unless given {@code -elapsed}; on a shared machine this keeps other
 * processes' load out of the figure and makes the two comparable. {@link Clock#WALL} is there too.
 * Time is checked between batches of operations sized to about a millisecond, so the clock read costs
 * nothing measurable.
 *
 * <p>Warm-up runs for at least {@code --warmup} seconds and then until the JIT has settled: two
 * consecutive half-second windows within 3% of each other (at most 4x the minimum plus 8 s). The
 * memory-system workloads reach steady state only after 2 to 4 s on a 2-core machine (their large
 * methods compile late), so a fixed one-second warm-up measured part of the interpreter/C1 phase.
 */
public final class Throughput {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** What the byte count is divided by. */
    public enum Clock {
        cpu, wall;

        long now() {
            if (this == cpu && THREADS.isCurrentThreadCpuTimeSupported()) return THREADS.getCurrentThreadCpuTime();
            return System.nanoTime();
        }
    }

    private Throughput() {}

    /**
     * Measures {@code op}, which processes {@code bytesPerOp} bytes per call. Progress goes to
     * {@code progress} (stderr) when the run takes more than a second.
     */
    public static BenchResult measure(String name, String engine, long bytesPerOp, Runnable op, BenchOptions o, PrintWriter progress) {
        return measure(name, engine, BenchResult.BYTES, bytesPerOp, op, o, progress);
    }

    /** Measures {@code op}, which does {@code unitsPerOp} units of {@code metric} per call. */
    public static BenchResult measure(String name, String engine, String metric, long unitsPerOp, Runnable op, BenchOptions o, PrintWriter progress) {
        long bytesPerOp = unitsPerOp;
        boolean talk = o.seconds + o.warmup > 1.0 && progress != null;
        if (talk) {
            progress.printf(Locale.ROOT, "bench: %s on %s: >= %.1f s warm-up (until steady), %.1f s measured ", name, engine, o.warmup, o.seconds);
            progress.flush();
        }
        Clock clock = o.clock;
        // warm-up, and calibrate a batch of about 1 ms
        long batch = 1;
        long warmEnd = System.nanoTime() + (long) (o.warmup * 1e9);
        long warmCap = warmEnd + (long) (3 * o.warmup * 1e9) + 8_000_000_000L;
        double prevRate = -1; // ops per ns of the previous half-second window
        long winStart = System.nanoTime(), winOps = 0;
        boolean steady = o.warmup < 0.5; // short warm-ups (tests, quick looks) are taken as given
        do {
            long t0 = System.nanoTime();
            for (long i = 0; i < batch; i++) op.run();
            long t1 = System.nanoTime();
            winOps += batch;
            if (t1 - t0 < 1_000_000 && batch < (1L << 40)) batch *= 2;
            if (t1 - winStart >= 500_000_000L) {
                double rate = winOps / (double) (t1 - winStart);
                steady = prevRate > 0 && Math.abs(rate - prevRate) <= 0.03 * Math.max(rate, prevRate);
                prevRate = rate;
                winStart = t1;
                winOps = 0;
            }
        } while (System.nanoTime() < warmEnd || (!steady && System.nanoTime() < warmCap));
        long[] nextDot = {System.nanoTime() + 1_000_000_000L};
        Window w = window(op, batch, o.seconds, clock, !talk ? null : () -> {
            if (System.nanoTime() >= nextDot[0]) {
                progress.print('.');
                progress.flush();
                nextDot[0] += 1_000_000_000L;
            }
        });
        if (talk) {
            progress.println();
            progress.flush();
        }
        double secs = w.used() / 1e9;
        return new BenchResult(name, engine, metric, w.ops() * bytesPerOp / secs, w.ops() * bytesPerOp, secs, clock.name());
    }

    /** What one measuring window did: calls of the operation, and time used on the window's clock (ns). */
    private record Window(long ops, long used) {}

    /**
     * Runs {@code op} in batches (doubling from {@code batch} while a batch takes under a
     * millisecond) until {@code seconds} of {@code clock} are used, or four times that plus 10 s of
     * wall time have passed; {@code tick} (may be null) runs after each batch.
     */
    private static Window window(Runnable op, long batch, double seconds, Clock clock, Runnable tick) {
        long budget = (long) (seconds * 1e9);
        long ops = 0;
        long start = clock.now(), wallStart = System.nanoTime();
        long used;
        do {
            long b0 = System.nanoTime();
            for (long i = 0; i < batch; i++) op.run();
            ops += batch;
            if (System.nanoTime() - b0 < 1_000_000 && batch < (1L << 40)) batch *= 2;
            used = clock.now() - start;
            if (tick != null) tick.run();
        } while (used < budget && System.nanoTime() - wallStart < 4 * budget + 10_000_000_000L);
        return new Window(ops, Math.max(used, 1));
    }

    /**
     * The ratio of two workloads' rates, measured in {@code rounds} interleaved rounds (in each,
     * {@code ref} for {@code seconds} and then {@code op} for {@code seconds}), so that whatever
     * else the host does weighs on both alike. Both must be warm. Returns the per-round ratios
     * {@code op / ref}, sorted.
     */
    public static double[] interleavedRatios(Runnable ref, long refUnits, Runnable op, long opUnits, int rounds, double seconds, Clock clock) {
        if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1: " + rounds);
        double[] r = new double[rounds];
        for (int i = 0; i < rounds; i++) r[i] = rate(op, opUnits, seconds, clock) / rate(ref, refUnits, seconds, clock);
        java.util.Arrays.sort(r);
        return r;
    }

    /** Units per second of {@code op} over about {@code seconds} of {@code clock} (batches of about a millisecond). */
    static double rate(Runnable op, long unitsPerOp, double seconds, Clock clock) {
        Window w = window(op, 1, seconds, clock, null);
        return w.ops() * unitsPerOp / (w.used() / 1e9);
    }

    /** The median of sorted values. */
    public static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
