package dev.memcrypt.kernel.task;

import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.mm.AddressSpace;
import dev.memcrypt.kernel.mm.FdTable;
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
    /** The parent (fork), or null for a process spawned from nothing. */
    private final Process parent;
    /** The address space (mm_struct); null until the memory manager gives it one, and after exit. */
    private volatile AddressSpace mm;
    /** Open files (memfd, tmpfs, pmem namespaces); owned by the memory manager. */
    private volatile FdTable files;
    private volatile boolean exited;
    private volatile int exitCode;

    private Process(int pid, Process parent) {
        this.pid = pid;
        this.parent = parent;
        this.nextTid = new AtomicInteger(pid);
    }

    /** A new process with one thread running with {@code cred} and no keyrings yet. */
    public static Process spawn(Cred cred) {
        Process p = new Process(NEXT_PID.getAndIncrement(), null);
        p.newThread(cred);
        return p;
    }

    /**
     * fork(): a new process whose one thread runs with {@code cred} (the forking thread's). Keyrings,
     * address space and files are copied by their owners (key service, memory manager).
     */
    public static Process forkOf(Process parent, Cred cred) {
        if (parent == null) throw new IllegalArgumentException("parent must not be null");
        Process p = new Process(NEXT_PID.getAndIncrement(), parent);
        p.newThread(cred);
        return p;
    }

    public Process parent() {
        return parent;
    }

    /** The address space, or null (none yet, or exited). */
    public AddressSpace mm() {
        return mm;
    }

    /** Memory manager only: installs (or with null drops) the address space. */
    public void setMm(AddressSpace mm) {
        this.mm = mm;
    }

    public FdTable files() {
        return files;
    }

    /** Memory manager only: installs the open-file table. */
    public void setFiles(FdTable f) {
        this.files = f;
    }

    public boolean exited() {
        return exited;
    }

    public int exitCode() {
        return exitCode;
    }

    /** Marks the process dead (its owners have already released its resources). */
    public void markExited(int code) {
        exitCode = code;
        exited = true;
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
