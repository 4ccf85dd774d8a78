package dev.memcrypt.kernel.mm;

/**
 * A virtual memory area (vm_area_struct, reduced): [start, end), protection, sharing, backing
 * (none for private anonymous memory; a {@link ShmemFile} for shared anonymous, tmpfs files,
 * memfd and pmem namespaces), the protection key, and the MKTME KeyID (0 = the TME key).
 * A VMA with a KeyID holds one reference on it in the mktme KeyID map; {@link AddressSpace} is the
 * only code that creates, splits, merges or removes VMAs, and moves the reference with them.
 */
public final class Vma {
    long start;
    long end;
    int prot;
    final boolean shared;
    final ShmemFile file;
    /** File offset of {@link #start}, in pages. */
    long pgoff;
    int keyId;
    int pkey;
    /** Neighbours in address order (maintained by {@link AddressSpace}). */
    Vma prev, next;

    Vma(long start, long end, int prot, boolean shared, ShmemFile file, long pgoff, int keyId, int pkey) {
        this.start = start;
        this.end = end;
        this.prot = prot;
        this.shared = shared;
        this.file = file;
        this.pgoff = pgoff;
        this.keyId = keyId;
        this.pkey = pkey;
    }

    Vma copy() {
        return new Vma(start, end, prot, shared, file, pgoff, keyId, pkey);
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }

    public long length() {
        return end - start;
    }

    public int prot() {
        return prot;
    }

    public boolean shared() {
        return shared;
    }

    public ShmemFile file() {
        return file;
    }

    public long pgoff() {
        return pgoff;
    }

    public int keyId() {
        return keyId;
    }

    public int pkey() {
        return pkey;
    }

    /** Private anonymous memory: the only kind encrypt_mprotect accepts (SPEC-FACTS §2). */
    public boolean anonymousPrivate() {
        return file == null && !shared;
    }

    /** vma_is_anonymous(): no file (shared anonymous memory is shmem-backed, so not anonymous). */
    public boolean anonymous() {
        return file == null;
    }

    /** Page offset in the backing file of {@code va}. */
    long fileIndex(long va) {
        return pgoff + ((va - start) >>> 12);
    }

    @Override
    public String toString() {
        return String.format("Vma[0x%x-0x%x %s keyid=%d%s]", start, end, Mman.protString(prot, shared), keyId, file == null ? "" : " " + file.name());
    }
}
