package dev.memcrypt.kernel.keys.mktme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.KeysFixture;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Threads add, update, invalidate and revoke mktme keys (and take/drop VMA-style KeyID references)
 * at once; afterwards the invariant checker must find the KeyID map, the live keys and every
 * package's key table consistent, with no KeyID leaked and no half-created key.
 */
class MktmeStressTest {
    static final String K = "00112233445566778899aabbccddeeff";
    static final String T = "ffeeddccbbaa99887766554433221100";
    static final String[] OPTS = {
        "type=cpu algorithm=aes-xts-128",
        "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T,
        "type=clear",
        "type=no-encrypt",
        "type=cpu algorithm=aes-xts-128 key=" + T,
    };
    static final Set<Errno> EXPECTED = EnumSet.of(Errno.ENOKEY, Errno.EBUSY, Errno.EKEYREVOKED, Errno.EKEYEXPIRED, Errno.EACCES); // EACCES: a refilled key no longer possessed

    /** What a stress run drives: the key service, the mktme type, its clock, and each package's key table. */
    record Rig(KeyService svc, MktmeKeyType mktme, KeysFixture.MutableClock clock, IntFunction<KeyTable> table) {
        static Rig soft() {
            KeysFixture f = new KeysFixture(2, 2, 31, true);
            return new Rig(f.svc, f.mktme, f.clock, f.pconfig::table);
        }

        /** The machine model's own PCONFIG and per-package key tables (2 packages x 2 cores), as the booted kernel uses them. */
        static Rig machine() {
            Machine m = Machine.powerOn(MachineConfig.defaults().with("l1", "4K").with("llc", "64K").with("dram", "64M"), Entropy.seeded(5));
            KeysFixture.MutableClock clock = new KeysFixture.MutableClock();
            KeyService svc = new KeyService(clock, new SplittableRandom(42), KeyService.Limits.linuxDefaults());
            MktmeKeyType t = new MktmeKeyType(new MktmeKeyIds(31), new MachinePconfig(m), Entropy.seeded(9), true);
            for (int cpu = 0; cpu < m.config().cores(); cpu++) t.cpuOnlineAtBoot(cpu, m.core(cpu).pkg().id());
            svc.registerType(t);
            return new Rig(svc, t, clock, p -> m.pkg(p).keyTable());
        }
    }

    @Test
    void stress100kOperations() throws Exception {
        run(Rig.soft(), 4, 25_000);
    }

    /** The same 100,000 operations against the machine model's PCONFIG (DEVICE_BUSY, real key tables and their generations). */
    @Test
    void stress100kOperationsOnTheMachinesKeyTables() throws Exception {
        run(Rig.machine(), 4, 25_000);
    }

    @Tag("slow")
    @Test
    void stress1MOperations() throws Exception {
        run(Rig.soft(), 4, 250_000);
    }

    void run(Rig f, int threads, int opsPerThread) throws Exception {
        Map<Integer, Boolean> serials = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Integer> vmaRefs = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Map<Errno, AtomicLong> byErrno = new ConcurrentHashMap<>();
        AtomicLong ops = new AtomicLong(), errors = new AtomicLong(), created = new AtomicLong();
        List<Thread> ts = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            final int worker = w;
            Thread th = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(1000 + worker);
                Task t = Task.spawn(Cred.root());
                for (int i = 0; i < opsPerThread; i++) {
                    ops.incrementAndGet();
                    try {
                        int op = r.nextInt(100);
                        if (serials.size() < 8 && r.nextInt(16) == 0) {
                            for (Key lk : f.svc().liveKeys()) if (lk.type() == f.mktme() && !lk.isDead()) serials.put(lk.serial(), true);
                        }
                        Integer pick = pick(serials, r);
                        if (op < 30 || pick == null) {
                            int id = f.svc().addKey(t, "mktme", "w" + worker + "-" + r.nextInt(40),
                                    OPTS[r.nextInt(OPTS.length)].getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_USER_KEYRING);
                            serials.put(id, true);
                            created.incrementAndGet();
                        } else if (op < 45) {
                            f.svc().update(t, pick, OPTS[r.nextInt(OPTS.length)].getBytes(StandardCharsets.UTF_8));
                        } else if (op < 68) {
                            serials.remove(pick);
                            f.svc().invalidate(t, pick);
                        } else if (op < 73) {
                            f.svc().revoke(t, pick);
                        } else if (op < 83) {
                            Key k = f.svc().acquire(pick);
                            if (k != null) {
                                try {
                                    int keyId = MktmeKeyType.keyIdOf(k);
                                    if (keyId != 0) {
                                        f.mktme().keyIds().get(keyId);
                                        vmaRefs.add(keyId);
                                    }
                                } finally {
                                    f.svc().release(k);
                                }
                            } else {
                                serials.remove(pick);
                            }
                        } else if (op < 95) {
                            Integer keyId = vmaRefs.poll();
                            if (keyId != null) f.mktme().keyIds().put(keyId);
                        } else if (op < 98) {
                            f.svc().unlink(t, pick, KeyService.KEY_SPEC_USER_KEYRING);
                            serials.remove(pick);
                        } else {
                            if (worker == 0) f.clock().advance(Duration.ofSeconds(301));
                            f.svc().gc();
                        }
                    } catch (ErrnoException e) {
                        errors.incrementAndGet();
                        byErrno.computeIfAbsent(e.errno(), x -> new AtomicLong()).incrementAndGet();
                        if (e.errno() == Errno.EKEYREVOKED || e.errno() == Errno.EKEYEXPIRED) {
                            Integer stale = pick(serials, r);
                            if (stale != null) serials.remove(stale);
                        }
                        if (e.errno() == Errno.ENOKEY || e.errno() == Errno.ENOENT) {
                            // a key chosen a moment ago may be gone (ENOKEY) or unlinked (ENOENT)
                        } else if (!EXPECTED.contains(e.errno())) {
                            failures.add(e);
                        }
                        if (e.getMessage().toLowerCase().contains(K.substring(0, 12))) failures.add(new AssertionError("key bytes in message"));
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) th.join();
        assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
        assertEquals((long) threads * opsPerThread, ops.get());
        assertTrue(ops.get() >= 100_000);

        // quiesce: drop VMA references, collect garbage, then check
        f.svc().gc();
        List<String> v0 = MktmeInvariants.check(f.svc(), f.mktme(), f.table(), counts(vmaRefs));
        assertEquals(List.of(), v0, "with VMA references outstanding");
        Integer k;
        while ((k = vmaRefs.poll()) != null) f.mktme().keyIds().put(k);
        f.clock().advance(Duration.ofSeconds(301));
        f.svc().gc();
        assertEquals(List.of(), MktmeInvariants.check(f.svc(), f.mktme(), f.table(), null));
        // everything cleared away: every KeyID is free again
        f.svc().clear(Task.spawn(Cred.root()), KeyService.KEY_SPEC_USER_KEYRING);
        assertEquals(31, f.mktme().keyIds().available(), "no KeyID leaked");
        assertEquals(List.of(), MktmeInvariants.check(f.svc(), f.mktme(), f.table(), null));
        assertFalse(created.get() == 0);
        System.out.printf("mktme stress: %d ops, %d keys created, %d errno results %s%n", ops.get(), created.get(), errors.get(), byErrno);
    }

    static Integer pick(Map<Integer, Boolean> serials, SplittableRandom r) {
        if (serials.isEmpty()) return null;
        Object[] a = serials.keySet().toArray();
        return a.length == 0 ? null : (Integer) a[r.nextInt(a.length)];
    }

    static Map<Integer, Integer> counts(ConcurrentLinkedQueue<Integer> q) {
        Map<Integer, Integer> m = new java.util.HashMap<>();
        for (int k : q) m.merge(k, 1, Integer::sum);
        return m;
    }
}
