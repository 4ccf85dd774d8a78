package dev.memcrypt.script.mm;

import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.script.Session;
import java.nio.file.Path;

/**
 * A script's booted kernel (key service + mktme type + memory manager) on the session's machine,
 * with one root process (pid 1 of the script) running. Created by the first process statement.
 * Options come from {@code mm boot} ({@code pmem=FILE pmem_size=N encrypted_swap=true}) if it is
 * the first process statement.
 */
public final class MmState {
    final MmKernel k;

    MmState(MmKernel k) {
        this.k = k;
        k.spawn(Cred.root());
    }

    static MmState of(Session s) {
        return s.state(MmState.class, () -> new MmState(MmKernel.boot(s.machine())));
    }

    static MmState boot(Session s, Path pmem, long pmemSize, boolean encryptedSwap) {
        if (s.existingState(MmState.class).isPresent()) throw new IllegalArgumentException("the kernel is already booted (mm boot must come before other process statements)");
        MmKernel.Options o = MmKernel.Options.defaults().withEncryptedSwap(encryptedSwap);
        if (pmem != null) o = o.withPmem(pmem, pmemSize);
        MmState st = new MmState(MmKernel.boot(s.machine(), o));
        s.setState(MmState.class, st);
        return st;
    }

    Process current() {
        Process p = k.current();
        if (p == null) throw new IllegalArgumentException("no process is running (all exited)");
        return p;
    }
}
