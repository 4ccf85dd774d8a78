package dev.memcrypt.kernel.mm;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The constants of the memory system calls, with Linux's x86-64 values (uapi asm-generic/mman-common.h,
 * linux/mman.h, linux/memfd.h), and a parser for flag expressions such as
 * {@code PROT_READ|PROT_WRITE} (names, numbers, or both joined with '|').
 */
public final class Mman {
    private Mman() {}

    public static final long PAGE = 4096;
    /** Top of user space (47-bit virtual addresses, 4-level paging). */
    public static final long TASK_SIZE = 1L << 47;
    /** Where top-down mmap placement starts (model choice, below the stack area). */
    public static final long MMAP_BASE = 0x7f00_0000_0000L;
    /** Lowest address mmap hands out without MAP_FIXED (vm.mmap_min_addr). */
    public static final long MMAP_MIN_ADDR = 0x10000;

    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_TYPE = 0x0f, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_POPULATE = 0x8000, MAP_FIXED_NOREPLACE = 0x100000;
    public static final int MADV_NORMAL = 0, MADV_DONTNEED = 4, MADV_COLD = 20, MADV_PAGEOUT = 21;
    public static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public static final int O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40;

    public static final Map<String, Integer> PROT = names("PROT_NONE", PROT_NONE, "PROT_READ", PROT_READ, "PROT_WRITE", PROT_WRITE, "PROT_EXEC", PROT_EXEC);
    public static final Map<String, Integer> MAP = names("MAP_SHARED", MAP_SHARED, "MAP_PRIVATE", MAP_PRIVATE, "MAP_FIXED", MAP_FIXED,
            "MAP_ANONYMOUS", MAP_ANONYMOUS, "MAP_ANON", MAP_ANONYMOUS, "MAP_POPULATE", MAP_POPULATE, "MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE);
    public static final Map<String, Integer> MADV = names("MADV_NORMAL", MADV_NORMAL, "MADV_DONTNEED", MADV_DONTNEED, "MADV_COLD", MADV_COLD,
            "MADV_PAGEOUT", MADV_PAGEOUT);
    public static final Map<String, Integer> MREMAP = names("MREMAP_MAYMOVE", MREMAP_MAYMOVE, "MREMAP_FIXED", MREMAP_FIXED);
    public static final Map<String, Integer> MFD = names("MFD_CLOEXEC", MFD_CLOEXEC, "MFD_ALLOW_SEALING", MFD_ALLOW_SEALING);
    /** pkey_alloc(2) access rights. */
    public static final Map<String, Integer> PKEY = names("PKEY_DISABLE_ACCESS", AddressSpace.PKEY_DISABLE_ACCESS, "PKEY_DISABLE_WRITE", AddressSpace.PKEY_DISABLE_WRITE);
    public static final Map<String, Integer> OPEN = names("O_RDONLY", O_RDONLY, "O_RDWR", O_RDWR, "O_CREAT", O_CREAT);

    private static Map<String, Integer> names(Object... kv) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Integer) kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * Parses {@code A|B|0x10} against {@code names} (case-insensitive). IllegalArgumentException
     * names the unknown word and the valid ones.
     */
    public static int parse(String expr, Map<String, Integer> names) {
        if (expr == null || expr.isBlank()) throw new IllegalArgumentException("empty flag expression");
        int v = 0;
        for (String w : expr.split("\\|")) {
            String t = w.strip();
            Integer n = names.get(t.toUpperCase(Locale.ROOT));
            if (n != null) {
                v |= n;
                continue;
            }
            try {
                v |= t.startsWith("0x") || t.startsWith("0X") ? Integer.parseUnsignedInt(t.substring(2), 16) : Integer.parseInt(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + t + "' is not a number or one of " + String.join(", ", names.keySet()));
            }
        }
        return v;
    }

    /** The rwx form used by /proc/PID/maps. */
    public static String protString(int prot, boolean shared) {
        return ((prot & PROT_READ) != 0 ? "r" : "-") + ((prot & PROT_WRITE) != 0 ? "w" : "-") + ((prot & PROT_EXEC) != 0 ? "x" : "-") + (shared ? "s" : "p");
    }

    public static boolean aligned(long v) {
        return (v & (PAGE - 1)) == 0;
    }

    /** PAGE_ALIGN(len): rounded up; -1 on overflow. */
    public static long pageAlign(long len) {
        long r = (len + PAGE - 1) & ~(PAGE - 1);
        return r < len ? -1 : r;
    }
}
