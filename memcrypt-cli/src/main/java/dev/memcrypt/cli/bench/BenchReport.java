package dev.memcrypt.cli.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Prints bench results: a small table for people, or one JSON object per line (--json). */
public final class BenchReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchReport() {}

    /** {@code {"name":..., "bytes_per_second":..., "engine":..., "seconds":..., "clock":...}} */
    public static String json(BenchResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put(r.metric(), Math.round(r.perSecond()));
        m.put("engine", r.engine());
        m.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        m.put("clock", r.clock());
        return json(m);
    }

    public static String json(Map<String, Object> m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void table(PrintWriter out, List<BenchResult> rs) {
        int w = Math.max(8, rs.stream().mapToInt(r -> r.name().length()).max().orElse(8));
        int e = Math.max(6, rs.stream().mapToInt(r -> r.engine().length()).max().orElse(6));
        String fmt = "%-" + w + "s  %-" + e + "s  %12s%n";
        out.printf(Locale.ROOT, fmt, "workload", "engine", "throughput");
        for (BenchResult r : rs) out.printf(Locale.ROOT, fmt, r.name(), r.engine(), r.metric().equals(BenchResult.BYTES) ? rate(r.perSecond()) : ops(r.perSecond()));
        out.flush();
    }

    /** Human operation rate: "23.4 M ops/s". */
    public static String ops(double ops) {
        if (ops >= 1e6) return String.format(Locale.ROOT, "%.1f M ops/s", ops / 1e6);
        return String.format(Locale.ROOT, "%.0f k ops/s", ops / 1e3);
    }

    /** Human rate: "4.62 GB/s" (decimal units, as openssl speed). */
    public static String rate(double bps) {
        if (bps >= 1e9) return String.format(Locale.ROOT, "%.2f GB/s", bps / 1e9);
        if (bps >= 1e6) return String.format(Locale.ROOT, "%.1f MB/s", bps / 1e6);
        return String.format(Locale.ROOT, "%.0f kB/s", bps / 1e3);
    }
}
