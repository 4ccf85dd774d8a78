package dev.memcrypt.cli;

import dev.memcrypt.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code memcrypt} command. Exit codes: 0 ok, 1 a scenario or check failed, 2 bad usage or input. */
@Command(
        name = "memcrypt",
        mixinStandardHelpOptions = true,
        version = "memcrypt 0.1.0",
        description = "An executable model of multi-key memory encryption hardware and the OS interfaces built on it.",
        subcommands = {
            DemoCommand.class,
            XtsCommand.class,
            BenchCommand.class,
            RunCommand.class,
            KeyctlCommand.class,
            KlCommand.class,
            LabCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Builds the picocli command line with memcrypt's error conventions (usage errors exit 2). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("memcrypt: " + redact(ex.getMessage()));
            return 2;
        });
        cl.setExitCodeExceptionMapper(t -> t instanceof IllegalArgumentException ? 2 : 1);
        cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
            switch (ex) {
                case IllegalArgumentException e -> {
                    c.getErr().println("memcrypt: " + redact(e.getMessage()));
                    return 2;
                }
                case java.io.UncheckedIOException e -> {
                    String file = IoErrors.file(e.getCause());
                    c.getErr().println("memcrypt: " + c.getCommandName() + ": " + (file != null ? file + ": " : "") + redact(IoErrors.reason(e)));
                    return 1;
                }
                default -> {
                    // a bug in memcrypt: one line (redacted) unless MEMCRYPT_DEBUG asks for the trace
                    if (System.getenv("MEMCRYPT_DEBUG") != null) throw ex;
                    c.getErr().println("memcrypt: " + c.getCommandName() + ": internal error: " + ex.getClass().getSimpleName()
                            + (ex.getMessage() != null ? ": " + redact(ex.getMessage()) : "") + " (MEMCRYPT_DEBUG=1 shows the stack trace)");
                    return 1;
                }
            }
        });
        return cl;
    }

    /**
     * Error messages may quote command-line arguments (picocli's "Unknown options: ..."), and an
     * argument may be a key: long hex strings are replaced so key bytes never reach the terminal.
     */
    static String redact(String message) {
        return message == null ? "" : message.replaceAll("(?i)(0x)?[0-9a-f]{24,}", "<hex redacted>");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
