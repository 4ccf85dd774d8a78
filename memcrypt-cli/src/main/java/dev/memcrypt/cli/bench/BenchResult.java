package dev.memcrypt.cli.bench;

/**
 * One workload's measurement.
 *
 * @param name workload, e.g. "xts-lines"
 * @param engine what ran it, e.g. "libcrypto"
 * @param metric the JSON key of the figure: "bytes_per_second" or "ops_per_second"
 * @param perSecond the figure: bytes or operations per second of {@code clock}
 * @param units bytes or operations done while measuring
 * @param seconds the measured time on {@code clock}
 * @param clock "cpu" or "wall"
 */
public record BenchResult(String name, String engine, String metric, double perSecond, long units, double seconds, String clock) {
    public static final String BYTES = "bytes_per_second";
    public static final String OPS = "ops_per_second";

    /** Throughput in bytes per second; only for byte metrics. */
    public double bytesPerSecond() {
        if (!metric.equals(BYTES)) throw new IllegalStateException(name + " measures " + metric);
        return perSecond;
    }
}
