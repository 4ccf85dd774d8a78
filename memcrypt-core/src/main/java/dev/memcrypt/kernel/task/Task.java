package dev.memcrypt.kernel.task;

import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;

/**
 * A thread: the subject of every system call. Carries its credentials and its thread keyring
 * (@t); the process and session keyrings live in its {@link Process}. The user and
 * user-session keyrings (@u, @us) are per uid and live in the key service.
 */
public final class Task {
    private final int tid;
    private final Process process;
    private volatile Cred cred;
    private volatile Key threadKeyring;

    Task(int tid, Process process, Cred cred) {
        if (cred == null) throw new IllegalArgumentException("cred must not be null");
        this.tid = tid;
        this.process = process;
        this.cred = cred;
    }

    /** A new single-threaded process running with {@code cred}; convenience for tests and tools. */
    public static Task spawn(Cred cred) {
        return Process.spawn(cred).mainThread();
    }

    public int tid() {
        return tid;
    }

    public Process process() {
        return process;
    }

    public Cred cred() {
        return cred;
    }

    /** commit_creds(): switches this thread's credentials (scripts' {@code as uid=...}). */
    public void setCred(Cred cred) {
        if (cred == null) throw new IllegalArgumentException("cred must not be null");
        this.cred = cred;
    }

    public Key threadKeyring() {
        return threadKeyring;
    }

    /** Key service only: installs the thread keyring, returning the previous one. */
    public Key setThreadKeyring(Key k) {
        Key old = threadKeyring;
        threadKeyring = k;
        return old;
    }

    @Override
    public String toString() {
        return "Task[" + tid + ", " + cred + "]";
    }
}
