package dev.memcrypt.kernel.task;

import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A process (thread group): its threads and the keyrings shared by them (the process keyring
 * and the session keyring, which Linux keeps in the creds of every thread of the group).
 *
 * <p>Kept small on purpose: later issues extend processes with address spaces; add fields in
 * a subclass-free way (composition) rather than growing this class's keyring logic. The keyring
 * slots are written only by the key service ({@code dev.memcrypt.kernel.keys.KeyService}),
 * which also owns the references they hold.
 */
public final class Process {
    private static final AtomicInteger NEXT_PID = new AtomicInteger(1);

    private final int pid;
    private final List<Task> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextTid;
    private volatile Key processKeyring;
    private volatile Key sessionKeyring;

    private Process(int pid) {
        this.pid = pid;
        this.nextTid = new AtomicInteger(pid);
    }

    /** A new process with one thread running with {@code cred} and no keyrings yet. */
    public static Process spawn(Cred cred) {
        Process p = new Process(NEXT_PID.getAndIncrement());
        p.newThread(cred);
        return p;
    }

    public int pid() {
        return pid;
    }

    /** The first thread (tid == pid). */
    public Task mainThread() {
        return threads.get(0);
    }

    public List<Task> threads() {
        return List.copyOf(threads);
    }

    /** clone(CLONE_THREAD): a new thread sharing the process and session keyrings. */
    public Task newThread(Cred cred) {
        int tid = threads.isEmpty() ? pid : NEXT_PID.getAndIncrement();
        Task t = new Task(tid, this, cred);
        threads.add(t);
        return t;
    }

    /** The process keyring (@p), or null if not yet created. */
    public Key processKeyring() {
        return processKeyring;
    }

    /** The session keyring (@s), or null if none is installed yet. */
    public Key sessionKeyring() {
        return sessionKeyring;
    }

    /** Key service only: installs the process keyring, returning the previous one. */
    public Key setProcessKeyring(Key k) {
        Key old = processKeyring;
        processKeyring = k;
        return old;
    }

    /** Key service only: installs the session keyring, returning the previous one. */
    public Key setSessionKeyring(Key k) {
        Key old = sessionKeyring;
        sessionKeyring = k;
        return old;
    }

    @Override
    public String toString() {
        return "Process[" + pid + "]";
    }
}
