package dev.memcrypt.hw.cache;

/**
 * One set-associative, write-back cache with true LRU (per-set timestamps). Lines are tagged by
 * the <em>full</em> line number: the physical address including its KeyID bits, shifted right by
 * 6. The set index comes from the low address bits only, so the same physical line under two
 * KeyIDs lands in the same set as two different lines (SPEC-FACTS §1).
 *
 * <p>Flat arrays (tags, MESI state, LRU stamps, fill generation, sharer masks, data) keep lookups
 * allocation-free. {@link CacheSystem} implements the protocol on top.
 */
public final class Cache {
    public static final byte I = 0;
    public static final byte S = 1;
    public static final byte E = 2;
    public static final byte M = 3;
    public static final int LINE = 64;

    final int sets;
    final int ways;
    final int setMask;
    final int waysShift;
    final long[] tag;
    final byte[] state;
    final long[] stamp;
    /** KeyTable entry generation when the line was filled (for the invariant checker). */
    final long[] gen;
    /** LLC only: which cores of the package may hold the line in their L1 (bit = local core % 64). */
    final long[] sharers;
    final byte[] data;
    /** L1 only: the LLC slot holding the same line (stable while the line is in the L1, by inclusion). */
    final int[] up;
    /** Valid lines per set; lets snoops skip a package with nothing in the set (speed-only). */
    final int[] setCount;
    long clock;

    public Cache(int bytes, int ways) {
        int lines = bytes / LINE;
        this.ways = ways;
        this.sets = lines / ways;
        if (sets * ways * LINE != bytes || Integer.bitCount(sets) != 1) throw new IllegalArgumentException("cache geometry " + bytes + "/" + ways);
        this.setMask = sets - 1;
        this.waysShift = Integer.numberOfTrailingZeros(ways);
        if (1 << waysShift != ways) throw new IllegalArgumentException("ways must be a power of two: " + ways);
        tag = new long[lines];
        java.util.Arrays.fill(tag, -1L);
        state = new byte[lines];
        stamp = new long[lines];
        gen = new long[lines];
        sharers = new long[lines];
        data = new byte[lines * LINE];
        up = new int[lines];
        setCount = new int[sets];
    }

    public int sets() {
        return sets;
    }

    public int ways() {
        return ways;
    }

    /** The slot holding {@code line}, or -1. */
    int find(long line) {
        int b = ((int) line & setMask) << waysShift;
        for (int i = b, e = b + ways; i < e; i++) if (tag[i] == line) return i;
        return -1;
    }

    /** A slot for {@code line}: an invalid way if any, else the least recently used. */
    int victim(long line) {
        int b = ((int) line & setMask) << waysShift;
        int best = b;
        long bs = Long.MAX_VALUE;
        for (int i = b, e = b + ways; i < e; i++) {
            if (tag[i] == -1) return i;
            if (stamp[i] < bs) {
                bs = stamp[i];
                best = i;
            }
        }
        return best;
    }

    /**
     * One pass over the set: the slot holding {@code line} (&gt;= 0), or {@code -(victim + 1)} where
     * victim is an invalid way if any, else the least recently used one.
     */
    int lookup(long line) {
        int b = ((int) line & setMask) << waysShift;
        int victim = b;
        long best = Long.MAX_VALUE;
        boolean free = false;
        for (int i = b, e = b + ways; i < e; i++) {
            long t = tag[i];
            if (t == line) return i;
            if (free) continue;
            if (t == -1) {
                victim = i;
                free = true;
            } else if (stamp[i] < best) {
                best = stamp[i];
                victim = i;
            }
        }
        return -victim - 1;
    }

    void touch(int s) {
        stamp[s] = ++clock;
    }

    /** Installs {@code line} in the invalid slot {@code s}. */
    void put(int s, long line) {
        tag[s] = line;
        setCount[s >>> waysShift]++;
    }

    void drop(int s) {
        if (tag[s] != -1) setCount[s >>> waysShift]--;
        tag[s] = -1;
        state[s] = I;
        sharers[s] = 0;
    }

    /** Whether the set {@code line} maps to holds any valid line. */
    boolean setEmpty(long line) {
        return setCount[(int) line & setMask] == 0;
    }

    /** Number of valid lines (for tests and views). */
    public int validLines() {
        int n = 0;
        for (long t : tag) if (t != -1) n++;
        return n;
    }

    /** MESI state of {@code line} here, or I. */
    public byte stateOf(long line) {
        int s = find(line);
        return s < 0 ? I : state[s];
    }
}
