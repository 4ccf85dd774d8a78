package dev.memcrypt.kernel.mm;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A small machine with the memory manager booted and one root process. */
public final class MmFixture {
    public final Machine m;
    public final MmKernel k;
    public final Process p;
    public final Task t;

    public MmFixture() {
        this(MmKernel.Options.defaults());
    }

    public MmFixture(MmKernel.Options o) {
        this(config(), o);
    }

    public MmFixture(MachineConfig c, MmKernel.Options o) {
        m = Machine.powerOn(c);
        k = MmKernel.boot(m, o);
        p = k.spawn(Cred.root());
        t = p.mainThread();
    }

    /**
     * The default two packages: the mktme type programs cpu keys with SET_KEY_RANDOM per package,
     * and each address is served by its home package's controller, so differing random keys are fine.
     */
    public static MachineConfig config() {
        return MachineConfig.defaults().with("l1", "4K").with("llc", "64K").with("dram", "128M");
    }

    public int addKey(String options) throws ErrnoException {
        return k.keys().addKey(t, "mktme", "k" + System.nanoTime(), options.getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
    }

    public int cpuKey() throws ErrnoException {
        return addKey("type=cpu algorithm=aes-xts-128");
    }

    public long anon(long len, int prot) throws ErrnoException {
        return k.mmap(p, 0, len, prot, Mman.MAP_ANONYMOUS | Mman.MAP_PRIVATE, -1, 0);
    }

    public void assertInvariants() {
        List<String> v = k.checkInvariants();
        if (!v.isEmpty()) throw new AssertionError("mm invariants: " + v);
        List<String> h = m.checkInvariants();
        if (!h.isEmpty()) throw new AssertionError("machine invariants: " + h);
    }
}
