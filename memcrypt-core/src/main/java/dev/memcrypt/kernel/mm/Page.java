package dev.memcrypt.kernel.mm;

/**
 * A physical page in use (struct page, reduced): its frame, the KeyID its contents are encrypted
 * under, and how many address spaces map it as private anonymous memory (copy-on-write sharing
 * after fork). File, memfd and shared-anonymous pages are owned by their {@link ShmemFile}.
 */
public final class Page {
    final long pa;
    int keyId;
    /** Private anonymous mappers (1 = exclusive; more after fork, until a write copies it). */
    int mapCount = 1;
    /** Persistent-memory page: part of a namespace, never returned to the allocator. */
    final boolean fixed;

    Page(long pa, int keyId, boolean fixed) {
        this.pa = pa;
        this.keyId = keyId;
        this.fixed = fixed;
    }

    public long pa() {
        return pa;
    }

    public int keyId() {
        return keyId;
    }

    public int mapCount() {
        return mapCount;
    }

    @Override
    public String toString() {
        return String.format("Page[pa=0x%x keyid=%d map=%d]", pa, keyId, mapCount);
    }
}
