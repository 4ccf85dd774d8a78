package dev.memcrypt.script.kernel;

import dev.memcrypt.script.OutcomeException;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.script.Arg;
import dev.memcrypt.script.Args;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementProvider;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.Token;
import dev.memcrypt.script.Value;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Kernel statements (issue 4): {@code keyctl ...} in keyutils' command-line form, run as the
 * current task, and {@code as root} / {@code as uid=N [gid=N] [groups=..] [caps=CAP_X,...]},
 * which switch the credentials of the statements that follow; {@code clock advance SECONDS}.
 */
public final class KernelStatements implements StatementProvider {
    /** keyctl exited non-zero. The outcome is the errno its message names (ENOKEY), else EXIT_n. */
    public static final class KeyctlFailure extends OutcomeException {
        KeyctlFailure(String name, String message) {
            super(name, message);
        }
    }

    @Override
    public void register(StatementRegistry r) {
        r.register(Statement.of("keyctl", "keyctl COMMAND ARG... [< DATA] (keyutils' syntax, e.g. keyctl add mktme k \"type=cpu algorithm=aes-xts-128\" @u)",
                "runs keyctl as the current task: its output (a number when it is one, e.g. a key serial); a failure is the"
                        + " errno keyctl reports (=> ENOKEY, => EACCES)", a -> {
                    List<Token> ts = a.tokens();
                    if (ts.isEmpty()) throw a.error("missing COMMAND");
                    Arg<byte[]> stdin = Arg.constant(new byte[0]);
                    int lt = -1;
                    for (int i = 0; i < ts.size(); i++) if (ts.get(i).is("<")) lt = i;
                    if (lt >= 0) {
                        if (lt != ts.size() - 2) throw a.error("'<' must be followed by exactly one DATA word, at the end");
                        stdin = a.secretBytes("standard input after '<'", ts.get(lt + 1)); // padd/pupdate data: key material
                        ts = ts.subList(0, lt);
                    }
                    markPayload(a, ts);
                    Arg<List<String>> argv = a.argv(ts);
                    Arg<byte[]> in = stdin;
                    return s -> {
                        byte[] data = in.get(s);
                        try {
                            return keyctl(ScriptKernel.of(s), argv.get(s), data);
                        } finally {
                            java.util.Arrays.fill(data, (byte) 0);
                        }
                    };
                }));
        r.register(Statement.of("as", "as root | as uid=N [gid=N] [groups=A,B] [caps=CAP_X,CAP_Y|all|none]",
                "switches the credentials (and task, with its keyrings) of the statements that follow", a -> {
                    List<Token> ts = a.tokens();
                    if (ts.isEmpty()) throw a.error("missing credentials");
                    StringBuilder spec = new StringBuilder();
                    for (Token t : ts) {
                        if (!t.isLiteral()) throw a.error("credentials must be written out, not " + t.raw());
                        spec.append(spec.isEmpty() ? "" : " ").append(t.literal());
                    }
                    Cred cred;
                    try {
                        cred = Cred.parse(spec.toString());
                    } catch (IllegalArgumentException e) {
                        throw a.error(e.getMessage());
                    }
                    return s -> {
                        ScriptKernel.of(s).switchTo(cred);
                        return Value.str(describe(cred));
                    };
                }));
        r.register(Statement.of("boot", "boot [WORD...] | boot mem_encrypt=on|off [kernel-size=N] [initrd-size=N] [sme_test=MODE]",
                "boots the kernel on the machine with this command line (e.g. boot mktme_savekeys); without it the first kernel"
                        + " statement boots with an empty one. Returns the boot messages. With mem_encrypt=..., the SME boot path"
                        + " (kernel and initrd encrypted in place; script.sme.SmeStatements) and its report", a -> {
                    Arg<List<String>> words = a.argv();
                    return s -> {
                        if (dev.memcrypt.script.sme.SmeStatements.isSmeBoot(words.get(s))) return dev.memcrypt.script.sme.SmeStatements.boot(s, words.get(s));
                        ScriptKernel k = ScriptKernel.boot(s, String.join(" ", words.get(s)));
                        return Value.str(String.join("\n", k.kernel().dmesg()) + "\n");
                    };
                }));
        r.register(Statement.of("dmesg", "dmesg", "the kernel's messages so far (boot, hotplug)", a -> s -> {
            java.util.List<String> m = ScriptKernel.of(s).kernel().dmesg();
            return m.isEmpty() ? Value.VOID : Value.str(String.join("\n", m) + "\n");
        }));
        r.register(Statement.of("cat", "cat /proc/keys | cat /proc/key-users",
                "the key service's listings as the current task reads them: /proc/keys (the keys it may view, as"
                        + " proc_keys_show prints them) and /proc/key-users (per-user counts and quotas)", a -> {
                    List<Token> ts = a.tokens();
                    if (ts.size() != 1 || !ts.getFirst().isLiteral()) throw a.error("cat takes one path: /proc/keys or /proc/key-users");
                    String path = ts.getFirst().literal();
                    if (!path.equals("/proc/keys") && !path.equals("/proc/key-users")) {
                        throw a.error("cat: only /proc/keys and /proc/key-users exist here, not " + path);
                    }
                    return s -> {
                        ScriptKernel k = ScriptKernel.of(s);
                        String text = path.equals("/proc/keys") ? k.kernel().keys().procKeys(k.current()) : k.kernel().keys().procKeyUsers();
                        return text.isEmpty() ? Value.VOID : Value.str(text);
                    };
                }));
        r.register(Statement.of("clock advance", "clock advance SECONDS", "moves the kernel's clock forward (key expiry)", a -> {
            Arg<Long> secs = a.num("SECONDS", 0, 100L * 365 * 24 * 3600);
            return s -> {
                ScriptKernel.of(s).clock().advance(Duration.ofSeconds(secs.get(s)));
                return Value.VOID;
            };
        }));
    }

    /**
     * The payload words of {@code keyctl add TYPE DESC DATA RING} and {@code keyctl update KEY DATA}
     * are key material (a user or logon key's secret): never echoed. An mktme payload stays
     * readable; its key=/tweak= values are masked by the parser.
     */
    public static void markPayload(Args a, List<Token> ts) {
        if (ts.isEmpty() || !ts.getFirst().isLiteral()) return;
        String cmd = ts.getFirst().literal();
        if (cmd.equals("add") && ts.size() > 3 && !(ts.get(1).isLiteral() && ts.get(1).literal().equals("mktme"))) a.secret(ts.get(3));
        if (cmd.equals("update") && ts.size() > 2) a.secret(ts.get(2));
    }

    static Value keyctl(ScriptKernel k, List<String> argv, byte[] stdin) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int rc = k.keyctl().run(k.current(), argv, new ByteArrayInputStream(stdin),
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        String out = o.toString(StandardCharsets.UTF_8);
        String err = e.toString(StandardCharsets.UTF_8).strip();
        if (rc != 0) throw new KeyctlFailure(errnoOf(err, rc), err.isEmpty() ? "keyctl exited " + rc : err);
        String t = out.endsWith("\n") && out.indexOf('\n') == out.length() - 1 ? out.substring(0, out.length() - 1) : out;
        if (t.isEmpty()) return Value.VOID;
        if (t.matches("-?[0-9]{1,18}")) return Value.num(Long.parseLong(t));
        return Value.str(t);
    }

    static String describe(Cred c) {
        String caps = c.caps().size() == dev.memcrypt.kernel.cred.Capability.values().length ? "all"
                : c.caps().isEmpty() ? "none" : String.join(",", c.caps().stream().map(Enum::name).toList());
        return "uid=" + c.uid() + " gid=" + c.gid() + (c.groups().isEmpty() ? "" : " groups=" + c.groups()) + " caps=" + caps;
    }

    /** keyutils prints "call: strerror text"; map the text back to the errno's name. */
    static String errnoOf(String err, int rc) {
        String last = err.contains("\n") ? err.substring(err.lastIndexOf('\n') + 1) : err;
        for (Errno n : Errno.values()) {
            if (last.endsWith(": " + n.message()) || last.equals(n.message())) return n.name();
        }
        return "EXIT_" + rc;
    }
}
