package dev.memcrypt.cli;

import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.lab.Claim;
import dev.memcrypt.lab.Experiment;
import dev.memcrypt.lab.Lab;
import dev.memcrypt.lab.LabRun;
import dev.memcrypt.lab.Result;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code memcrypt lab [NAME...]}: runs the threat-model experiments (dev.memcrypt.lab) and
 * prints each narrated, or as JSON records. Progress goes to standard error. Exit 0 when every
 * verdict agrees with the seed thread, 1 otherwise, 2 for an unknown experiment.
 */
@Command(name = "lab", mixinStandardHelpOptions = true,
        description = "Run the threat-model experiments: the seed thread's claims (cold boot, replay, relocation, aliasing, caches,"
                + " hypervisor) tested on the model, each with a verdict.",
        exitCodeListHeading = "Exit status:%n",
        exitCodeList = {"0:every verdict agrees with the thread", "1:some verdict disagrees (or is inconclusive)", "2:bad usage or unknown experiment"})
public final class LabCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "NAME", description = "experiments to run (default: all; see --list)")
    List<String> names = new ArrayList<>();

    @Option(names = "--list", description = "list the experiments and the claims they test, and exit")
    boolean list;

    @Option(names = "--json", description = "JSON records, one per line (experiment, step, picture, result; a closing summary)")
    boolean json;

    @Option(names = "--seed", paramLabel = "N", description = "entropy seed of the lab machines (default ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--image-dir", paramLabel = "DIR", description = "write the cold-boot DRAM images here (default: scan DRAM in memory)")
    Path imageDir;

    @Option(names = {"-q", "--quiet"}, description = "no progress on standard error")
    boolean quiet;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (list && json) { // one record per experiment, with the claims it tests
            com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
            for (Experiment e : Lab.all()) {
                var rec = mapper.createObjectNode().put("record", "experiment").put("name", e.name()).put("title", e.title());
                var claims = rec.putArray("claims");
                for (Claim c : e.claims()) {
                    claims.addObject().put("id", c.id()).put("author", c.author()).put("date", c.date()).put("source", c.source()).put("quote", c.quote())
                            .put("thread_says", c.threadSays().text());
                }
                try {
                    out.println(mapper.writeValueAsString(rec));
                } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
                    throw new IllegalStateException(x);
                }
            }
            out.flush();
            return 0;
        }
        if (list) {
            for (Experiment e : Lab.all()) {
                out.printf("%-24s %s%n", e.name(), e.title());
                for (Claim c : e.claims()) out.printf("    %-28s %s, %s (%s)%n", c.id(), c.author(), c.date(), c.source());
            }
            out.flush();
            return 0;
        }
        List<Experiment> todo = new ArrayList<>();
        if (names.isEmpty()) todo.addAll(Lab.all());
        else for (String n : names) todo.add(Lab.get(n)); // IllegalArgumentException -> exit 2
        if (imageDir != null) { // a bad --image-dir is bad usage, found before any experiment runs
            if (java.nio.file.Files.exists(imageDir) && !java.nio.file.Files.isDirectory(imageDir)) {
                throw new IllegalArgumentException("lab: --image-dir " + imageDir + ": Not a directory");
            }
            try {
                java.nio.file.Files.createDirectories(imageDir);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("lab: --image-dir " + imageDir + ": " + IoErrors.reason(e));
            }
            if (!java.nio.file.Files.isWritable(imageDir)) throw new IllegalArgumentException("lab: --image-dir " + imageDir + ": Permission denied");
        }
        MachineConfig cfg = LabRun.defaultConfig();
        int failed = 0;
        List<String> summary = new ArrayList<>();
        for (int i = 0; i < todo.size(); i++) {
            Experiment e = todo.get(i);
            String tag = "[" + (i + 1) + "/" + todo.size() + "] ";
            if (!quiet) err.println("lab: " + tag + e.name() + " ...");
            LabRun run = new LabRun(cfg, seed, imageDir, quiet ? s -> {} : s -> err.println("lab:   " + s));
            long t0 = System.nanoTime();
            Result r = e.run(run);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (!r.agreesWithThread()) failed++;
            if (!quiet) err.println("lab: " + tag + e.name() + ": " + r.verdict().text() + (r.agreesWithThread() ? "" : " (DISAGREES WITH THE THREAD)") + " in " + ms + " ms");
            err.flush();
            if (json) {
                for (String rec : r.jsonRecords()) out.println(rec);
            } else {
                out.println(r.toText());
            }
            summary.add(String.format("%-24s %-14s %s", e.name(), r.verdict().text(), r.agreesWithThread() ? "agrees with the thread" : "DISAGREES with the thread"));
            out.flush();
        }
        if (json) {
            out.println("{\"record\":\"summary\",\"experiments\":" + todo.size() + ",\"agree\":" + (todo.size() - failed) + ",\"exit\":" + (failed == 0 ? 0 : 1) + "}");
        } else if (todo.size() > 1) {
            out.println("Summary:");
            for (String s : summary) out.println("  " + s);
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
