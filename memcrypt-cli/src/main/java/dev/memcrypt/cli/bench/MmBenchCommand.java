package dev.memcrypt.cli.bench;

import dev.memcrypt.hw.MemoryBench;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.mm.MmBench;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memcrypt bench mm}: mm-touch (anonymous memory under a cpu key first-touched, written and
 * read back) against xts-lines in the same run, and the cost of encrypt_mprotect and munmap of one
 * page with 100,000 VMAs against 100 ({@link MmBench}; best of three interleaved rounds for mm-touch, five for the VMA scale, after a warm-up of both tree sizes).
 */
@Command(name = "mm", mixinStandardHelpOptions = true,
        description = "Process memory: mm-touch vs xts-lines (target >= 0.40), and encrypt_mprotect/munmap cost at 100,000 vs 100 VMAs (target <= 2x).")
public final class MmBenchCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object per line.")
    boolean json;

    @Option(names = "--touch", defaultValue = "256M", description = "Bytes of anonymous memory touched (default: ${DEFAULT-VALUE}).")
    String touch;

    @Option(names = "--iterations", defaultValue = "20000", description = "encrypt_mprotect/munmap calls per VMA-scale round (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--floor", description = "Also measure mm-floor: mm-touch's engine calls, copies and fresh frames with no model at all (the ceiling for mm-touch).")
    boolean floor;

    @Spec
    CommandSpec spec;

    /** One result as a JSON line: ratios rounded to 3 decimals, everything else a whole number. */
    static String json(MemoryBench.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.workload());
        if (r.metric().contains("ratio")) m.put(r.metric(), Math.round(r.value() * 1000) / 1000.0);
        else m.put(r.metric(), Math.round(r.value())); // not in a ternary with the double: that would print 4.08E9
        return BenchReport.json(m);
    }

    @Override
    public Integer call() throws ErrnoException {
        long bytes = dev.memcrypt.kernel.boot.SmeBootOptions.size("touch", touch);
        if (bytes < 4096 || bytes > (4L << 30)) throw new IllegalArgumentException("bench mm: --touch must be 4K..4G, got " + touch);
        if (iterations < 100 || iterations > 10_000_000) throw new IllegalArgumentException("bench mm: --iterations must be 100..10000000, got " + iterations);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        err.printf("bench: mm: xts-lines, mm-touch of %s, and VMA scale (100 vs 100,000 VMAs), best of 3 rounds (VMA scale: 5) ...%n", touch);
        err.flush();
        List<MemoryBench.Result> rs = MmBench.run(Duration.ofSeconds(1), bytes, iterations, floor);
        for (MemoryBench.Result r : rs) {
            if (json) {
                out.println(json(r));
            } else {
                out.printf(Locale.ROOT, "%-24s %-26s %,.3f%n", r.workload(), r.metric(), r.value());
            }
        }
        out.flush();
        return 0;
    }
}
