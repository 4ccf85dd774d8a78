package dev.memcrypt.kernel.mm;

import java.util.TreeMap;

/**
 * A file whose pages live in memory: a tmpfs file, a memfd, the shmem object behind a shared
 * anonymous mapping, or a persistent-memory namespace (pages at fixed physical addresses).
 *
 * <p>The file may carry an MKTME KeyID (the memfd proposal of seed 001/003: the key is set on the
 * file before it is sized; a pmem namespace gets its key at setup, like dm-crypt). Its pages are
 * then encrypted under that KeyID, and the file holds one reference on the KeyID for as long as it
 * exists. References to the file itself: open descriptors plus VMAs mapping it; when both are
 * gone and the file is not linked in a directory its pages are freed.
 */
public final class ShmemFile {
    public enum Kind { TMPFS, MEMFD, SHMEM_ANON, PMEM }

    final String name;
    final Kind kind;
    long size;
    int keyId;
    int keySerial;
    final TreeMap<Long, Page> pages = new TreeMap<>();
    /** PMEM only: physical base of the namespace. */
    final long fixedBase;
    int refs;
    boolean linked;

    ShmemFile(String name, Kind kind, long size, long fixedBase) {
        this.name = name;
        this.kind = kind;
        this.size = size;
        this.fixedBase = fixedBase;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public long size() {
        return size;
    }

    public int keyId() {
        return keyId;
    }

    public int residentPages() {
        return pages.size();
    }

    /** How /proc/PID/maps names the mapping. */
    String mapsName() {
        return switch (kind) {
            case TMPFS -> "/tmp/" + name;
            case MEMFD -> "/memfd:" + name + " (deleted)";
            case SHMEM_ANON -> "/dev/zero (deleted)";
            case PMEM -> "/dev/" + name;
        };
    }

    @Override
    public String toString() {
        return "ShmemFile[" + mapsName() + " size=" + size + " keyid=" + keyId + "]";
    }
}
