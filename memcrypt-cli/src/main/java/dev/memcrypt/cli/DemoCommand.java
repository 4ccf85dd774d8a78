package dev.memcrypt.cli;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.kernel.boot.SmeBootOptions;
import dev.memcrypt.lab.MktmeDemo;
import dev.memcrypt.lab.SmeDemo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code memcrypt demo}: the main job on the embedded default machine. By default the engine demo
 * (one line at two addresses) and then the RFC's mktme_demo, narrated ({@link MktmeDemo});
 * {@code --sme} narrates AMD SME's in-place kernel encryption instead ({@link SmeDemo}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the narrated demo on the embedded default machine: the RFC's mktme_demo (add a cpu key, mmap, "
                + "encrypt_mprotect, a secret in ciphertext in DRAM, smaps, munmap, invalidate), or --sme, --engine.")
public final class DemoCommand implements Callable<Integer> {
    static final class Which {
        @Option(names = "--sme", description = "AMD SME: encrypt the kernel in place at boot, DRAM before and after.")
        boolean sme;

        @Option(names = "--engine", description = "Only the encryption engine: one line at two physical addresses.")
        boolean engine;
    }

    @ArgGroup(exclusive = true)
    Which which = new Which();

    @Option(names = "--json", description = "One JSON record per step (MKTME demo), for scripts.")
    boolean json;

    @Option(names = "--kernel-size", defaultValue = "4M", description = "With --sme: kernel image size (default: ${DEFAULT-VALUE}).")
    String kernelSize;

    @Option(names = "--initrd-size", defaultValue = "2M", description = "With --sme: initrd size (default: ${DEFAULT-VALUE}).")
    String initrdSize;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (json && (which.sme || which.engine)) throw new IllegalArgumentException("demo: --json goes with the MKTME demo only");
        var parsed = spec.commandLine().getParseResult();
        for (String o : new String[] {"--kernel-size", "--initrd-size"}) {
            if (!which.sme && parsed.hasMatchedOption(o)) throw new IllegalArgumentException("demo: " + o + " goes with --sme only");
        }
        if (which.engine) return EngineDemo.show(out, XtsEngine.best()) ? 0 : 1;
        if (which.sme) {
            // both sizes checked before the demo prints anything
            long k = SmeBootOptions.size("kernel-size", kernelSize);
            long i = SmeBootOptions.size("initrd-size", initrdSize);
            SmeBootOptions.defaults().withSizes(k, i); // range check (IllegalArgumentException -> exit 2)
            boolean[] ok = {true};
            relay(out, ps -> SmeDemo.run(ps, k, i));
            return ok[0] ? 0 : 1;
        }
        boolean ok = true;
        if (!json) {
            ok = EngineDemo.show(out, XtsEngine.best());
            out.println();
        }
        boolean[] demo = {false};
        relay(out, ps -> demo[0] = MktmeDemo.run(ps, json));
        return ok && demo[0] ? 0 : 1;
    }

    /** Runs a core demo that prints to a PrintStream, relaying its text to picocli's writer line by line. */
    private static void relay(PrintWriter out, Consumer<PrintStream> demo) {
        out.flush();
        PrintStream ps = new PrintStream(new LineRelay(out), true, StandardCharsets.UTF_8);
        demo.accept(ps);
        ps.flush();
        out.flush();
    }

    /** Bytes to the writer, flushed at each newline, so a long demo shows progress as it goes. */
    private static final class LineRelay extends java.io.OutputStream {
        private final PrintWriter out;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineRelay(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void write(int b) {
            line.write(b);
            if (b == '\n') flush();
        }

        @Override
        public void flush() {
            out.write(line.toString(StandardCharsets.UTF_8));
            out.flush();
            line.reset();
        }
    }
}
