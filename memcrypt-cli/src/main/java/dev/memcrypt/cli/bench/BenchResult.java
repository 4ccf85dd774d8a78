package dev.memcrypt.cli.bench;

/**
 * One workload's measurement.
 *
 * @param name workload, e.g. "xts-lines"
 * @param engine what ran it, e.g. "libcrypto"
 * @param bytesPerSecond throughput
 * @param bytes bytes processed while measuring
 * @param seconds the measured time on {@code clock}
 * @param clock "cpu" or "wall"
 */
public record BenchResult(String name, String engine, double bytesPerSecond, long bytes, double seconds, String clock) {}
