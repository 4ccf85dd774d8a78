package dev.memcrypt.cli.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memcrypt bench <area>}: throughput measurements on this machine. Each area is a subcommand
 * ({@code xts} here; others add theirs to {@code subcommands}) built on {@link Throughput},
 * {@link BenchOptions} and {@link BenchReport}, so every bench prints the same table or JSON lines.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure throughput on this machine. Human table by default, --json for one JSON object per line.",
        subcommands = {XtsBench.class, MemoryBenchCommand.class, MmBenchCommand.class, SmeBenchCommand.class, KlBenchCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "bench: name what to measure, e.g. 'memcrypt bench xts'");
    }
}
