package dev.memcrypt.kernel.keys;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.keys.mktme.SoftPconfig;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.tools.keyctl.Keyctl;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/** A key service with a settable clock, a mktme type over soft PCONFIG, and root/user tasks. */
public final class KeysFixture {
    public static final class MutableClock implements InstantSource {
        private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

        @Override
        public Instant instant() {
            return now.get();
        }

        public void advance(Duration d) {
            now.updateAndGet(i -> i.plus(d));
        }
    }

    public final MutableClock clock = new MutableClock();
    public final KeyService svc;
    public final SoftPconfig pconfig;
    public final MktmeKeyType mktme;
    public final Task root = Task.spawn(Cred.root());
    public final Task alice = Task.spawn(Cred.parse("uid=1000 gid=1000"));
    public final Keyctl keyctl;

    public KeysFixture() {
        this(2, 2, 7, false);
    }

    public KeysFixture(int packages, int cpusPerPackage, int nrKeyIds, boolean saveKeys) {
        svc = new KeyService(clock, new SplittableRandom(42), KeyService.Limits.linuxDefaults());
        pconfig = new SoftPconfig(packages, cpusPerPackage, nrKeyIds, Entropy.seeded(7));
        mktme = new MktmeKeyType(new MktmeKeyIds(nrKeyIds), pconfig, Entropy.seeded(9), saveKeys);
        for (int cpu = 0; cpu < pconfig.cpus(); cpu++) mktme.cpuOnlineAtBoot(cpu, pconfig.packageOf(cpu));
        svc.registerType(mktme);
        keyctl = new Keyctl(svc);
    }

    /** Result of one keyctl run. */
    public record Run(int exit, String out, String err) {}

    public Run keyctl(Task t, String... argv) {
        return keyctlIn(t, new byte[0], argv);
    }

    public Run keyctlIn(Task t, byte[] stdin, String... argv) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int rc = keyctl.run(t, List.of(argv), new java.io.ByteArrayInputStream(stdin),
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(rc, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /** keyctl that must succeed; returns trimmed stdout. */
    public String ok(Task t, String... argv) {
        Run r = keyctl(t, argv);
        if (r.exit() != 0) throw new AssertionError("keyctl " + String.join(" ", argv) + " exit " + r.exit() + ": " + r.err());
        return r.out().strip();
    }
}
