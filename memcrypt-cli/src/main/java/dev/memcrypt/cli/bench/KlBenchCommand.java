package dev.memcrypt.cli.bench;

import dev.memcrypt.hw.keylocker.KlBench;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memcrypt bench kl}: AES-KL throughput against the plain AES engine (real hardware runs
 * AES-KL 2x-5x slower than AES-NI), and the cost of a vCPU switch that reloads IWKey ({@link KlBench}).
 */
@Command(name = "kl", mixinStandardHelpOptions = true,
        description = "Key Locker: AES-KL block, wide and XTS throughput vs plain AES, and the vCPU switch that reloads IWKey.")
public final class KlBenchCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object per line.")
    boolean json;

    @Option(names = "--seconds", defaultValue = "0.5", description = "Measured time per case (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!(seconds > 0) || seconds > 600) throw new IllegalArgumentException("bench kl: --seconds must be in (0, 600], got " + seconds);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        err.println("bench: kl: AES-KL vs AES, XTS, vCPU switch ...");
        err.flush();
        KlBench.Report r = KlBench.run(Duration.ofNanos((long) (seconds * 1e9)));
        if (!json) {
            out.print(r);
            out.flush();
            return 0;
        }
        for (KlBench.Case c : r.cases()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("ns_per_op", Math.round(c.nsPerOp() * 10) / 10.0);
            if (c.bytesPerOp() > 0) m.put("bytes_per_second", Math.round(c.mbPerS() * 1e6));
            out.println(BenchReport.json(m));
        }
        ratio(out, "aesenc128kl/aes-block", r.blockRatio());
        ratio(out, "aesencwide128kl/aes", r.wideRatio());
        ratio(out, "aes-kl-xts/xts-engine", r.xtsRatio());
        ratio(out, "aes-kl-xts-instructions/xts-engine", r.xtsInstructionRatio());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "vcpu-switch-iwkey-reload");
        m.put("ns", Math.round(r.vcpuSwitchNs()));
        m.put("iwkey_reload_ns", Math.round(r.iwKeyReloadNs()));
        out.println(BenchReport.json(m));
        out.flush();
        return 0;
    }

    private static void ratio(PrintWriter out, String name, double v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("slowdown", Math.round(v * 100) / 100.0);
        out.println(BenchReport.json(m));
    }
}
