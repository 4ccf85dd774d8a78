package dev.memcrypt.script.kernel;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.PconfigResult;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.KeyProgram;
import dev.memcrypt.kernel.keys.mktme.KeyTableProgrammer;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.keys.mktme.ProgramStatus;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.script.Session;
import dev.memcrypt.tools.keyctl.Keyctl;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The kernel a script talks to through {@code keyctl} and {@code as}: the key retention service
 * with the mktme type, programming the session's machine through real PCONFIG on each package's
 * CPUs, and the script's current task. Booted at the first kernel statement.
 *
 * <p>Interim: issue 4's kernel boot (firmware activation, KeyID enumeration, hotplug callbacks)
 * will replace {@link #boot}; the statements only need {@link #keyctl()}, {@link #current()} and
 * {@link #switchTo}. Clock: a script clock starting at 2026-01-01T00:00:00Z that only
 * {@code clock advance} moves, so key expiry is deterministic.
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
    private final KeyService service;
    private final MktmeKeyType mktme;
    private final Keyctl keyctl;
    private final Map<Cred, Task> tasks = new HashMap<>();
    private Task current;

    private ScriptKernel(Machine m, long seed) {
        service = new KeyService(clock, new SplittableRandom(seed), KeyService.Limits.linuxDefaults());
        mktme = new MktmeKeyType(new MktmeKeyIds(m.mktmeKeyIds()), new MachinePconfig(m), m.entropy(), false);
        for (Core c : m.cores()) if (c.online()) mktme.cpuOnlineAtBoot(c.id(), c.pkg().id());
        service.registerType(mktme);
        keyctl = new Keyctl(service);
        current = task(Cred.root());
    }

    /** The session's kernel, booted on its machine on first use. */
    public static ScriptKernel of(Session s) {
        return s.state(ScriptKernel.class, () -> {
            Long seed = s.config().seed();
            return new ScriptKernel(s.machine(), seed == null ? 1 : seed);
        });
    }

    public KeyService service() {
        return service;
    }

    public MktmeKeyType mktme() {
        return mktme;
    }

    public Keyctl keyctl() {
        return keyctl;
    }

    public ScriptClock clock() {
        return clock;
    }

    /** The task that runs the statements now (root until {@code as} switches). */
    public Task current() {
        return current;
    }

    /** Switches to the task with these credentials; the same credentials get the same task back (its keyrings persist). */
    public Task switchTo(Cred cred) {
        current = task(cred);
        return current;
    }

    private Task task(Cred cred) {
        return tasks.computeIfAbsent(cred, Task::spawn);
    }

    /** PCONFIG on the model's CPUs: the hardware statements and the kernel program the same key tables. */
    static final class MachinePconfig implements KeyTableProgrammer {
        private final Machine m;

        MachinePconfig(Machine m) {
            this.m = m;
        }

        @Override
        public ProgramStatus program(int cpu, KeyProgram p) {
            byte[] k1 = p.field1().clone();
            byte[] k2 = p.field2().clone();
            byte[] s = dev.memcrypt.hw.cpu.KeyProgram.build(p.keyId(), p.command(), p.algorithms(), 0, k1, k2);
            try {
                PconfigResult r = m.core(cpu).pconfig(s);
                return ProgramStatus.ofCode((int) r.rax());
            } finally {
                java.util.Arrays.fill(k1, (byte) 0);
                java.util.Arrays.fill(k2, (byte) 0);
                java.util.Arrays.fill(s, (byte) 0);
            }
        }
    }
}
