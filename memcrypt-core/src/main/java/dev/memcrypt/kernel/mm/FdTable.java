package dev.memcrypt.kernel.mm;

import java.util.Map;
import java.util.TreeMap;

/** A process's open files (files_struct, reduced): descriptor -> file. Descriptors 0..2 are reserved (stdio). */
public final class FdTable {
    final TreeMap<Integer, ShmemFile> fds = new TreeMap<>();

    int install(ShmemFile f) {
        int fd = 3;
        while (fds.containsKey(fd)) fd++;
        fds.put(fd, f);
        return fd;
    }

    public ShmemFile get(int fd) {
        return fds.get(fd);
    }

    public Map<Integer, ShmemFile> all() {
        return java.util.Collections.unmodifiableMap(fds);
    }
}
