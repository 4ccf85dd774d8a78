package dev.memcrypt.hw.controller;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.memory.Dram;
import java.util.List;

/**
 * One package's memory controller: the only place where plaintext becomes ciphertext and back.
 * It serves its package's home range of DRAM (the machine's {@code homePackage}) for every
 * package's caches.
 *
 * <h2>Data path</h2>
 * <ul>
 * <li><b>Fill</b> (a cache miss of any package reads line {@code L} under KeyID {@code k}):
 *   settle any posted write-back or zero page that overlaps the line, read the ciphertext from DRAM, choose the
 *   key from this package's {@link KeyTable} entry for {@code k} ({@link #keyFor}), decrypt with
 *   XTS line mode (tweak = PA with KeyID bits stripped, XOR salt), hand the plaintext to the cache.
 * <li><b>Write-back</b> (a dirty line of this home range leaves any package's caches): the key in effect at that
 *   moment is captured, the line is posted, and encrypted and stored to DRAM.
 * </ul>
 * Key choice: unprogrammed / CLEAR_KEY KeyIDs fall back to KeyID 0's treatment (TME key, or
 * plaintext under bypass); NO_ENCRYPT and the KeyID-0-only exclusion range store plaintext;
 * before TME is activated everything is plaintext.
 *
 * <h2>Speed-only state (never changes what DRAM or a fill holds)</h2>
 * <ul>
 * <li>Posted write-back buffer: consecutive write-backs under one key are collected (within one
 *   page) and encrypted in one {@code encryptLines} call straight into the DRAM frame; a partial
 *   run of write-backs ({@link #writeBackRun}) is posted in one step. The write-back is
 *   architecturally done when posted (its key is captured then); the buffer is drained before any
 *   DRAM read of an overlapping range, any raw DRAM access, any key change, and before another
 *   controller posts the same line (so at most one posted copy of an address exists and DRAM sees
 *   posting order); draining earlier than needed is always allowed.
 * <li>Posted zero pages: a streaming write of a whole page of zeros (the page allocator's
 *   clear_page) is recorded as (page, key and salt captured at post time) instead of being
 *   encrypted at once. Like a posted write-back it is architecturally done when posted. It is
 *   materialized (the encrypted zeros stored into the lines not written since) before any DRAM
 *   read of an overlapping range (fill, read-ahead, readRun, copyRun source), any raw DRAM access
 *   (the {@link Dram.Hook}: raw reads and writes, pagesTouched, saveImage, a new owner of the
 *   DRAM), any key change or power loss ({@link #settleAll}), and when more than
 *   {@link #ZERO_LIMIT} are pending (oldest first). Later writes of its lines (write-back, posted
 *   or not, streaming write, copy destination) are recorded per line; once every line of the page
 *   is written the zero page is dropped, as DRAM would end identical. So a freshly zeroed page
 *   that the user overwrites entirely is encrypted once, not twice, and DRAM as seen through any
 *   interface is exactly what eager zeroing gives.
 * <li>Read-ahead: on a sequential miss the rest of the page is decrypted in one
 *   {@code decryptLines} call and kept; it is dropped when DRAM in its range is written, a
 *   write-back to its range is posted, or any key changes.
 * <li>Entry snapshot: KeyTable entries cached by table generation.
 * </ul>
 */
public final class MemoryController {
    private static final int LINE = 64;
    private static final int RUN = 64; // lines per batch (one page)

    private final int pkg;
    private final KeyTable table;
    private final TmeState tme;
    private final Dram dram;
    private final XtsEngine engine;
    private MemoryController[] all = new MemoryController[0];
    /** AMD SME: the C-bit of a line selects the platform key instead of a KeyID (null on MKTME). */
    private dev.memcrypt.hw.sme.SmeState sme;
    private long cMask;

    // speed-only: entry snapshot
    private KeyTable.Entry[] snap;
    private long snapGen = -1;

    // speed-only: posted write-backs
    private final byte[] pw = new byte[RUN * LINE];
    private long pwPa = -1;
    private int pwCount;
    private XtsKey pwKey;

    // speed-only: read-ahead
    private final byte[] ra = new byte[RUN * LINE];
    private long raLine = -1; // first full line number held
    private int raCount;
    private long raTableGen = -1;
    private long raTmeEpoch = -1;
    private long lastMiss = -2;

    private long fills;
    private long writeBacks;

    public MemoryController(int pkg, KeyTable table, TmeState tme, Dram dram, XtsEngine engine) {
        this.pkg = pkg;
        this.table = table;
        this.tme = tme;
        this.dram = dram;
        this.engine = engine;
    }

    /** The controllers that share DRAM (for posted-write and read-ahead coherence). */
    public void setPeers(List<MemoryController> peers) {
        this.all = peers.toArray(new MemoryController[0]);
    }

    /** Makes this an SME controller: the C-bit is stripped from the DRAM address and selects the SME key. */
    public void setSme(dev.memcrypt.hw.sme.SmeState s) {
        this.sme = s;
        this.cMask = s == null ? 0 : s.cMask();
    }

    /** DRAM address of a full line address (KeyID bits and C-bit stripped). */
    private long dramPa(long full) {
        return full & ((1L << tme.keyIdShift()) - 1) & ~cMask;
    }

    /** DRAM line number (DRAM address / 64) of full line {@code line}: KeyID bits and C-bit stripped. */
    public long dramLine(long line) {
        return dramPa(line << 6) >>> 6;
    }

    /** The key for a full line address: the SME key by C-bit on SME, else by KeyID. */
    private XtsKey keyOfFull(long full, long pa) {
        if (sme != null) return sme.keyFor(full);
        return keyFor((int) (full >>> tme.keyIdShift()), pa);
    }

    public int pkg() {
        return pkg;
    }

    public KeyTable keyTable() {
        return table;
    }

    public long fills() {
        return fills;
    }

    public long writeBacks() {
        return writeBacks;
    }

    private KeyTable.Entry entry(int keyId) {
        long g = table.generation();
        if (g != snapGen || snap == null) {
            if (snap == null || snap.length != table.size()) snap = new KeyTable.Entry[table.size()];
            else java.util.Arrays.fill(snap, null);
            snapGen = g;
        }
        KeyTable.Entry e = snap[keyId];
        if (e == null) {
            e = table.get(keyId);
            snap[keyId] = e;
        }
        return e;
    }

    /** The KeyTable entry generation a line filled now under {@code keyId} records. */
    public long keyGeneration(int keyId) {
        return entry(keyId).generation();
    }

    /** The key used for a line at {@code pa} (KeyID bits stripped) under {@code keyId}; null = plaintext. */
    public XtsKey keyFor(int keyId, long pa) {
        if (!tme.active()) return null;
        KeyTable.Entry e = entry(keyId);
        return switch (e.mode()) {
            case KEY -> e.key();
            case NO_ENCRYPT -> null;
            case TME -> keyId == 0 && tme.excluded(pa) ? null : tme.tmeKey();
        };
    }

    /**
     * Fill: the plaintext of full line {@code line} (full PA &gt;&gt; 6, KeyID bits included) into
     * {@code dst[off..off+64)}.
     */
    public void fill(long line, byte[] dst, int off) {
        fills++;
        if (line >= raLine && line < raLine + raCount && raTableGen == table.generation() && raTmeEpoch == tme.epoch()) {
            System.arraycopy(ra, (int) (line - raLine) * LINE, dst, off, LINE);
            lastMiss = line;
            return;
        }
        long full = line << 6;
        long pa = dramPa(full);
        boolean sequential = line == lastMiss + 1;
        lastMiss = line;
        int n = sequential ? (int) ((Dram.PAGE - (pa & (Dram.PAGE - 1))) / LINE) : 1;
        settleRange(pa, (long) n * LINE);
        XtsKey key = keyOfFull(full, pa);
        if (n == 1) {
            dram.readInto(pa, dst, off, LINE);
            if (key != null) engine.decryptLines(key, tme.salt(), pa, dst, off, dst, off, 1);
            return;
        }
        byte[] frame = key != null ? dram.pageArrayIfPresent(pa) : null;
        if (frame != null) {
            engine.decryptLines(key, tme.salt(), pa, frame, (int) (pa & (Dram.PAGE - 1)), ra, 0, n); // straight from the frame
        } else {
            dram.readInto(pa, ra, 0, n * LINE);
            if (key != null) engine.decryptLines(key, tme.salt(), pa, ra, 0, ra, 0, n);
        }
        raLine = line;
        raCount = n;
        raTableGen = table.generation();
        raTmeEpoch = tme.epoch();
        System.arraycopy(ra, 0, dst, off, LINE);
    }

    /** Write-back of the plaintext line {@code src[off..off+64)} at full line {@code line}. */
    public void writeBack(long line, byte[] src, int off) {
        writeBacks++;
        long full = line << 6;
        long pa = dramPa(full);
        XtsKey key = keyOfFull(full, pa);
        beforeWrite(pa, LINE);
        if (pwCount > 0 && (pa != pwPa + (long) pwCount * LINE || key != pwKey || (pa & (Dram.PAGE - 1)) == 0)) drain();
        if (pwCount == 0) {
            pwPa = pa;
            pwKey = key;
        }
        System.arraycopy(src, off, pw, pwCount * LINE, LINE);
        pwCount++;
    }

    /**
     * Write-back of {@code n} consecutive plaintext lines {@code src[off..off+64n)} at full lines
     * {@code line..line+n-1} (within one page): the same DRAM result, in the same order, as
     * {@code n} {@link #writeBack} calls. A whole page with nothing posted is encrypted straight
     * into DRAM (posting and draining at once; nothing can observe the difference); a partial run
     * is one bulk post (the coherence checks once per run, one copy into the posted buffer, which
     * is drained first if the run does not continue it).
     */
    public void writeBackRun(long line, byte[] src, int off, int n) {
        if (n <= 0) return;
        int inPage = RUN - (int) (line & (RUN - 1));
        if (n > inPage) { // not a caller's case (runs stay in one page), kept correct anyway
            writeBackRun(line, src, off, inPage);
            writeBackRun(line + inPage, src, off + inPage * LINE, n - inPage);
            return;
        }
        writeBacks += n;
        long full = line << 6;
        long pa = dramPa(full);
        long len = (long) n * LINE;
        XtsKey key = keyOfFull(full, pa); // one key for the run: KeyID, C-bit and exclusion range are per page
        beforeWrite(pa, len);
        if (n == RUN && (pa & (Dram.PAGE - 1)) == 0) {
            drain(); // cannot overlap the page (checked above), but DRAM sees posting order anyway
            if (key == null) dram.writeFrom(pa, src, off, n * LINE);
            else engine.encryptLines(key, tme.salt(), pa, src, off, dram.pageArray(pa), 0, n);
            return;
        }
        if (pwCount > 0 && (pa != pwPa + (long) pwCount * LINE || key != pwKey || (pa & (Dram.PAGE - 1)) == 0)) drain();
        if (pwCount == 0) {
            pwPa = pa;
            pwKey = key;
        }
        System.arraycopy(src, off, pw, pwCount * LINE, n * LINE);
        pwCount += n;
    }

    /**
     * Streaming fill of {@code n} consecutive full lines starting at {@code line} (same KeyID /
     * C-bit) straight into {@code dst}, without allocating in any cache: what a run of
     * {@link #fill} calls would return, in one {@code decryptLines} call. The caller guarantees no
     * cache holds any of these full lines.
     */
    public void readRun(long line, byte[] dst, int off, int n) {
        if (n <= 0) return;
        fills += n;
        long full = line << 6;
        long pa = dramPa(full);
        settleRange(pa, (long) n * LINE);
        XtsKey key = keyOfFull(full, pa);
        byte[] frame = key != null && (pa & (Dram.PAGE - 1)) + (long) n * LINE <= Dram.PAGE ? dram.pageArrayIfPresent(pa) : null;
        if (frame != null) {
            engine.decryptLines(key, tme.salt(), pa, frame, (int) (pa & (Dram.PAGE - 1)), dst, off, n); // straight from the frame
        } else {
            dram.readInto(pa, dst, off, n * LINE);
            if (key != null) engine.decryptLines(key, tme.salt(), pa, dst, off, dst, off, n);
        }
        lastMiss = line + n - 1;
    }

    /**
     * Streaming write of {@code n} whole lines (non-temporal / write-combining full-line stores):
     * encrypted with the key in effect now and stored to DRAM directly. The caller has already
     * invalidated every cached copy of these full lines; copies under other KeyIDs or the other
     * C-bit alias are not touched (they are different lines). A whole page of zeros is a posted
     * zero page (speed only, see the design note).
     */
    public void writeRun(long line, byte[] src, int off, int n) {
        if (n <= 0) return;
        writeBacks += n;
        long full = line << 6;
        long pa = dramPa(full);
        long len = (long) n * LINE;
        beforeWrite(pa, len);
        XtsKey key = keyOfFull(full, pa);
        // one page (64 lines) per engine call, straight into the DRAM pages
        long end = pa + len;
        int o = off;
        for (long a = pa; a < end; ) {
            int po = (int) (a & (Dram.PAGE - 1));
            int k = (int) Math.min((Dram.PAGE - po) / LINE, (end - a) / LINE);
            if (k == RUN && zeroLimit > 0 && isZero(src, o)) postZero(a, key);
            else if (key == null) dram.writeFrom(a, src, o, k * LINE);
            else engine.encryptLines(key, tme.salt(), a, src, o, dram.pageArray(a), po, k);
            a += (long) k * LINE;
            o += k * LINE;
        }
    }

    // speed-only scratch for copyRun with two keys (never holds data between calls)
    private final byte[] copyTmp = new byte[Dram.PAGE];
    private static final byte[] ZERO_PAGE = new byte[Dram.PAGE];

    /**
     * Streaming copy of {@code n} whole lines (at most one page on each side) from full line
     * {@code src} to full line {@code dst}, memory to memory: the same DRAM result as
     * {@link #readRun} into a temporary followed by {@link #writeRun}, but without the detour
     * (decrypt with the source's key, encrypt with the destination's, straight between DRAM
     * pages). The caller guarantees no cache holds any of these full lines.
     */
    public void copyRun(long src, long dst, int n) {
        if (n <= 0) return;
        long len = (long) n * LINE;
        long sFull = src << 6, dFull = dst << 6;
        long sPa = dramPa(sFull), dPa = dramPa(dFull);
        if ((sPa & (Dram.PAGE - 1)) + len > Dram.PAGE || (dPa & (Dram.PAGE - 1)) + len > Dram.PAGE) throw new IllegalArgumentException("copyRun crosses a page");
        fills += n;
        writeBacks += n;
        settleRange(sPa, len);
        beforeWrite(dPa, len);
        XtsKey sk = keyOfFull(sFull, sPa), dk = keyOfFull(dFull, dPa);
        byte[] sp = dram.pageArrayIfPresent(sPa);
        int so = (int) (sPa & (Dram.PAGE - 1));
        if (sp == null) {
            sp = ZERO_PAGE;
        }
        byte[] dp = dram.pageArray(dPa);
        int dOff = (int) (dPa & (Dram.PAGE - 1));
        if (sk == null && dk == null) {
            System.arraycopy(sp, so, dp, dOff, (int) len);
        } else if (sk == null) {
            engine.encryptLines(dk, tme.salt(), dPa, sp, so, dp, dOff, n);
        } else if (dk == null) {
            engine.decryptLines(sk, tme.salt(), sPa, sp, so, dp, dOff, n);
        } else {
            engine.decryptLines(sk, tme.salt(), sPa, sp, so, copyTmp, 0, n);
            engine.encryptLines(dk, tme.salt(), dPa, copyTmp, 0, dp, dOff, n);
        }
        lastMiss = src + n - 1;
    }

    /** Encrypts and stores the posted write-backs (straight into the DRAM frames, one engine call per page). */
    public void drain() {
        if (pwCount == 0) return;
        int n = pwCount;
        pwCount = 0;
        if (pwKey == null) {
            dram.writeFrom(pwPa, pw, 0, n * LINE);
        } else {
            long a = pwPa;
            int o = 0;
            while (n > 0) { // the buffer may continue into the next page
                int po = (int) (a & (Dram.PAGE - 1));
                int k = Math.min(n, (Dram.PAGE - po) / LINE);
                engine.encryptLines(pwKey, tme.salt(), a, pw, o, dram.pageArray(a), po, k);
                a += (long) k * LINE;
                o += k * LINE;
                n -= k;
            }
        }
        pwKey = null;
    }

    boolean postedOverlaps(long pa, long len) {
        return pwCount > 0 && pa < pwPa + (long) pwCount * LINE && pwPa < pa + len;
    }

    /**
     * Before DRAM lines [pa, pa+len) are written or a write of them is posted: every controller's
     * older posted copy of them reaches DRAM first (so DRAM sees posting order, and at most one
     * posted copy of a line exists), its read-ahead of them is dropped, and its pending zero pages
     * stop covering them (they are overwritten).
     */
    private void beforeWrite(long pa, long len) {
        for (MemoryController c : all) {
            if (c.postedOverlaps(pa, len)) c.drain();
            c.dropReadAhead(pa, len);
            c.coverZeros(pa, len);
        }
    }

    /**
     * Makes DRAM in the range what the write-backs and streaming writes posted so far make it:
     * every controller's overlapping posted write-backs are drained and its overlapping posted
     * zero pages materialized. Before any DRAM read of the range.
     */
    public void settleRange(long pa, long len) {
        for (MemoryController c : all) {
            if (c.postedOverlaps(pa, len)) c.drain();
            c.materializeZeros(pa, len);
        }
    }

    /**
     * Before a raw DRAM access of the range (the {@link Dram.Hook}): this controller's posted
     * write-backs are drained and its posted zero pages overlapping the range materialized.
     */
    public void settleForRaw(long pa, long len) {
        drain();
        materializeZeros(pa, len);
    }

    /** Drops read-ahead data overlapping a DRAM range that is being written. */
    public void dropReadAhead(long pa, long len) {
        if (raCount == 0) return;
        long raPa = dramPa(raLine << 6);
        if (pa < raPa + (long) raCount * LINE && raPa < pa + len) {
            raCount = 0;
            raLine = -1;
        }
    }

    /** Drops all speed-only buffers after draining (key change, power loss). */
    public void settleAll() {
        drain();
        materializeZeros(0, Long.MAX_VALUE);
        raCount = 0;
        raLine = -1;
        snapGen = -1;
    }

    // ------------------------------------------------------------------ speed-only: posted zero pages

    /** A posted zero page: its key and tweak salt captured at post time, and the lines written since. */
    private static final class ZeroPage {
        final long page; // DRAM address of the page
        final XtsKey key; // null: plaintext zeros
        final dev.memcrypt.crypto.LineTweak salt;
        long written; // bit i: line i of the page was written (or posted) after the zero page was posted
        ZeroPage older, newer; // posting order

        ZeroPage(long page, XtsKey key, dev.memcrypt.crypto.LineTweak salt) {
            this.page = page;
            this.key = key;
            this.salt = salt;
        }
    }

    /** Bound on pending zero pages (more than an LLC's worth of pages; the table costs ~128 KiB once used). */
    static final int ZERO_LIMIT = 8192;
    // open addressing (linear probing) sized for load at most 1/2; allocated at the first post
    private ZeroPage[] ztab;
    private int zMask, zShift;
    private ZeroPage zOldest, zNewest;
    private int zCount;
    private int zeroLimit = ZERO_LIMIT;
    private long zeroPosts, zeroMaterialized;

    /** Zero pages posted so far (speed-only statistics, for tests). */
    long zeroPosts() {
        return zeroPosts;
    }

    /** Zero pages materialized so far (speed-only statistics, for tests). */
    long zeroMaterialized() {
        return zeroMaterialized;
    }

    /** Zero pages pending now (speed-only statistics, for tests). */
    int zeroPending() {
        return zCount;
    }

    /**
     * Test switch: at most {@code limit} (0..{@link #ZERO_LIMIT}) pending zero pages, oldest
     * materialized first; 0 turns posting off (every zero page is encrypted at once, the
     * reference behaviour). Pending pages are materialized now.
     */
    void setZeroLimit(int limit) {
        if (limit < 0 || limit > ZERO_LIMIT) throw new IllegalArgumentException("zero-page limit " + limit + " not in 0.." + ZERO_LIMIT);
        while (zCount > 0) materializeAndRemove(zOldest);
        zeroLimit = limit;
        ztab = null; // sized for the new limit at the next post
    }

    private static boolean isZero(byte[] b, int off) {
        return java.util.Arrays.mismatch(b, off, off + Dram.PAGE, ZERO_PAGE, 0, Dram.PAGE) < 0;
    }

    private int zHash(long page) {
        return (int) (((page >>> 12) * 0x9E3779B97F4A7C15L) >>> zShift);
    }

    /** The pending zero page at DRAM page address {@code page}, or null. */
    private ZeroPage zeroAt(long page) {
        if (zCount == 0) return null;
        for (int i = zHash(page); ; i = (i + 1) & zMask) {
            ZeroPage z = ztab[i];
            if (z == null || z.page == page) return z;
        }
    }

    private void removeZero(ZeroPage z) {
        if (z.older != null) z.older.newer = z.newer;
        else zOldest = z.newer;
        if (z.newer != null) z.newer.older = z.older;
        else zNewest = z.older;
        zCount--;
        int i = zHash(z.page);
        while (ztab[i] != z) i = (i + 1) & zMask;
        for (int j = i; ; ) { // backward-shift deletion keeps every probe chain unbroken
            j = (j + 1) & zMask;
            ZeroPage e = ztab[j];
            if (e == null) break;
            int k = zHash(e.page);
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue; // e's home lies in (i, j]: it stays
            ztab[i] = e;
            i = j;
        }
        ztab[i] = null;
    }

    /** Posts a zero page at DRAM page address {@code page} (the caller has settled and covered it). */
    private void postZero(long page, XtsKey key) {
        zeroPosts++;
        if (ztab == null) {
            int size = Math.max(16, Integer.highestOneBit(zeroLimit) * 4); // a power of two, at least twice the limit
            ztab = new ZeroPage[size];
            zMask = size - 1;
            zShift = 64 - Integer.numberOfTrailingZeros(size);
        }
        ZeroPage old = zeroAt(page);
        if (old != null) removeZero(old); // not a caller's case (covering dropped it); a repost replaces it
        ZeroPage z = new ZeroPage(page, key, tme.salt());
        int i = zHash(page);
        while (ztab[i] != null) i = (i + 1) & zMask;
        ztab[i] = z;
        z.older = zNewest;
        if (zNewest != null) zNewest.newer = z;
        else zOldest = z;
        zNewest = z;
        zCount++;
        if (zCount > zeroLimit) materializeAndRemove(zOldest);
    }

    private void materializeAndRemove(ZeroPage z) {
        removeZero(z);
        materialize(z);
    }

    /** Stores the zero page's encrypted zeros into the lines not written since it was posted. */
    private void materialize(ZeroPage z) {
        zeroMaterialized++;
        long w = z.written;
        byte[] frame = dram.pageArray(z.page);
        for (int i = 0; i < RUN; ) {
            if ((w >>> i & 1) != 0) {
                i++;
                continue;
            }
            int e = i + 1;
            while (e < RUN && (w >>> e & 1) == 0) e++;
            if (z.key == null) java.util.Arrays.fill(frame, i * LINE, e * LINE, (byte) 0);
            else engine.encryptLines(z.key, z.salt, z.page + (long) i * LINE, ZERO_PAGE, 0, frame, i * LINE, e - i);
            i = e;
        }
    }

    /**
     * Lines [pa, pa+len) (whole lines) are being written: pending zero pages no longer store them,
     * and one whose every line is written is dropped (DRAM ends the same without it).
     */
    private void coverZeros(long pa, long len) {
        if (zCount == 0) return;
        long end = pa + len;
        if (len > (long) zCount * Dram.PAGE) { // a long range: visit the pending pages instead
            for (ZeroPage z = zOldest, next; z != null; z = next) {
                next = z.newer;
                if (z.page < end && pa < z.page + Dram.PAGE && cover(z, pa, end)) removeZero(z);
            }
            return;
        }
        for (long p = pa & -Dram.PAGE; p < end; p += Dram.PAGE) {
            ZeroPage z = zeroAt(p);
            if (z != null && cover(z, pa, end)) removeZero(z);
        }
    }

    /** Marks the lines of [pa, end) in zero page {@code z} written; true if every line now is. */
    private static boolean cover(ZeroPage z, long pa, long end) {
        long p = z.page;
        int a = (int) ((Math.max(pa, p) - p) >>> 6);
        int b = (int) ((Math.min(end, p + Dram.PAGE) - p + LINE - 1) >>> 6);
        z.written |= b - a == RUN ? -1L : ((1L << (b - a)) - 1) << a;
        return z.written == -1L;
    }

    /** Materializes the pending zero pages overlapping [pa, pa+len) (any byte range). */
    private void materializeZeros(long pa, long len) {
        if (zCount == 0) return;
        long end = len > Long.MAX_VALUE - pa ? Long.MAX_VALUE : pa + len;
        if (len > (long) zCount * Dram.PAGE) {
            for (ZeroPage z = zOldest, next; z != null; z = next) {
                next = z.newer;
                if (z.page < end && pa < z.page + Dram.PAGE) materializeAndRemove(z);
            }
            return;
        }
        for (long p = pa & -Dram.PAGE; p < end; p += Dram.PAGE) {
            ZeroPage z = zeroAt(p);
            if (z != null) materializeAndRemove(z);
        }
    }
}
