package dev.memcrypt.cli.bench;

import picocli.CommandLine.Option;

/** Options every bench subcommand shares (a picocli mixin). */
public final class BenchOptions {
    @Option(names = "--json", description = "Print one JSON object per line instead of a table.")
    public boolean json;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "3", description = "Measured time per workload (default: ${DEFAULT-VALUE}).")
    public double seconds;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "1",
            description = "Minimum warm-up time per workload (default: ${DEFAULT-VALUE}); warm-up goes on until the throughput is steady "
                    + "(two 0.5 s windows within 3%%), at most 4x this plus 8 s. 0: no warm-up.")
    public double warmup;

    @Option(names = "--clock", paramLabel = "cpu|wall", defaultValue = "cpu",
            description = "Divide by the measuring thread's CPU time (default, as openssl speed does) or by wall-clock time.")
    public Throughput.Clock clock;

    /** Validates the numbers; caller bugs and bad input are IllegalArgumentException (exit 2). */
    public void check() {
        if (!(seconds > 0) || seconds > 3600) throw new IllegalArgumentException("bench: --seconds must be in (0, 3600], got " + seconds);
        if (!(warmup >= 0) || warmup > 3600) throw new IllegalArgumentException("bench: --warmup must be in [0, 3600], got " + warmup);
    }
}
