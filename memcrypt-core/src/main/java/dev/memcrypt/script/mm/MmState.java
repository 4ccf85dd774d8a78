package dev.memcrypt.script.mm;

import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.script.Session;
import dev.memcrypt.script.kernel.ScriptKernel;
import java.nio.file.Path;

/**
 * The memory manager of a script, attached to the script's kernel ({@link ScriptKernel}: the same
 * key service, so keys made with {@code keyctl} or {@code add_key} work with encrypt_mprotect).
 * The current process starts as the kernel's current task's process (init, root); {@code fork},
 * {@code switch} and {@code exit} change it; after {@code as}, the new task's process becomes
 * current. Options come from {@code mm boot} if it comes before the other memory statements.
 */
public final class MmState {
    final MmKernel k;
    private final ScriptKernel sk;
    private Task lastKernelTask;

    private MmState(ScriptKernel sk, MmKernel.Options o) {
        this.sk = sk;
        this.k = MmKernel.attach(sk.kernel(), o);
    }

    static MmState of(Session s) {
        return s.state(MmState.class, () -> new MmState(ScriptKernel.of(s), MmKernel.Options.defaults()));
    }

    static MmState boot(Session s, Path pmem, long pmemSize, boolean encryptedSwap) {
        if (s.existingState(MmState.class).isPresent()) throw new IllegalArgumentException("the memory manager is already running (mm boot must come before other memory statements)");
        MmKernel.Options o = MmKernel.Options.defaults().withEncryptedSwap(encryptedSwap);
        if (pmem != null) o = o.withPmem(pmem, pmemSize);
        MmState st = new MmState(ScriptKernel.of(s), o);
        s.setState(MmState.class, st);
        return st;
    }

    Process current() {
        Task kt = sk.current();
        if (kt != lastKernelTask) { // first use, or "as" chose another task
            lastKernelTask = kt;
            if (!kt.process().exited()) return k.makeCurrent(kt.process());
        }
        Process p = k.current();
        if (p == null) throw new IllegalArgumentException("no process is running (all exited)");
        return p;
    }
}
