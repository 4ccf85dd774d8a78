package dev.memcrypt.kernel.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeInvariants;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * Key programming on the machine model racing with CPU hotplug of a whole package (mktme_savekeys):
 * afterwards every online package's key table matches the KeyID map and the machine's own
 * invariants hold. Only user/clear/no-encrypt keys, whose contents are the same on every package.
 */
class KernelHotplugStressTest {
    static final String[] OPTS = {
        "type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100",
        "type=user algorithm=aes-xts-128 key=0f0e0d0c0b0a09080706050403020100 tweak=101112131415161718191a1b1c1d1e1f",
        "type=clear",
        "type=no-encrypt",
    };

    @Test
    void programmingRacesWithPackageHotplug() throws Exception {
        Kernel k = Kernel.boot(Machine.powerOn(MachineConfig.defaults().with("seed", "3").with("max_keys", "15")), "mktme_savekeys");
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            final int worker = w;
            ts.add(new Thread(() -> {
                SplittableRandom r = new SplittableRandom(worker);
                Task t = k.spawn(Cred.root());
                List<Integer> mine = new ArrayList<>();
                for (int i = 0; i < 3000; i++) {
                    try {
                        int op = r.nextInt(10);
                        if (op < 4 || mine.isEmpty()) {
                            mine.add(k.keys().addKey(t, "mktme", "w" + worker + "k" + r.nextInt(8),
                                    OPTS[r.nextInt(OPTS.length)].getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING));
                        } else if (op < 7) {
                            k.keys().update(t, mine.get(r.nextInt(mine.size())), OPTS[r.nextInt(OPTS.length)].getBytes(StandardCharsets.UTF_8));
                        } else {
                            k.keys().invalidate(t, mine.remove(r.nextInt(mine.size())));
                        }
                    } catch (ErrnoException e) {
                        if (e.errno() != Errno.ENOKEY) failures.add(e);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }));
        }
        Thread hot = new Thread(() -> {
            SplittableRandom r = new SplittableRandom(99);
            for (int i = 0; i < 400; i++) {
                try {
                    int cpu = 2 + r.nextInt(2);
                    if (k.machine().isOnline(cpu)) k.cpuOffline(cpu);
                    else k.cpuOnline(cpu);
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.ENOKEY) failures.add(e);
                } catch (Throwable e) {
                    failures.add(e);
                }
                Thread.yield();
            }
        });
        ts.add(hot);
        ts.forEach(Thread::start);
        for (Thread th : ts) th.join();
        assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
        k.keys().gc();
        List<String> v = MktmeInvariants.check(k.keys(), k.mktme(), p -> k.machine().pkg(p).keyTable(), null);
        assertEquals(List.of(), v);
        assertEquals(List.of(), k.machine().checkInvariants());
    }
}
