package dev.memcrypt.script.kernel;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.script.Session;
import dev.memcrypt.tools.keyctl.Keyctl;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel a script talks to through {@code keyctl}, {@code as} and kernel-level hotplug: a
 * {@link Kernel} booted on the session's machine (by {@code boot CMDLINE...}, or with an empty
 * command line at the first kernel statement), the script's clock and its current task.
 * Clock: starts at 2026-01-01T00:00:00Z and only {@code clock advance} moves it, so key expiry
 * is deterministic.
 */
public final class ScriptKernel {
    /** The script's clock. */
    public static final class ScriptClock implements InstantSource {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public synchronized Instant instant() {
            return now;
        }

        public synchronized void advance(Duration d) {
            now = now.plus(d);
        }
    }

    private final ScriptClock clock = new ScriptClock();
    private final Kernel kernel;
    private final Keyctl keyctl;
    private final Map<Cred, Task> tasks = new HashMap<>();
    private Task current;

    private ScriptKernel(Machine m, String cmdline, long seed) {
        kernel = Kernel.boot(m, cmdline, clock, seed);
        keyctl = new Keyctl(kernel.keys());
        current = kernel.initTask();
        tasks.put(current.cred(), current);
    }

    /** The session's kernel, booted on its machine with an empty command line on first use. */
    public static ScriptKernel of(Session s) {
        return s.state(ScriptKernel.class, () -> create(s, ""));
    }

    /** Boots the kernel with {@code cmdline}; IllegalArgumentException if it already runs. */
    public static ScriptKernel boot(Session s, String cmdline) {
        if (s.existingState(ScriptKernel.class).isPresent()) throw new IllegalArgumentException("the kernel is already booted");
        ScriptKernel k = create(s, cmdline);
        s.setState(ScriptKernel.class, k);
        return k;
    }

    /** The kernel if a statement booted it. */
    public static java.util.Optional<ScriptKernel> ifBooted(Session s) {
        return s.existingState(ScriptKernel.class);
    }

    private static ScriptKernel create(Session s, String cmdline) {
        Long seed = s.config().seed();
        return new ScriptKernel(s.machine(), cmdline, seed == null ? 1 : seed);
    }

    public Kernel kernel() {
        return kernel;
    }

    public Keyctl keyctl() {
        return keyctl;
    }

    public ScriptClock clock() {
        return clock;
    }

    /** The task that runs the statements now (init, as root, until {@code as} switches). */
    public Task current() {
        return current;
    }

    /** Switches to a task with these credentials; the same credentials get the same task back (its keyrings persist). */
    public Task switchTo(Cred cred) {
        current = tasks.computeIfAbsent(cred, kernel::spawn);
        return current;
    }
}
