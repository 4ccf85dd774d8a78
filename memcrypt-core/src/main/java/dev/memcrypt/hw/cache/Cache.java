package dev.memcrypt.hw.cache;

/**
 * One set-associative, write-back cache with true LRU (a per-set recency permutation in one
 * long for up to 16 ways, timestamps beyond). Lines are tagged by
 * the <em>full</em> line number: the physical address including its KeyID bits, shifted right by
 * 6. The set index comes from the low address bits only, so the same physical line under two
 * KeyIDs lands in the same set as two different lines (SPEC-FACTS §1).
 *
 * <p>Flat arrays (tags, MESI state, LRU stamps, fill generation, sharer masks, data) keep lookups
 * allocation-free. Slots are numbered way-major ({@code way * sets + set}), so one way of
 * consecutive sets (where a stream of whole pages lands) is contiguous in every array. {@link CacheSystem} implements the protocol on top.
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
    /** Slots are numbered way-major: slot = way * sets + set (so one way of consecutive sets is contiguous in every array). */
    final int setShift;
    final long[] tag;
    /** Per slot: fill generation &lt;&lt; 2 | MESI state. */
    final long[] meta;
    /** LLC only (null in an L1): per slot, the mask of the package's L1s that may hold the line. */
    final long[] sharers;
    /** LRU for more than 16 ways: last-use stamps. */
    final long[] stamp;
    /** LRU for up to 16 ways: per set, way numbers in 4-bit nibbles from MRU (low) to LRU; unused nibbles 0xf. */
    final long[] order;
    /** For {@link #order}: bit position of the LRU nibble, and the mask of the unused (0xf) nibbles. */
    final int lruShift;
    final long unusedNibbles;
    /** Line bytes, 64 per slot; null in an L1, whose lines' bytes live in the LLC (see {@link CacheSystem}). */
    final byte[] data;
    /** L1 only: the LLC slot holding the same line (stable while the line is in the L1, by inclusion). */
    final int[] up;
    /** Valid lines per set; lets snoops skip a package with nothing in the set (speed-only). */
    final int[] setCount;
    /** Valid lines in the whole cache (speed-only: lets a stream skip an empty LLC's page filter). */
    int count;
    long clock;
    /**
     * Speed-only (LLC only, null in L1s): counts of valid lines per hashed 4 KiB page of full
     * address, so streaming accesses can skip a page no cache holds a line of without looking up
     * each line. Exact for "zero", may over-count (hash collisions).
     */
    int[] pageFilter;
    static final int FILTER = 1 << 16;

    static int bucket(long line) {
        long p = (line >>> 6) * 0x9E3779B97F4A7C15L;
        return (int) (p >>> 48);
    }

    void enablePageFilter() {
        pageFilter = new int[FILTER];
    }

    /** Whether no line of the 4 KiB page containing {@code line} is here (false may be a collision). */
    boolean pageSurelyAbsent(long line) {
        return count == 0 || pageFilter[bucket(line)] == 0;
    }

    public Cache(int bytes, int ways) {
        this(bytes, ways, true);
    }

    /** A cache with or without its own line storage ({@code withData} false: an L1 of {@link CacheSystem}). */
    Cache(int bytes, int ways, boolean withData) {
        int lines = bytes / LINE;
        this.ways = ways;
        this.sets = lines / ways;
        if (sets * ways * LINE != bytes || Integer.bitCount(sets) != 1) throw new IllegalArgumentException("cache geometry " + bytes + "/" + ways);
        this.setMask = sets - 1;
        this.setShift = Integer.numberOfTrailingZeros(sets);
        this.waysShift = Integer.numberOfTrailingZeros(ways);
        if (1 << waysShift != ways) throw new IllegalArgumentException("ways must be a power of two: " + ways);
        tag = new long[lines];
        java.util.Arrays.fill(tag, -1L);
        meta = new long[lines];
        sharers = withData ? new long[lines] : null;
        lruShift = 4 * (ways - 1);
        unusedNibbles = ways >= 16 ? 0 : -1L << (4 * ways);
        if (ways <= 16) {
            stamp = null;
            order = new long[sets];
            long init = -1L; // 0xf in unused nibbles
            for (int w = ways - 1; w >= 0; w--) init = (init << 4) | w;
            java.util.Arrays.fill(order, init);
        } else {
            stamp = new long[lines];
            order = null;
        }
        data = withData ? new byte[lines * LINE] : null;
        up = new int[lines];
        setCount = new int[sets];
    }

    /**
     * Offset of slot {@code s}'s 64 bytes in {@link #data}. Slots are way-major (all sets of way 0,
     * then way 1, ...), so tags, metadata and data of one way of consecutive sets are adjacent in
     * the host's memory (speed only: a stream of whole pages touches host memory sequentially).
     */
    int off(int s) {
        return s << 6;
    }

    public int sets() {
        return sets;
    }

    public int ways() {
        return ways;
    }

    /** The slot holding {@code line}, or -1. */
    int find(long line) {
        for (int i = (int) line & setMask, e = tag.length; i < e; i += sets) if (tag[i] == line) return i;
        return -1;
    }

    /** A slot for {@code line}: an invalid way if any, else the least recently used. */
    int victim(long line) {
        int set = (int) line & setMask;
        if (setCount[set] < ways) {
            for (int i = set, e = tag.length; i < e; i += sets) if (tag[i] == -1) return i;
        }
        if (order != null) return set + (((int) (order[set] >>> (4 * (ways - 1))) & 0xf) << setShift);
        int best = set;
        long bs = Long.MAX_VALUE;
        for (int i = set, e = tag.length; i < e; i += sets) {
            if (stamp[i] < bs) {
                bs = stamp[i];
                best = i;
            }
        }
        return best;
    }

    /** Speed only: {@link #touch} of {@code slots[0..n)} in order (one call per page instead of one per line). */
    void touchAll(int[] slots, int n) {
        if (order == null) {
            for (int i = 0; i < n; i++) touch(slots[i]);
            return;
        }
        long[] ord = order;
        int mask = setMask, sh = setShift, top = lruShift;
        long unused = unusedNibbles;
        for (int i = 0; i < n; i++) {
            int s = slots[i];
            int set = s & mask;
            long w = s >>> sh;
            long o = ord[set];
            if (((o >>> top) & 0xf) == w) ord[set] = (o & unused) | ((o << 4) & ~unused) | w; // LRU to MRU
            else touch(s);
        }
    }

    /**
     * The slot holding {@code line} (&gt;= 0), or {@code -(victim + 1)} where victim is an invalid
     * way if any, else the least recently used one.
     */
    int lookup(long line) {
        int s = find(line);
        return s >= 0 ? s : -victim(line) - 1;
    }

    /** Marks slot {@code s} most recently used. */
    void touch(int s) {
        if (order == null) {
            stamp[s] = ++clock;
            return;
        }
        int set = s & setMask;
        long w = s >>> setShift;
        long o = order[set];
        if ((o & 0xf) == w) return; // already MRU
        if (((o >>> lruShift) & 0xf) == w) { // the LRU way (every fill of a full set): rotate it to the front
            order[set] = (o & unusedNibbles) | ((o << 4) & ~unusedNibbles) | w;
            return;
        }
        // position of nibble w: SWAR zero-nibble search on o ^ (w in every nibble); the lowest hit is exact
        long x = o ^ (w * 0x1111_1111_1111_1111L);
        long z = (x - 0x1111_1111_1111_1111L) & ~x & 0x8888_8888_8888_8888L;
        int pos = Long.numberOfTrailingZeros(z) >>> 2;
        long lowMask = (1L << (4 * pos)) - 1;
        long high = pos == 15 ? 0 : o & (-1L << (4 * (pos + 1)));
        order[set] = high | ((o & lowMask) << 4) | w;
    }

    /** MESI state of slot {@code s}. */
    byte state(int s) {
        return (byte) (meta[s] & 3);
    }

    void setState(int s, byte v) {
        meta[s] = (meta[s] & ~3L) | v;
    }

    /** KeyTable entry generation when the line was filled (for the invariant checker). */
    long gen(int s) {
        return meta[s] >>> 2;
    }

    void setGen(int s, long g) {
        meta[s] = (g << 2) | (meta[s] & 3);
    }

    /** LLC only: which cores of the package may hold the line in their L1 (bit = local core % 64). */
    long sharers(int s) {
        return sharers[s];
    }

    void setSharers(int s, long v) {
        sharers[s] = v;
    }

    /** Installs {@code line} in the invalid slot {@code s}. */
    void put(int s, long line) {
        tag[s] = line;
        setCount[s & setMask]++;
        count++;
        if (pageFilter != null) pageFilter[bucket(line)]++;
    }

    void drop(int s) {
        if (pageFilter != null && tag[s] != -1) pageFilter[bucket(tag[s])]--;
        if (tag[s] != -1) {
            setCount[s & setMask]--;
            count--;
        }
        tag[s] = -1;
        meta[s] = 0;
        if (sharers != null) sharers[s] = 0;
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
        return s < 0 ? I : state(s);
    }
}
