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
 *   settle any posted write-back that overlaps the line, read the ciphertext from DRAM, choose the
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
 * <li>Posted write-back buffer: consecutive write-backs under one key are collected (up to one
 *   page) and encrypted in one {@code encryptLines} call. The write-back is architecturally done
 *   when posted (its key is captured then); the buffer is drained before any DRAM read of an
 *   overlapping range, any raw DRAM access, any key change, and before another controller posts
 *   the same line (so at most one posted copy of an address exists and DRAM sees posting order).
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
        for (MemoryController c : all) {
            if (c.raCount != 0) c.dropReadAhead(pa, LINE);
            // an older copy of this line posted by another package must reach DRAM first (posting order)
            if (c != this && c.postedOverlaps(pa, LINE)) c.drain();
        }
        if (pwCount > 0 && (pa != pwPa + (long) pwCount * LINE || key != pwKey || pwCount == RUN)) drain();
        if (pwCount == 0) {
            pwPa = pa;
            pwKey = key;
        }
        System.arraycopy(src, off, pw, pwCount * LINE, LINE);
        pwCount++;
    }

    /**
     * Write-back of {@code n} consecutive plaintext lines {@code src[off..off+64n)} at full lines
     * {@code line..line+n-1} (one page at most): the same as {@code n} {@link #writeBack} calls in
     * order. A whole page with nothing posted is encrypted straight into DRAM (posting and
     * draining at once; nothing can observe the difference).
     */
    public void writeBackRun(long line, byte[] src, int off, int n) {
        long full = line << 6;
        long pa = dramPa(full);
        if (n != RUN || (pa & (Dram.PAGE - 1)) != 0) {
            for (int i = 0; i < n; i++) writeBack(line + i, src, off + i * LINE);
            return;
        }
        writeBacks += n;
        long len = (long) n * LINE;
        XtsKey key = keyOfFull(full, pa);
        for (MemoryController c : all) {
            if (c.raCount != 0) c.dropReadAhead(pa, len);
            if (c.postedOverlaps(pa, len)) c.drain(); // older posted copies land first (posting order)
        }
        drain();
        if (key == null) dram.writeFrom(pa, src, off, n * LINE);
        else engine.encryptLines(key, tme.salt(), pa, src, off, dram.pageArray(pa), 0, n);
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
     * C-bit alias are not touched (they are different lines).
     */
    public void writeRun(long line, byte[] src, int off, int n) {
        if (n <= 0) return;
        writeBacks += n;
        long full = line << 6;
        long pa = dramPa(full);
        long len = (long) n * LINE;
        settleRange(pa, len); // older posted data for these lines must not land after ours
        for (MemoryController c : all) c.dropReadAhead(pa, len);
        XtsKey key = keyOfFull(full, pa);
        if (key == null) {
            dram.writeFrom(pa, src, off, n * LINE);
            return;
        }
        // encrypt straight into the DRAM pages, one page (64 lines) per engine call
        long end = pa + len;
        int o = off;
        for (long a = pa; a < end; ) {
            int po = (int) (a & (Dram.PAGE - 1));
            int k = (int) Math.min((Dram.PAGE - po) / LINE, (end - a) / LINE);
            engine.encryptLines(key, tme.salt(), a, src, o, dram.pageArray(a), po, k);
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
        settleRange(dPa, len);
        for (MemoryController c : all) c.dropReadAhead(dPa, len);
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

    /** Encrypts and stores the posted write-backs. */
    public void drain() {
        if (pwCount == 0) return;
        int n = pwCount;
        pwCount = 0;
        int po = (int) (pwPa & (Dram.PAGE - 1));
        if (pwKey != null && po + n * LINE <= Dram.PAGE) {
            engine.encryptLines(pwKey, tme.salt(), pwPa, pw, 0, dram.pageArray(pwPa), po, n); // straight into the frame
        } else {
            if (pwKey != null) engine.encryptLines(pwKey, tme.salt(), pwPa, pw, 0, pw, 0, n);
            dram.writeFrom(pwPa, pw, 0, n * LINE);
        }
        pwKey = null;
    }

    boolean postedOverlaps(long pa, long len) {
        return pwCount > 0 && pa < pwPa + (long) pwCount * LINE && pwPa < pa + len;
    }

    /** Drains every controller's posted write-backs that overlap the range. */
    public void settleRange(long pa, long len) {
        for (MemoryController c : all) if (c.postedOverlaps(pa, len)) c.drain();
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
        raCount = 0;
        raLine = -1;
        snapGen = -1;
    }
}
