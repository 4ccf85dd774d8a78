package dev.memcrypt.cli;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.tools.keyctl.Keyctl;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code memcrypt keyctl ...}: keyutils' keyctl against an embedded machine booted for this one
 * invocation. State does not persist between runs: every run powers on a fresh machine, boots the
 * kernel, runs one keyctl command as the given credentials and exits with keyctl's status.
 * Options for memcrypt come before the keyctl command; everything from the command on is passed
 * to keyctl unchanged (so {@code show -x} works).
 */
@Command(
        name = "keyctl",
        description = {
            "Run one keyutils-style keyctl command against a freshly booted embedded machine.",
            "State does not persist between runs (each run boots a new machine); to run",
            "several commands on one machine, separate them with a ';' argument (stops at",
            "the first failure). Exit status: keyctl's (0 ok, 1 an error, 2 bad usage).",
            "Example: memcrypt keyctl add mktme k1 \"type=cpu algorithm=aes-xts-128\" @u"
        },
        modelTransformer = KeyctlCommand.PassThrough.class)
public final class KeyctlCommand implements Callable<Integer> {
    /** Stops option parsing at the first keyctl argument, so keyctl's own options pass through. */
    public static final class PassThrough implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            spec.parser().stopAtPositional(true).unmatchedOptionsArePositionalParams(true);
            return spec;
        }
    }

    @Option(names = "--as", paramLabel = "CRED", defaultValue = "root",
            description = "Credentials: 'root' or 'uid=N [gid=N] [groups=A,B] [caps=CAP_X,...]' (default: ${DEFAULT-VALUE}).")
    String as;

    @Option(names = "--cmdline", paramLabel = "ARGS", defaultValue = "",
            description = "Kernel command line, e.g. 'mktme_savekeys'.")
    String cmdline;

    @Option(names = {"-m", "--machine"}, paramLabel = "KEY=VALUE", description = "Machine option (repeatable), e.g. packages=4.")
    List<String> machine = new ArrayList<>();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "ARG", description = "keyctl command and its arguments (keyutils syntax).")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        MachineConfig cfg = MachineConfig.defaults().with("seed", "1");
        for (String kv : machine) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("keyctl: --machine: expected KEY=VALUE, got '" + kv + "'");
            cfg = cfg.with(kv.substring(0, eq), kv.substring(eq + 1));
        }
        Cred cred;
        try {
            cred = Cred.parse(as);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("keyctl: --as: " + e.getMessage());
        }
        Kernel kernel = Kernel.boot(Machine.powerOn(cfg), cmdline);
        Task task = kernel.spawn(cred);
        Keyctl keyctl = new Keyctl(kernel.keys());
        List<String> cmd = new ArrayList<>();
        int rc = 0;
        for (int i = 0; i <= args.size(); i++) {
            if (i < args.size() && !args.get(i).equals(";")) {
                cmd.add(args.get(i));
                continue;
            }
            if (cmd.isEmpty() && i < args.size()) continue;
            rc = keyctl.run(task, cmd, System.in, System.out, System.err);
            if (rc != 0) return rc;
            cmd.clear();
        }
        return rc;
    }
}
