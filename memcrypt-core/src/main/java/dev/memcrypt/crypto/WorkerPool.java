package dev.memcrypt.crypto;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Speed-only prepared state for one key and one engine: a pool of workers (each with its own
 * ciphers or native contexts and scratch buffers), so threads never share a cipher object.
 *
 * <p>Design note: a pool instead of a ThreadLocal because the state belongs to the key, not the
 * thread: destroying the key must reach every copy of the key schedule. Workers in use when the key
 * is destroyed are closed when they are handed back.
 */
final class WorkerPool<W extends AutoCloseable> implements AutoCloseable {
    /** Fast path: one idle worker, taken and returned with one atomic swap each (no allocation). */
    private final AtomicReference<W> hot = new AtomicReference<>();
    private final ConcurrentLinkedDeque<W> idle = new ConcurrentLinkedDeque<>();
    private final Supplier<W> factory;
    private volatile boolean closed;

    WorkerPool(Supplier<W> factory) {
        this.factory = factory;
    }

    W acquire() {
        if (closed) throw new IllegalStateException("XtsKey used after destroy()");
        W w = hot.getAndSet(null);
        if (w != null) return w;
        w = idle.pollFirst();
        if (w != null) return w;
        w = factory.get(); // throws once the key is destroyed
        if (closed) {
            try {
                w.close();
            } catch (Exception ignored) {
                // wiping must not fail
            }
            throw new IllegalStateException("XtsKey used after destroy()");
        }
        return w;
    }

    void release(W w) {
        if (!hot.compareAndSet(null, w)) idle.offerFirst(w);
        if (closed) drain();
    }

    @Override
    public void close() {
        closed = true;
        drain();
    }

    private void drain() {
        W w = hot.getAndSet(null);
        if (w != null) idle.offerFirst(w);
        while ((w = idle.pollFirst()) != null) {
            try {
                w.close();
            } catch (Exception ignored) {
                // wiping must not fail
            }
        }
    }

    /** For tests: workers currently idle. */
    int idleCount() {
        return idle.size() + (hot.get() != null ? 1 : 0);
    }
}
