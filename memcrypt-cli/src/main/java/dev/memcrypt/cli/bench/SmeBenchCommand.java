package dev.memcrypt.cli.bench;

import dev.memcrypt.kernel.boot.SmeBench;
import dev.memcrypt.kernel.boot.SmeBootOptions;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memcrypt bench sme}: in-place encryption of a kernel image and initrd at boot (SME),
 * against the engine's xts-lines on the same bytes, best of N, thread CPU time ({@link SmeBench}).
 */
@Command(name = "sme", mixinStandardHelpOptions = true,
        description = "SME in-place boot encryption of a kernel + initrd vs the engine's xts-lines on the same bytes (target ratio <= 3).")
public final class SmeBenchCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object per line.")
    boolean json;

    @Option(names = "--kernel-size", defaultValue = "64M", description = "Kernel image size (default: ${DEFAULT-VALUE}).")
    String kernelSize;

    @Option(names = "--initrd-size", defaultValue = "32M", description = "Initrd size (default: ${DEFAULT-VALUE}).")
    String initrdSize;

    @Option(names = "--reps", defaultValue = "3", description = "Boots measured; the best counts (default: ${DEFAULT-VALUE}).")
    int reps;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (reps < 1 || reps > 100) throw new IllegalArgumentException("bench sme: --reps must be in 1..100, got " + reps);
        long k = SmeBootOptions.size("kernel-size", kernelSize);
        long i = SmeBootOptions.size("initrd-size", initrdSize);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        err.printf("bench: sme: %d boot(s) of a %s kernel + %s initrd, and xts-lines on the same bytes ...%n", reps, kernelSize, initrdSize);
        err.flush();
        SmeBench.Result r = SmeBench.run(k, i, reps);
        if (json) {
            out.println(BenchReport.json(row("sme-boot", r.smeBootBytesPerSecond(), r.engine())));
            out.println(BenchReport.json(row("xts-lines", r.xtsLinesBytesPerSecond(), r.engine())));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", "sme-boot/xts-lines-time");
            m.put("ratio", Math.round(r.ratio() * 1000) / 1000.0);
            m.put("chunks", r.boot().chunks());
            out.println(BenchReport.json(m));
        } else {
            out.println(r.format());
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> row(String name, double bps, String engine) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("bytes_per_second", Math.round(bps));
        m.put("engine", engine);
        m.put("clock", "cpu");
        return m;
    }
}
