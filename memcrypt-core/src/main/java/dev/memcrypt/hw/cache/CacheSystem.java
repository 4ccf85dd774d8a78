package dev.memcrypt.hw.cache;

import dev.memcrypt.hw.controller.MemoryController;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * All caches of the machine and their coherence protocol.
 *
 * <h2>Organisation</h2>
 * Each core has a private L1; each package has a last-level cache (LLC) that is <em>inclusive</em>
 * of its cores' L1s and keeps, per line, a mask of the L1s that may hold it (like Intel's core-valid
 * bits). Every line holds plaintext and is tagged by its full physical address, KeyID bits
 * included.
 *
 * <p>Design note (data storage): an L1 keeps tags, MESI state and LRU only; the bytes of a line
 * an L1 holds live in the line's slot of its package's LLC (inclusion guarantees the slot exists
 * while the L1 holds the line). Architecturally the protocol is unchanged: an L1 in M still owns
 * the newest data and the LLC still becomes M only when that L1 is snooped or evicts the line; it
 * is just that "the L1 writes its data into the LLC" costs no copy. Nothing can tell the two
 * storages apart, because every path that reads or writes back an LLC line first snoops its L1s
 * (the inclusion rule), so the stale LLC copy a real L1-in-M leaves behind is never observable.
 * Saving the copies halves the bytes a stream of whole pages moves through the host's caches.
 *
 * <h2>Protocol (MESI, keyed by full PA)</h2>
 * <ul>
 * <li>LLC state is the package's state towards other packages: M/E = only this package holds the
 *   line (M: the LLC copy is dirty), S = other packages may hold clean copies.
 * <li>L1 state is the core's state within its package: M/E only if no other L1 of the package
 *   holds the line and the package holds it exclusively.
 * <li>Read miss: L1 -> own LLC (a peer L1 in M writes its data into the LLC and drops to S) ->
 *   snoop the other packages' LLCs (a package holding the line dirty writes it back to DRAM
 *   through the line's home controller, MESI without O, and drops to S) -> fill from DRAM through
 *   the line's home controller (the package whose DRAM range holds it, {@link HomeOf}).
 * <li>Write: needs M. A write hit in S, or a write miss, invalidates every other copy in the
 *   machine first (dirty copies are written back to DRAM by their home controller).
 * <li>Evictions: L1 victim in M writes its data into the LLC; an LLC victim back-invalidates the
 *   L1 copies and, if dirty, is written back (encrypted) by the line's home controller.
 * </ul>
 * Because lines are keyed by full PA, two KeyIDs of one physical line are <b>not</b> coherent
 * with each other: that is the MKTME aliasing hazard of seed 001, reproduced, not prevented.
 *
 * <h2>Flushes</h2>
 * CLFLUSH writes back and invalidates one line (one full PA) in every cache of the coherence
 * domain (all packages). WBINVD writes back and invalidates the executing core's package caches:
 * its LLC and, by inclusion, every L1 of that package; other packages are untouched (real
 * WBINVD acts on the executing processor's caches, which is why Linux uses wbinvd_on_all_cpus).
 *
 * <h2>Batched write-backs (speed only)</h2>
 * The bulk paths for whole lines of one page ({@link #streamPass}, {@link #batchVictims}) write
 * all the victims back before they fill any new line, where the per-line protocol alternates
 * (write back the victim of line i, fill line i, ...). DRAM reads the same either way, because no
 * fill of a batch reads a DRAM line that a victim of the batch writes back: a victim of line i
 * sits in line i's set, so its line number equals i's modulo the number of sets, and so does its
 * DRAM line (the KeyID bits and the C-bit are above the page offset). The batch is at most
 * {@code min(sets, 64)} consecutive lines of one page, so no other line of the batch has that
 * position in the page: the victim is either line i's own DRAM line (written back just before line
 * i is filled, in both orders) or a line of another DRAM page.
 * {@code BulkPathProperties.fillPastDirtyVictimsOfTheSameDramPage} builds the closest case.
 *
 * <p>Not thread-safe: the machine is driven by one thread at a time.
 */
public final class CacheSystem {
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int LINE = 64;

    private final Cache[] l1;
    private final Cache[] llc;
    private final int[] pkgOf;
    private final int cpp;
    private final MemoryController[] mc;
    private final KeyIdOf keyIdOf;
    private final HomeOf homeOf;

    /** Extracts the KeyID from a full line number (depends on the KeyID bits in effect). */
    public interface KeyIdOf {
        int keyId(long line);
    }

    /**
     * The home package of a full line number: the package whose memory controller (and key table)
     * serves that physical address (NUMA: the package whose DRAM it is).
     */
    public interface HomeOf {
        int home(long line);
    }

    public CacheSystem(int packages, int coresPerPackage, int l1Bytes, int l1Ways, int llcBytes, int llcWays, MemoryController[] mc, KeyIdOf keyIdOf,
            HomeOf homeOf) {
        this.homeOf = homeOf;
        this.cpp = coresPerPackage;
        int n = packages * coresPerPackage;
        l1 = new Cache[n];
        pkgOf = new int[n];
        for (int i = 0; i < n; i++) {
            l1[i] = new Cache(l1Bytes, l1Ways, false);
            pkgOf[i] = i / coresPerPackage;
        }
        coreBit = new long[n];
        for (int i = 0; i < n; i++) coreBit[i] = 1L << ((i % coresPerPackage) & 63);
        llc = new Cache[packages];
        for (int p = 0; p < packages; p++) {
            llc[p] = new Cache(llcBytes, llcWays);
            llc[p].enablePageFilter();
        }
        this.mc = mc;
        this.keyIdOf = keyIdOf;
    }

    public Cache l1(int core) {
        return l1[core];
    }

    public Cache llc(int pkg) {
        return llc[pkg];
    }

    /** Sharer-mask bit of each core: its index within the package, modulo 64. */
    private final long[] coreBit;

    private long bit(int core, int cppIgnored) {
        return coreBit[core];
    }

    // ---------------------------------------------------------------- core protocol

    /**
     * Makes {@code line} present in core {@code c}'s L1 (in M if {@code write}); returns the slot of
     * its package's LLC that holds the line's bytes (see the design note on data storage).
     */
    int acquire(int c, long line, boolean write, boolean full) {
        Cache L = l1[c];
        int s = L.find(line);
        if (s >= 0) {
            if (write && L.state(s) != Cache.M) {
                if (L.state(s) == Cache.S) upgrade(c, line);
                L.setState(s, Cache.M);
            }
            L.touch(s);
            return L.up[s];
        }
        return miss(c, line, write, full);
    }

    /** The data array of core {@code c}'s package LLC, which holds the bytes of the core's L1 lines. */
    private byte[] dataOf(int c) {
        return llc[pkgOf[c]].data;
    }

    private void upgrade(int c, long line) {
        int p = pkgOf[c];
        Cache C = llc[p];
        int ls = C.find(line);
        invalidatePeers(p, ls, c);
        C.setSharers(ls, bit(c, cpp));
        if (C.state(ls) == Cache.S) {
            snoopOthers(p, line, true);
            C.setState(ls, Cache.E);
        }
    }

    /** Gives other L1s of package p the line's data (if M) and invalidates them, except core {@code except}. */
    private void invalidatePeers(int p, int ls, int except) {
        peers(p, ls, except, true);
    }

    /** Downgrades other L1s of package p to S, merging M data into the LLC. */
    private void downgradePeers(int p, int ls, int except) {
        peers(p, ls, except, false);
    }

    /** The L1 snoop both share: merge M data into the LLC, then drop the peer's copy or downgrade it to S. */
    private void peers(int p, int ls, int except, boolean invalidate) {
        Cache C = llc[p];
        long mask = C.sharers(ls);
        if (mask == 0) return;
        long line = C.tag[ls];
        int base = p * cpp;
        for (int o = base; o < base + cpp; o++) {
            if (o == except || (mask & bit(o, cpp)) == 0) continue;
            Cache L = l1[o];
            int s = L.find(line);
            if (s < 0) continue;
            if (L.state(s) == Cache.M) C.setState(ls, Cache.M); // its data is already in the LLC slot
            if (invalidate) L.drop(s);
            else L.setState(s, Cache.S);
        }
        if (invalidate) C.setSharers(ls, 0);
    }

    /** Snoops the other packages. Returns whether any held the line. */
    private boolean snoopOthers(int p, long line, boolean invalidate) {
        boolean found = false;
        for (int q = 0; q < llc.length; q++) {
            if (q == p) continue;
            Cache C = llc[q];
            if (C.setEmpty(line)) continue;
            int ls = C.find(line);
            if (ls < 0) continue;
            found = true;
            if (invalidate) invalidatePeers(q, ls, -1);
            else downgradePeers(q, ls, -1);
            if (C.state(ls) == Cache.M) mc[homeOf.home(line)].writeBack(line, C.data, C.off(ls));
            if (invalidate) C.drop(ls);
            else C.setState(ls, Cache.S);
        }
        return found;
    }

    private int miss(int c, long line, boolean write, boolean full) {
        int p = pkgOf[c];
        Cache C = llc[p];
        int ls = C.lookup(line);
        if (ls >= 0) {
            if (write) {
                invalidatePeers(p, ls, c);
                if (C.state(ls) == Cache.S) {
                    snoopOthers(p, line, true);
                    C.setState(ls, Cache.E);
                }
            } else {
                downgradePeers(p, ls, c);
            }
            C.touch(ls);
        } else {
            boolean shared = llc.length > 1 && snoopOthers(p, line, write);
            ls = -ls - 1;
            if (C.tag[ls] != -1) evictLlc(p, ls);
            MemoryController m = mc[homeOf.home(line)];
            C.put(ls, line);
            C.setSharers(ls, 0);
            C.setGen(ls, m.keyGeneration(keyIdOf.keyId(line)));
            if (!(write && full)) m.fill(line, C.data, C.off(ls));
            C.setState(ls, shared && !write ? Cache.S : Cache.E);
            C.touch(ls);
        }
        Cache L = l1[c];
        int s = L.victim(line);
        if (L.tag[s] != -1) evictL1(c, s);
        L.put(s, line);
        L.up[s] = ls;
        L.setGen(s, C.gen(ls));
        long b = bit(c, cpp);
        if (write) L.setState(s, Cache.M);
        else L.setState(s, C.state(ls) == Cache.S || (C.sharers(ls) & ~b) != 0 ? Cache.S : Cache.E);
        C.setSharers(ls, C.sharers(ls) | b);
        L.touch(s);
        return ls;
    }

    private void evictL1(int c, int s) {
        Cache L = l1[c];
        long line = L.tag[s];
        int p = pkgOf[c];
        Cache C = llc[p];
        int ls = L.up[s];
        assert C.tag[ls] == line : "inclusion violated for line 0x" + Long.toHexString(line); // checkInvariants() checks inclusion too
        if (L.state(s) == Cache.M) C.setState(ls, Cache.M); // its data is already in the LLC slot
        L.drop(s);
        // clear the sharer bit unless another core aliasing the same bit still holds the line
        long b = bit(c, cpp);
        boolean other = false;
        if (cpp > 64) {
            int base = p * cpp;
            for (int o = base; o < base + cpp && !other; o++) if (o != c && bit(o, cpp) == b && l1[o].find(line) >= 0) other = true;
        }
        if (!other) C.setSharers(ls, C.sharers(ls) & ~b);
    }

    private void evictLlc(int p, int ls) {
        Cache C = llc[p];
        invalidatePeers(p, ls, -1);
        if (C.state(ls) == Cache.M) mc[homeOf.home(C.tag[ls])].writeBack(C.tag[ls], C.data, C.off(ls));
        C.drop(ls);
    }

    // ---------------------------------------------------------------- accesses

    /** Reads {@code len} bytes at full physical address {@code fullPa} as core {@code c}. */
    public void read(int c, long fullPa, byte[] dst, int off, int len) {
        while (len > 0) {
            if ((fullPa & (LINE - 1)) == 0 && len >= LINE) { // whole lines: page-granular bulk path
                int n = (int) Math.min(len >>> 6, 64 - ((fullPa >>> 6) & 63));
                linesInPage(c, fullPa >>> 6, n, dst, off, false);
                fullPa += (long) n * LINE;
                off += n * LINE;
                len -= n * LINE;
                continue;
            }
            int lo = (int) (fullPa & (LINE - 1));
            int n = Math.min(len, LINE - lo);
            int ls = acquire(c, fullPa >>> 6, false, false);
            System.arraycopy(dataOf(c), ls * LINE + lo, dst, off, n);
            fullPa += n;
            off += n;
            len -= n;
        }
    }

    /** Writes bytes at full physical address {@code fullPa} as core {@code c} (write-allocate). */
    public void write(int c, long fullPa, byte[] src, int off, int len) {
        while (len > 0) {
            if ((fullPa & (LINE - 1)) == 0 && len >= LINE) { // whole lines: page-granular bulk path
                int n = (int) Math.min(len >>> 6, 64 - ((fullPa >>> 6) & 63));
                linesInPage(c, fullPa >>> 6, n, src, off, true);
                fullPa += (long) n * LINE;
                off += n * LINE;
                len -= n * LINE;
                continue;
            }
            int lo = (int) (fullPa & (LINE - 1));
            int n = Math.min(len, LINE - lo);
            int ls = acquire(c, fullPa >>> 6, true, n == LINE);
            System.arraycopy(src, off, dataOf(c), ls * LINE + lo, n);
            fullPa += n;
            off += n;
            len -= n;
        }
    }

    /**
     * Bulk path for {@code n} whole lines of one 4 KiB page from full line {@code line}, as core
     * {@code c} (write: {@code buf} is the source of full-line stores; read: the destination).
     * Architecturally and micro-architecturally the same as {@code n} calls of {@link #acquire}
     * (same states, same LRU order, same victims and write-backs in the same order); it is only
     * cheaper: the home controller, the fill generation and "could another package hold a line
     * of this page" are computed once per page. When no LLC of the machine holds a line of the
     * page (page filters, exact for "none"), every line misses everywhere, so the lookups and
     * snoops are skipped and each line takes the miss path directly: in the steady state of a
     * stream by {@link #streamPass} (as far as it is the steady state), else by
     * {@link #batchVictims} and {@link #batchedLoop}, else one by one. Otherwise every line goes
     * through {@link #acquire}.
     */
    private void linesInPage(int c, long line, int n, byte[] buf, int off, boolean write) {
        if (!pageUncached(line)) {
            byte[] d = dataOf(c);
            for (int i = 0; i < n; i++, line++, off += LINE) {
                int ls = acquire(c, line, write, true);
                if (write) System.arraycopy(buf, off, d, ls * LINE, LINE);
                else System.arraycopy(d, ls * LINE, buf, off, LINE);
            }
            return;
        }
        int p = pkgOf[c];
        Cache C = llc[p];
        Cache L = l1[c];
        MemoryController m = mc[homeOf.home(line)];
        long gen = m.keyGeneration(keyIdOf.keyId(line));
        long b = coreBit[c];
        if (cpp <= 64 && n >= 2 && n <= C.sets && n <= L.sets && C.order != null && L.order != null && L.count == L.tag.length) {
            int k = streamPass(C, L, line, n, write, gen, b);
            if (k > 0) {
                finishStreamPass(C, line, k, buf, off, write, m);
                if (k < n) linesInPage(c, line + k, n - k, buf, off + k * LINE, write); // the rest line by line (the page is cached now)
                return;
            }
        }
        byte[] cd = C.data;
        boolean batched = batchVictims(p, line, n);
        boolean filled = batched && !write;
        int[] slots = victimSlots;
        if (filled) readRuns(C, m, line, n);
        if (batched && cpp <= 64) {
            batchedLoop(C, L, line, n, buf, off, write, gen, b);
            return;
        }
        if (batched) dropVictims(C, n);
        for (int i = 0; i < n; i++, line++, off += LINE) {
            // LLC: a miss in every cache (nothing of this page was cached and only this loop adds lines)
            int ls;
            if (batched) ls = slots[i]; // the freed victim slot is the set's only invalid way
            else {
                ls = C.victim(line);
                if (C.tag[ls] != -1) evictLlc(p, ls);
            }
            C.put(ls, line);
            C.sharers[ls] = b; // this core
            C.meta[ls] = (gen << 2) | Cache.E;
            if (!write && !filled) m.fill(line, cd, C.off(ls));
            C.touch(ls);
            // L1
            int s = L.victim(line);
            if (L.tag[s] != -1) evictL1(c, s);
            L.put(s, line);
            L.up[s] = ls;
            L.meta[s] = (gen << 2) | (write ? Cache.M : Cache.E);
            L.touch(s);
            if (write) System.arraycopy(buf, off, cd, C.off(ls), LINE);
            else System.arraycopy(cd, C.off(ls), buf, off, LINE);
        }
    }

    /**
     * Speed only: the loop of {@link #linesInPage} after {@link #batchVictims} (the new LLC slots
     * are free, in {@link #victimSlots}), with the installs and the L1 eviction ({@link #evictL1}
     * for at most 64 cores per package: no aliased sharer bits) written out flat. This gives the
     * same state as the per-line loop of {@link #acquire} because the lines fall in distinct LLC
     * sets ({@link #batchVictims} checked {@code n <= sets}), LRU and set counts are per set, and an
     * L1 eviction only touches the metadata of an LLC slot whose line is in that L1, which is never
     * one of the new slots (their old lines were in no L1). The page filter takes the victims'
     * counts {@link #batchVictims} made while it read their tags.
     *
     * <p>The LLC installs and touches come first, then the L1 line by line (a line may evict an
     * earlier line of the same page from the L1). The data moves between {@code buf} and the LLC
     * slots last, per run of contiguous slots (no L1 data copies: see the note on data storage).
     * The steady state of a stream never gets here: {@link #streamPass} does it in one pass.
     */
    private void batchedLoop(Cache C, Cache L, long line, int n, byte[] buf, int off, boolean write, long gen, long b) {
        int[] slots = victimSlots;
        long[] ct = C.tag, cm = C.meta, csh = C.sharers;
        int[] pf = C.pageFilter;
        long cmeta = (gen << 2) | Cache.E, lmeta = (gen << 2) | (write ? Cache.M : Cache.E);
        long keep = ~b;
        for (int r = 0; r < victimRuns; r++) pf[Cache.bucket(victimRunPage[r] << 6)] -= victimRunLen[r];
        pf[Cache.bucket(line)] += n;
        // LLC: each new line replaces its (written back) victim, or fills an invalid way; state E, sharers = this core
        int[] csc = C.setCount;
        for (int i = 0; i < n; i++) {
            int ls = slots[i];
            if (ct[ls] == -1) { // drop + put of a valid victim keep the set count
                csc[ls & C.setMask]++;
                C.count++;
            }
            ct[ls] = line + i;
            cm[ls] = cmeta;
            csh[ls] = b;
        }
        C.touchAll(slots, n);
        // L1 line by line: victim (an invalid way or the LRU one), eviction into the LLC (M and sharer bit), install
        for (int i = 0; i < n; i++) {
            int s = L.victim(line + i);
            replaceInL1(C, L, s, line + i, slots[i], lmeta, keep);
            L.touch(s);
        }
        copyLines(C, slots, n, buf, off, write);
    }

    /**
     * Speed only: the steady state of a stream of whole pages (every LLC set full, so each victim
     * is its set's LRU way; the L1 full; the lines in distinct sets of both), as the per-line miss
     * path of {@link #acquire} does it, line by line in the same order, in one pass with no calls:
     * the LLC victim leaves (its tag and dirtiness noted for {@link #finishStreamPass}), the new
     * line takes its slot in state E with this core's sharer bit and becomes MRU, then the L1's LRU
     * way leaves (its LLC line turns M if it was M and loses the sharer bit) and the new line takes
     * it. The caller has checked that no cache holds a line of the page (so no lookups or snoops),
     * at most 64 cores per package (no aliased sharer bits), the L1 full and both caches
     * nibble-LRU. The pass stops before the first line for which that is not the steady state:
     * its LLC set not full, or its victim possibly in an L1 (sharers: back-invalidation is the
     * per-line path's). Returns the number of lines done; their write-backs, fills and data
     * are {@link #finishStreamPass}'s, which must run before anything else looks at the caches or
     * DRAM.
     *
     * <p>Why it is the same state as the per-line path: the lines are in distinct LLC and L1 sets,
     * so a line's L1 victim is never a line this pass installed, and an L1 victim's LLC slot is
     * never the slot of a new line; a victim with sharer bit 0 is in no L1, so the L1 step never
     * touches a victim's slot after its eviction. Deferring the victims' write-backs until after
     * the pass keeps their order and their data (the slots' bytes change only in
     * {@link #finishStreamPass}), and deferring the fills after them reads the same DRAM because
     * no fill reads a line that a victim of the batch writes back (the class comment's note on
     * batched write-backs).
     *
     * <p>The pass reads the L1 victim's LLC metadata before writing the new line's: in a stream the
     * two are often exactly 4 KiB apart, and the other order stalls on the host's 4K-aliasing check.
     */
    private int streamPass(Cache C, Cache L, long line, int n, boolean write, long gen, long b) {
        long[] ct = C.tag, cm = C.meta, csh = C.sharers, cord = C.order, lt = L.tag, lm = L.meta, lord = L.order;
        int[] csc = C.setCount, lup = L.up, pf = C.pageFilter, slots = victimSlots;
        long[] vtags = victimTags;
        int cmask = C.setMask, cSetShift = C.setShift, cTop = C.lruShift, ways = C.ways;
        int lmask = L.setMask, lSetShift = L.setShift, lTop = L.lruShift;
        long cUnused = C.unusedNibbles, lUnused = L.unusedNibbles;
        long cmeta = (gen << 2) | Cache.E, lmeta = (gen << 2) | (write ? Cache.M : Cache.E), keep = ~b;
        long dirty = 0, vPage = -1;
        int vRun = 0, i = 0;
        for (; i < n; i++) {
            long nl = line + i;
            int cset = (int) nl & cmask;
            if (csc[cset] != ways) break;
            long co = cord[cset];
            int ls = cset + (((int) (co >>> cTop) & 0xf) << cSetShift);
            long vt = ct[ls];
            if (csh[ls] != 0) break;
            boolean vd = (cm[ls] & 3) == Cache.M;
            if (vt >>> 6 != vPage) { // a new run of victims from one page: the page filter's count
                if (vRun > 0) pf[Cache.bucket(vPage << 6)] -= vRun;
                vPage = vt >>> 6;
                vRun = 0;
            }
            vRun++;
            slots[i] = ls;
            vtags[i] = vt;
            dirty |= vd ? 1L << i : 0;
            // L1: the LRU way leaves (loads before stores, see above)
            int set = (int) nl & lmask;
            long o = lord[set];
            int lru = (int) (o >>> lTop) & 0xf;
            int s = set + (lru << lSetShift);
            int u = lup[s];
            int st = (int) lm[s] & 3;
            long um = cm[u], ush = csh[u];
            cm[u] = um | (st & (st >> 1)) * (long) Cache.M; // an L1 copy in M makes its LLC line M (the data is already there)
            csh[u] = ush & keep;
            lt[s] = nl;
            lup[s] = ls;
            lm[s] = lmeta;
            lord[set] = (o & lUnused) | ((o << 4) & ~lUnused) | lru;
            // LLC: the new line takes the victim's slot (drop + put keep the set count), state E, sharers = this core, MRU
            ct[ls] = nl;
            cm[ls] = cmeta;
            csh[ls] = b;
            cord[cset] = (co & cUnused) | ((co << 4) & ~cUnused) | (ls >>> cSetShift);
        }
        if (vRun > 0) pf[Cache.bucket(vPage << 6)] -= vRun;
        if (i > 0) pf[Cache.bucket(line)] += i;
        victimDirty = dirty;
        return i;
    }

    /**
     * After {@link #streamPass} did {@code k} lines from {@code line}: the dirty victims' write-backs
     * in line order (consecutive lines of one page in contiguous slots as one {@code writeBackRun}),
     * then, for a read, the fills (one {@code readRun} per run of contiguous slots), then the data.
     */
    private void finishStreamPass(Cache C, long line, int k, byte[] buf, int off, boolean write, MemoryController m) {
        writeBackVictims(C, k);
        if (!write) readRuns(C, m, line, k);
        copyLines(C, victimSlots, k, buf, off, write);
    }

    /**
     * The dirty victims noted in {@link #victimTags} and {@link #victimDirty} for the first {@code n}
     * {@link #victimSlots}, written back in line order: consecutive lines of one page in contiguous
     * slots as one {@code writeBackRun} (one {@code encryptLines} straight from the LLC for a whole
     * page in the steady state of a stream), others one by one.
     */
    private void writeBackVictims(Cache C, int n) {
        int[] slots = victimSlots;
        long[] vtags = victimTags;
        long dirty = victimDirty;
        for (int i = 0; i < n; ) {
            if ((dirty & (1L << i)) == 0) {
                i++;
                continue;
            }
            long vt = vtags[i];
            int e = i + 1;
            while (e < n && (dirty & (1L << e)) != 0 && slots[e] == slots[i] + (e - i) && vtags[e] == vt + (e - i) && ((vt + (e - i)) & 63) != 0) e++;
            mc[homeOf.home(vt)].writeBackRun(vt, C.data, C.off(slots[i]), e - i);
            i = e;
        }
    }

    /** Fills the new lines {@code line..line+n-1} into their {@link #victimSlots} from the home controller, one {@code readRun} (one {@code decryptLines}) per run of contiguous slots. */
    private void readRuns(Cache C, MemoryController m, long line, int n) {
        int[] slots = victimSlots;
        for (int a = 0; a < n; ) {
            int e = a + 1;
            while (e < n && slots[e] == slots[e - 1] + 1) e++;
            m.readRun(line + a, C.data, C.off(slots[a]), e - a);
            a = e;
        }
    }

    /** The data of a batched access: the stores into the new LLC slots, or the filled lines out to the reader, per run of contiguous slots. */
    private static void copyLines(Cache C, int[] slots, int n, byte[] buf, int off, boolean write) {
        byte[] cd = C.data;
        for (int a = 0; a < n; ) {
            int e = a + 1;
            while (e < n && slots[e] == slots[e - 1] + 1) e++;
            if (write) System.arraycopy(buf, off + a * LINE, cd, C.off(slots[a]), (e - a) * LINE);
            else System.arraycopy(cd, C.off(slots[a]), buf, off + a * LINE, (e - a) * LINE);
            a = e;
        }
    }

    /**
     * {@link #batchedLoop}'s L1 step for one line: the victim in L1 slot {@code s}, if any, leaves
     * (its LLC slot turns M if it was M, and loses this core's sharer bit: {@code keep}); the new
     * line takes the slot, pointing at LLC slot {@code ls}. Drop + put keep the set count.
     */
    private static void replaceInL1(Cache C, Cache L, int s, long line, int ls, long lmeta, long keep) {
        long[] lt = L.tag, lm = L.meta;
        if (lt[s] != -1) {
            int u = L.up[s];
            if ((lm[s] & 3) == Cache.M) C.meta[u] |= Cache.M;
            C.sharers[u] &= keep;
        } else {
            L.setCount[s & L.setMask]++;
            L.count++;
        }
        lt[s] = line;
        L.up[s] = ls;
        lm[s] = lmeta;
    }

    /**
     * Speed only, for {@link #linesInPage}: evicts the LLC victims of the {@code n} lines from
     * {@code line} up front, in line order, if that is the same as evicting each in the loop:
     * the lines fall in distinct LLC sets ({@code n <= sets}), every victim is in no L1 (so the
     * loop's L1 evictions, which only write into slots of lines held in an L1, never touch it);
     * and no fill of the loop reads a line a victim writes back (the class comment's note on
     * batched write-backs). The dirty victims go through {@link #writeBackVictims}. Returns
     * whether it did so; {@link #victimSlots} then holds the new lines'
     * slots (contiguous in the steady state of a stream). The victims are left in their slots,
     * written back but not yet invalidated: the caller replaces them ({@link #batchedLoop}) or
     * drops them ({@link #dropVictims}) before anything else looks at the LLC. It also notes, for
     * {@link #batchedLoop}, the victims' page-filter counts ({@link #victimRunPage}).
     */
    private boolean batchVictims(int p, long line, int n) {
        Cache C = llc[p];
        if (n < 2 || n > C.sets) return false;
        int[] slots = victimSlots;
        long[] ct = C.tag, cm = C.meta, csh = C.sharers, ord = C.order;
        int[] sc = C.setCount;
        int mask = C.setMask, ways = C.ways, sh = C.setShift, top = C.lruShift;
        long[] vtags = victimTags;
        int runs = 0;
        long vPage = -1, dirty = 0;
        for (int i = 0; i < n; i++) { // the victims (as Cache.victims) and the conditions above, in one pass
            int set = (int) (line + i) & mask;
            boolean full = ord != null && sc[set] == ways;
            int ls = full ? set + (((int) (ord[set] >>> top) & 0xf) << sh) : C.victim(line + i);
            slots[i] = ls;
            long vt = ct[ls];
            vtags[i] = vt;
            if (vt != -1) {
                if ((cm[ls] & 3) == Cache.M) dirty |= 1L << i;
                if (vt >>> 6 != vPage) { // a new run of victims from one page (for the page filter)
                    vPage = vt >>> 6;
                    victimRunPage[runs] = vPage;
                    victimRunLen[runs++] = 0;
                }
                victimRunLen[runs - 1]++;
                if (csh[ls] != 0) return false;
            }
        }
        victimRuns = runs;
        victimDirty = dirty;
        writeBackVictims(C, n);
        return true;
    }

    /** Invalidates the (written back) victims {@link #batchVictims} left in the first {@code n} {@link #victimSlots}. */
    private void dropVictims(Cache C, int n) {
        for (int i = 0; i < n; i++) if (C.tag[victimSlots[i]] != -1) C.drop(victimSlots[i]);
    }

    // speed-only scratch: the victim slots batchVictims found (valid until the next bulk access)
    private final int[] victimSlots = new int[64];
    // speed-only scratch for streamPass and batchVictims: the victims' tags (-1: none), and which were dirty (bit i: line i)
    private final long[] victimTags = new long[64];
    private long victimDirty;
    // speed-only: the valid victims batchVictims found, as runs of lines of one 4 KiB page (page number, count)
    private final long[] victimRunPage = new long[64];
    private final int[] victimRunLen = new int[64];
    private int victimRuns;

    /** 8-byte little-endian load; {@code fullPa} must not cross a line. */
    public long load64(int c, long fullPa) {
        int ls = acquire(c, fullPa >>> 6, false, false);
        return (long) LONG.get(dataOf(c), ls * LINE + (int) (fullPa & (LINE - 1)));
    }

    /** 8-byte little-endian store; {@code fullPa} must not cross a line. */
    public void store64(int c, long fullPa, long v) {
        int ls = acquire(c, fullPa >>> 6, true, false);
        LONG.set(dataOf(c), ls * LINE + (int) (fullPa & (LINE - 1)), v);
    }

    // ---------------------------------------------------------------- streaming (bulk) accesses

    /** Whether no cache holds any line of the 4 KiB page of full line {@code line}. */
    private boolean pageUncached(long line) {
        for (Cache C : llc) if (!C.pageSurelyAbsent(line)) return false;
        return true;
    }

    /** Whether any cache of the machine holds full line {@code line} (inclusion: the LLCs suffice). */
    private boolean cachedAnywhere(long line) {
        for (Cache C : llc) if (C.find(line) >= 0) return true;
        return false;
    }

    /**
     * Bulk read of whole lines, as a fast-string / streaming load: a line that some cache holds is
     * read coherently through {@link #read}; runs of lines no cache holds are filled straight from
     * the lines' home controllers without allocating (one batched decryption per run). Partial lines
     * at either end take the ordinary path. Architecturally the same bytes as {@link #read}.
     */
    public void readStream(int c, long fullPa, byte[] dst, int off, int len) {
        stream(c, fullPa, dst, off, len, false);
    }

    /**
     * Bulk write of whole lines, as streaming (non-temporal, write-combining) full-line stores:
     * every cached copy of <em>that full line</em> is invalidated (its old data is entirely
     * overwritten, so a dirty copy need not be written back) and the new data goes to the
     * controller, which encrypts it in batches and stores it. Copies under another KeyID or the
     * other C-bit alias are untouched: they stay stale or dirty exactly as with ordinary stores.
     * Partial lines at either end take the ordinary (write-allocate) path.
     */
    public void writeStream(int c, long fullPa, byte[] src, int off, int len) {
        stream(c, fullPa, src, off, len, true);
    }

    /**
     * {@link #readStream} / {@link #writeStream}: partial lines at either end take the ordinary
     * path; whole lines gather into runs of lines no cache holds, handed to the home controllers in
     * one call per run ({@link #homeRuns}). A line some cache holds is, for a read, read coherently
     * (ending the run before it); for a write, dropped from every cache and added to the run.
     */
    private void stream(int c, long fullPa, byte[] buf, int off, int len, boolean write) {
        int head = (int) Math.min(len, (LINE - (fullPa & (LINE - 1))) & (LINE - 1));
        if (head > 0) {
            if (write) write(c, fullPa, buf, off, head);
            else read(c, fullPa, buf, off, head);
            fullPa += head;
            off += head;
            len -= head;
        }
        long runStart = -1;
        int runOff = 0, runN = 0;
        while (len >= LINE) {
            long line = fullPa >>> 6;
            int inPage = (int) (64 - (line & 63));
            int n = len >= inPage * LINE && pageUncached(line) ? inPage : 1; // the rest of this page: no lookups
            boolean joins = true;
            if (n == 1) {
                if (write) {
                    for (int q = 0; q < llc.length; q++) {
                        int ls = llc[q].find(line);
                        if (ls >= 0) dropEverywhere(q, ls);
                    }
                } else if (cachedAnywhere(line)) {
                    if (runN > 0) homeRuns(runStart, buf, runOff, runN, false);
                    runN = 0;
                    int ls = acquire(c, line, false, false);
                    System.arraycopy(dataOf(c), ls * LINE, buf, off, LINE);
                    joins = false;
                }
            }
            if (joins) {
                if (runN == 0) {
                    runStart = line;
                    runOff = off;
                }
                runN += n;
            }
            fullPa += (long) n * LINE;
            off += n * LINE;
            len -= n * LINE;
        }
        if (runN > 0) homeRuns(runStart, buf, runOff, runN, write);
        if (len > 0) {
            if (write) write(c, fullPa, buf, off, len);
            else read(c, fullPa, buf, off, len);
        }
    }

    /** {@link MemoryController#readRun} or {@link MemoryController#writeRun} split at home-package boundaries (at most one controller per page). */
    private void homeRuns(long line, byte[] buf, int off, int n, boolean write) {
        while (n > 0) {
            int h = homeOf.home(line);
            int k = 64 - (int) (line & 63);
            while (k < n && homeOf.home(line + k) == h) k += 64;
            k = Math.min(k, n);
            if (write) mc[h].writeRun(line, buf, off, k);
            else mc[h].readRun(line, buf, off, k);
            line += k;
            off += k * LINE;
            n -= k;
        }
    }

    // speed-only scratch for copyStream's fallback
    private final byte[] copyTmp = new byte[4096];

    /**
     * Bulk copy of whole lines, as a fast-string {@code rep movsb}: the same result as
     * {@link #readStream} of the source followed by {@link #writeStream} to the destination, piece
     * by piece (at most one page on either side per piece, source read before destination
     * written). Pieces whose source and destination pages no cache holds a line of go memory to
     * memory through the controller ({@link MemoryController#copyRun}); others take the detour.
     * Both addresses must be line-aligned and {@code len} a multiple of 64.
     */
    public void copyStream(int c, long srcFull, long dstFull, long len) {
        if (((srcFull | dstFull | len) & (LINE - 1)) != 0) throw new IllegalArgumentException("copyStream needs whole lines");
        while (len > 0) {
            int n = (int) Math.min(len, Math.min(4096 - (srcFull & 4095), 4096 - (dstFull & 4095)));
            long sl = srcFull >>> 6, dl = dstFull >>> 6;
            if (pageUncached(sl) && pageUncached(dl) && homeOf.home(sl) == homeOf.home(dl)) {
                mc[homeOf.home(sl)].copyRun(sl, dl, n / LINE);
            } else {
                readStream(c, srcFull, copyTmp, 0, n);
                writeStream(c, dstFull, copyTmp, 0, n);
            }
            srcFull += n;
            dstFull += n;
            len -= n;
        }
    }

    /** Drops an LLC line and its L1 copies without write-back (it is about to be fully overwritten). */
    private void dropEverywhere(int p, int ls) {
        Cache C = llc[p];
        long mask = C.sharers(ls);
        long line = C.tag[ls];
        if (mask != 0) {
            for (int o = p * cpp; o < (p + 1) * cpp; o++) {
                if ((mask & bit(o, cpp)) == 0) continue;
                int s = l1[o].find(line);
                if (s >= 0) l1[o].drop(s);
            }
        }
        C.drop(ls);
    }

    // ---------------------------------------------------------------- flushes

    /** CLFLUSH: write back (if dirty) and invalidate {@code line} in every cache of the machine. */
    public void clflush(long line) {
        for (int q = 0; q < llc.length; q++) {
            int ls = llc[q].find(line);
            if (ls >= 0) evictLlc(q, ls);
        }
    }

    /** WBINVD as executed on a core of package {@code p}: its LLC and, by inclusion, all its L1s. */
    public void wbinvd(int p) {
        Cache C = llc[p];
        // evict in address order so consecutive dirty lines become one encryptLines run
        int n = 0;
        long[] lines = new long[C.tag.length];
        for (long t : C.tag) if (t != -1) lines[n++] = t;
        Arrays.sort(lines, 0, n);
        for (int k = 0; k < n; k++) evictLlc(p, C.find(lines[k]));
        for (int o = p * cpp; o < (p + 1) * cpp; o++) {
            Cache L = l1[o];
            for (int s = 0; s < L.tag.length; s++) if (L.tag[s] != -1) throw new IllegalStateException("inclusion violated in L1 of core " + o);
        }
    }

    /** A core going offline writes back and invalidates its L1 (into its LLC). */
    public void flushL1(int c) {
        Cache L = l1[c];
        for (int s = 0; s < L.tag.length; s++) if (L.tag[s] != -1) evictL1(c, s);
    }

    // ---------------------------------------------------------------- inspection

    /** Visits every valid line: level ("L1" or "LLC"), owner (core or package), full line, MESI state, fill generation. */
    public interface LineVisitor {
        void line(String level, int owner, long line, byte state, long gen);
    }

    public void forEachLine(LineVisitor v) {
        for (int c = 0; c < l1.length; c++) {
            Cache L = l1[c];
            for (int s = 0; s < L.tag.length; s++) if (L.tag[s] != -1) v.line("L1", c, L.tag[s], L.state(s), L.gen(s));
        }
        for (int p = 0; p < llc.length; p++) {
            Cache C = llc[p];
            for (int s = 0; s < C.tag.length; s++) if (C.tag[s] != -1) v.line("LLC", p, C.tag[s], C.state(s), C.gen(s));
        }
    }

    /**
     * Inspection only (a cache-line dump: debug port, or a side channel such as L1TF that reads a
     * line selected by its full physical address): a copy of the newest plaintext of full line
     * {@code line} held anywhere in the caches, or null if no cache holds it. Changes no state.
     */
    public byte[] peek(long line) {
        for (int c = 0; c < l1.length; c++) {
            int s = l1[c].find(line);
            if (s >= 0 && l1[c].state(s) == Cache.M) return Arrays.copyOfRange(dataOf(c), l1[c].up[s] * LINE, l1[c].up[s] * LINE + LINE);
        }
        for (Cache C : llc) {
            int s = C.find(line);
            if (s >= 0) return Arrays.copyOfRange(C.data, C.off(s), C.off(s) + LINE);
        }
        return null;
    }

    /**
     * Consistency of the speed-only bookkeeping (for the invariant checker): per-set and total
     * valid-line counts match the tags, and every L1 line's LLC slot holds that same line
     * (inclusion, and the slot whose bytes the L1 line uses). Empty when consistent.
     */
    public java.util.List<String> checkBookkeeping() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int k = 0; k < l1.length + llc.length; k++) {
            Cache X = k < l1.length ? l1[k] : llc[k - l1.length];
            String who = k < l1.length ? "L1 of cpu " + k : "LLC of package " + (k - l1.length);
            int total = 0;
            int[] perSet = new int[X.sets];
            for (int s = 0; s < X.tag.length; s++) {
                if (X.tag[s] == -1) continue;
                total++;
                perSet[s & X.setMask]++;
                if (k < l1.length && llc[pkgOf[k]].tag[X.up[s]] != X.tag[s]) out.add(who + ": line 0x" + Long.toHexString(X.tag[s]) + " points at an LLC slot holding another line");
            }
            if (total != X.count) out.add(who + ": " + total + " valid lines but the count says " + X.count);
            if (!Arrays.equals(perSet, X.setCount)) out.add(who + ": per-set valid counts disagree with the tags");
        }
        return out;
    }

    /** MESI state of a full line in core {@code c}'s L1. */
    public byte l1State(int c, long line) {
        return l1[c].stateOf(line);
    }

    /** MESI state of a full line in package {@code p}'s LLC. */
    public byte llcState(int p, long line) {
        return llc[p].stateOf(line);
    }
}
