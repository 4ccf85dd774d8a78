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
    final long[] tag;
    final byte[] state;
    final long[] stamp;
    /** KeyTable entry generation when the line was filled (for the invariant checker). */
    final long[] gen;
    /** LLC only: which cores of the package may hold the line in their L1 (bit = local core % 64). */
    final long[] sharers;
    final byte[] data;
    long clock;

    public Cache(int bytes, int ways) {
        int lines = bytes / LINE;
        this.ways = ways;
        this.sets = lines / ways;
        if (sets * ways * LINE != bytes || Integer.bitCount(sets) != 1) throw new IllegalArgumentException("cache geometry " + bytes + "/" + ways);
        this.setMask = sets - 1;
        tag = new long[lines];
        java.util.Arrays.fill(tag, -1L);
        state = new byte[lines];
        stamp = new long[lines];
        gen = new long[lines];
        sharers = new long[lines];
        data = new byte[lines * LINE];
    }

    public int sets() {
        return sets;
    }

    public int ways() {
        return ways;
    }

    /** The slot holding {@code line}, or -1. */
    int find(long line) {
        int b = ((int) line & setMask) * ways;
        for (int i = b, e = b + ways; i < e; i++) if (tag[i] == line) return i;
        return -1;
    }

    /** A slot for {@code line}: an invalid way if any, else the least recently used. */
    int victim(long line) {
        int b = ((int) line & setMask) * ways;
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

    void touch(int s) {
        stamp[s] = ++clock;
    }

    void drop(int s) {
        tag[s] = -1;
        state[s] = I;
        sharers[s] = 0;
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
