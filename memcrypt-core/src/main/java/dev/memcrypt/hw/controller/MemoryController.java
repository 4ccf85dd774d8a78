package dev.memcrypt.hw.controller;

import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.memory.Dram;
import java.util.List;

/**
 * One package's memory controller: the only place where plaintext becomes ciphertext and back.
 *
 * <h2>Data path</h2>
 * <ul>
 * <li><b>Fill</b> (a cache miss of this package reads line {@code L} under KeyID {@code k}):
 *   settle any posted write-back that overlaps the line, read the ciphertext from DRAM, choose the
 *   key from this package's {@link KeyTable} entry for {@code k} ({@link #keyFor}), decrypt with
 *   XTS line mode (tweak = PA with KeyID bits stripped, XOR salt), hand the plaintext to the cache.
 * <li><b>Write-back</b> (a dirty line leaves this package's caches): the key in effect at that
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
        int shift = tme.keyIdShift();
        long full = line << 6;
        long pa = full & ((1L << shift) - 1);
        int keyId = (int) (full >>> shift);
        boolean sequential = line == lastMiss + 1;
        lastMiss = line;
        int n = sequential ? (int) ((Dram.PAGE - (pa & (Dram.PAGE - 1))) / LINE) : 1;
        settleRange(pa, (long) n * LINE);
        XtsKey key = keyFor(keyId, pa);
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
        int shift = tme.keyIdShift();
        long full = line << 6;
        long pa = full & ((1L << shift) - 1);
        int keyId = (int) (full >>> shift);
        XtsKey key = keyFor(keyId, pa);
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
        int shift = tme.keyIdShift();
        long raPa = (raLine << 6) & ((1L << shift) - 1);
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
