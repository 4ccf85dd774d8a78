package dev.memcrypt.cli.bench;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memcrypt bench xts}: XTS-AES-128 throughput.
 * <ul>
 *   <li>{@code xts-4k}: 4096-byte data units (tweak = data-unit number), as a disk would use XTS;
 *   <li>{@code xts-lines}: 4096-byte pages, each encrypted as 64 lines with per-line physical-address
 *       tweaks (SPEC-FACTS §1), as a memory controller does.
 * </ul>
 * Both stream through 64 pages (256 KiB), so the data stays in the L2 cache as it does for
 * {@code openssl speed}. {@code --openssl} also runs {@code openssl speed -evp aes-128-xts} at 4096 and
 * 64 bytes for the same time and prints the ratios the project's speed targets use.
 */
@Command(name = "xts", mixinStandardHelpOptions = true, description = "XTS-AES-128 throughput: xts-4k (4 KiB data units) and xts-lines (pages as 64 lines at their addresses).")
public final class XtsBench implements Callable<Integer> {
    static final int PAGE = 4096;
    static final int PAGES = 64;

    @Mixin
    BenchOptions opts;

    @Option(names = "--engine", paramLabel = "NAME", description = "native, java, reference, or all (default: the fastest available).")
    String engine;

    @Option(names = "--workload", paramLabel = "NAME", split = ",", description = "xts-4k, xts-lines (default: both).")
    List<String> workloads;

    @Option(names = "--openssl", description = "Also run 'openssl speed -evp aes-128-xts' (4096 and 64 bytes) and print the ratios.")
    boolean openssl;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        opts.check();
        List<XtsEngine> engines = engine == null ? List.of(XtsEngine.best())
                : engine.equalsIgnoreCase("all") ? XtsEngine.available() : List.of(XtsEngine.byName(engine));
        List<String> ws = workloads == null ? List.of("xts-4k", "xts-lines") : workloads;
        for (String w : ws) {
            if (!w.equals("xts-4k") && !w.equals("xts-lines")) throw new IllegalArgumentException("bench xts: unknown workload '" + w + "' (xts-4k, xts-lines)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<BenchResult> results = new ArrayList<>();
        for (XtsEngine e : engines) {
            for (String w : ws) {
                BenchResult r = run(e, w, opts, err);
                results.add(r);
                if (opts.json) {
                    out.println(BenchReport.json(r));
                    out.flush();
                }
            }
        }
        if (!opts.json) BenchReport.table(out, results);
        if (openssl) compareWithOpenssl(results, out, err);
        return 0;
    }

    /** Runs one workload on one engine. */
    public static BenchResult run(XtsEngine e, String workload, BenchOptions o, PrintWriter progress) {
        try (Prepared p = prepare(e, workload)) {
            return Throughput.measure(workload, e.name(), PAGE, p.op(), o, progress);
        }
    }

    /** A workload ready to run: {@code op} does one page ({@link #PAGE} bytes); closing destroys the key. */
    public record Prepared(Runnable op, XtsKey key) implements AutoCloseable {
        @Override
        public void close() {
            key.close();
        }
    }

    /** Sets up {@code xts-4k} or {@code xts-lines} on engine {@code e} over 64 pages of random data. */
    public static Prepared prepare(XtsEngine e, String workload) {
        byte[] keyBytes = new byte[32];
        SplittableRandom rnd = new SplittableRandom(42);
        rnd.nextBytes(keyBytes);
        byte[] mem = new byte[PAGE * PAGES];
        rnd.nextBytes(mem);
        byte[] out = new byte[mem.length];
        XtsKey key = XtsKey.of(keyBytes);
        java.util.Arrays.fill(keyBytes, (byte) 0);
        Runnable op;
        if (workload.equals("xts-4k")) {
            byte[][] tweaks = new byte[PAGES][];
            for (int p = 0; p < PAGES; p++) tweaks[p] = XtsEngine.dataUnitTweak(p);
            int[] next = {0};
            op = () -> {
                int p = next[0];
                next[0] = (p + 1) & (PAGES - 1);
                e.encrypt(key, tweaks[p], mem, p * PAGE, PAGE, out, p * PAGE);
            };
        } else {
            long base = 0x1_0000_0000L;
            int[] next = {0};
            op = () -> {
                int p = next[0];
                next[0] = (p + 1) & (PAGES - 1);
                e.encryptLines(key, LineTweak.NONE, base + (long) p * PAGE, mem, p * PAGE, out, p * PAGE, XtsEngine.LINES_PER_PAGE);
            };
        }
        return new Prepared(op, key);
    }

    private void compareWithOpenssl(List<BenchResult> results, PrintWriter out, PrintWriter err) {
        long secs = Math.max(1, Math.round(opts.seconds));
        OptionalDouble big = opensslSpeed(4096, secs, err);
        OptionalDouble small = opensslSpeed(64, secs, err);
        if (big.isEmpty() || small.isEmpty()) {
            err.println("bench xts: 'openssl speed' unavailable or unreadable; no ratios");
            return;
        }
        if (opts.json) {
            out.println(BenchReport.json(map("openssl-aes-128-xts-4096B", big.getAsDouble())));
            out.println(BenchReport.json(map("openssl-aes-128-xts-64B", small.getAsDouble())));
        }
        for (BenchResult r : results) {
            boolean lines = r.name().equals("xts-lines");
            double ref = lines ? small.getAsDouble() : big.getAsDouble();
            double ratio = r.bytesPerSecond() / ref;
            String vs = lines ? "openssl 64-byte" : "openssl 4096-byte";
            if (opts.json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", r.name() + "/" + (lines ? "openssl-64B" : "openssl-4096B"));
                m.put("engine", r.engine());
                m.put("ratio", Math.round(ratio * 1000) / 1000.0);
                out.println(BenchReport.json(m));
            } else {
                out.printf(Locale.ROOT, "%s on %s: %.2fx %s (%s vs %s)%n", r.name(), r.engine(), ratio, vs,
                        BenchReport.rate(r.bytesPerSecond()), BenchReport.rate(ref));
            }
        }
        out.flush();
    }

    private static Map<String, Object> map(String name, double bps) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("bytes_per_second", Math.round(bps));
        m.put("engine", "openssl");
        return m;
    }

    /** Runs {@code openssl speed -evp aes-128-xts -seconds S -bytes N} (CPU user time) and parses its figure. */
    static OptionalDouble opensslSpeed(int bytes, long seconds, PrintWriter err) {
        List<String> cmd = List.of("openssl", "speed", "-evp", "aes-128-xts", "-seconds", Long.toString(seconds), "-bytes", Integer.toString(bytes));
        err.println("bench: " + String.join(" ", cmd));
        err.flush();
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            String last = null;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.toUpperCase(Locale.ROOT).startsWith("AES-128-XTS")) last = line;
                }
            }
            if (!p.waitFor(seconds * 4 + 30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return OptionalDouble.empty();
            }
            return last == null ? OptionalDouble.empty() : OptionalDouble.of(parseOpensslFigure(last));
        } catch (IOException | InterruptedException | NumberFormatException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return OptionalDouble.empty();
        }
    }

    /** "AES-128-XTS    5558828.32k" -> 5.55882832e9 bytes per second (openssl prints 1000s of bytes). */
    /** For tests. */
    public static double parseOpensslFigureForTest(String line) {
        return parseOpensslFigure(line);
    }

    static double parseOpensslFigure(String line) {
        String[] f = line.trim().split("\\s+");
        String v = f[f.length - 1];
        double mult = 1;
        if (v.endsWith("k")) {
            mult = 1000;
            v = v.substring(0, v.length() - 1);
        }
        return Double.parseDouble(v) * mult;
    }
}
