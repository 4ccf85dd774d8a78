package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.task.Process;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;

/**
 * Random sequences of mmap, munmap, mprotect, encrypt_mprotect, writes, fork, exit, MADV_DONTNEED,
 * MADV_PAGEOUT (swap) and key invalidation (keyctl invalidate, then a fresh key in its slot) over a
 * window of 8 pages keep: KeyID reference counts == VMAs (and files) using each KeyID + one per live
 * key (checked by the model's checker and, independently, from the test's own record of which keys
 * are live); no page mapped under a KeyID other than its VMA's (checked against the PTEs in DRAM);
 * every byte written reads back until it is discarded.
 *
 * <p>A failed call must fail with an errno the call may give here (ENOMEM for a hole, ENOKEY for
 * an invalidated key), and jqwik statistics require that a real share of encrypt_mprotect calls
 * succeed, many of them on mapped pages holding written bytes, and that keys are invalidated while
 * VMAs still use their KeyIDs.
 */
class MmPropertyTest {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 8;
    static final int KEYS = 3;
    static final String EM = "encrypt_mprotect", STORE = "store", INVALIDATE = "invalidate";
    static final String EM_OK_WRITTEN = "ok on written pages", EM_OK = "ok", NOT_WRITABLE = "skipped: not writable";

    @Property(tries = 40)
    void randomSequencesKeepTheInvariants(@ForAll("ops") List<Integer> ops) throws Exception {
        MmFixture f = new MmFixture();
        int[] keys = new int[KEYS];
        boolean[] dead = new boolean[KEYS];
        for (int i = 0; i < KEYS; i++) keys[i] = f.cpuKey();
        List<Process> procs = new ArrayList<>(List.of(f.p));
        Map<Process, Map<Long, byte[]>> expect = new HashMap<>();
        expect.put(f.p, new HashMap<>());
        // the window starts mapped read-write, so most ranges the operations pick are mapped
        f.k.mmap(f.p, BASE, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
        for (int op : ops) {
            Process p = procs.get(Math.floorMod(op >>> 20, procs.size()));
            int first = (op >>> 4) % PAGES;
            int n = 1 + (op >>> 8) % Math.max(1, Math.min(4, PAGES - first));
            long a = BASE + first * PAGE, len = n * PAGE;
            int prot = (op >>> 12) & 3;
            Map<Long, byte[]> e = expect.get(p);
            int kind = op % 16;
            try {
                switch (kind) {
                    case 0 -> {
                        f.k.mmap(p, a, len, prot, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
                        discard(e, a, len);
                    }
                    case 1 -> {
                        f.k.munmap(p, a, len);
                        discard(e, a, len);
                    }
                    case 2 -> f.k.mprotect(p, a, len, prot);
                    case 3, 4, 5 -> {
                        int slot = (op >>> 14) % KEYS;
                        boolean written = holdsBytes(e, a, len);
                        try {
                            int eprot = (op >>> 18) % 4 == 0 ? prot : PROT_READ | PROT_WRITE; // a quarter with any prot, PROT_NONE too
                            f.k.encryptMprotect(p.mainThread(), a, len, eprot, keys[slot]);
                        } catch (ErrnoException ex) {
                            Statistics.label(EM).collect(ex.errno().name());
                            if (ex.errno() == Errno.ENOKEY) {
                                if (!dead[slot]) throw new AssertionError("ENOKEY for a live key", ex);
                                keys[slot] = f.cpuKey(); // the program notices and makes a new key
                                dead[slot] = false;
                            }
                            throw ex;
                        }
                        if (dead[slot]) throw new AssertionError("encrypt_mprotect accepted an invalidated key");
                        Statistics.label(EM).collect(written ? EM_OK_WRITTEN : EM_OK);
                        int want = keyIdOf(f, keys[slot]);
                        for (long va = a; va < a + len; va += PAGE) {
                            if (f.k.keyIdAt(p, va) != want) throw new AssertionError(String.format("0x%x not under KeyID %d", va, want));
                        }
                        discard(e, a, len);
                    }
                    case 6, 7, 8, 9, 15 -> {
                        Vma v = p.mm().find(a);
                        if (v != null && (v.prot() & PROT_WRITE) != 0) {
                            byte[] d = new byte[8];
                            Arrays.fill(d, (byte) (op >>> 3));
                            long off = a + ((op >>> 16) & 0x3f) * 8L;
                            f.k.store(p, off, d);
                            byte[] page = e.computeIfAbsent(a, x -> new byte[(int) PAGE]);
                            System.arraycopy(d, 0, page, (int) (off - a), 8);
                            Statistics.label(STORE).collect(v.keyId() != 0 ? "written under a KeyID" : "written under KeyID 0");
                        } else {
                            Statistics.label(STORE).collect(NOT_WRITABLE);
                        }
                    }
                    case 10 -> {
                        if (procs.size() < 4) {
                            Process c = f.k.fork(p);
                            procs.add(c);
                            Map<Long, byte[]> ce = new HashMap<>();
                            e.forEach((k, v) -> ce.put(k, v.clone()));
                            expect.put(c, ce);
                        }
                    }
                    case 11 -> {
                        if (p != f.p) {
                            f.k.exit(p, 0);
                            procs.remove(p);
                            expect.remove(p);
                        }
                    }
                    case 12 -> f.k.madvise(p, a, len, MADV_DONTNEED);
                    case 13 -> f.k.madvise(p, a, len, MADV_PAGEOUT); // swap out: contents must survive
                    default -> { // keyctl invalidate a live key; a dead slot gets a fresh key
                        int slot = (op >>> 14) % KEYS;
                        if (!dead[slot]) {
                            int id = keyIdOf(f, keys[slot]);
                            boolean used = vmasUsing(procs, id) > 0;
                            f.k.keys().invalidate(f.t, keys[slot]);
                            dead[slot] = true;
                            Statistics.label(INVALIDATE).collect(used ? "KeyID still used by VMAs" : "KeyID unused");
                            if (used != (f.k.keyIds().state(id) == MktmeKeyIds.State.REF_KILLED)) throw new AssertionError("KeyID " + id + " state " + f.k.keyIds().state(id));
                        } else {
                            keys[slot] = f.cpuKey();
                            dead[slot] = false;
                        }
                    }
                }
                if (kind == 12) discard(e, a, len);
            } catch (ErrnoException ex) {
                // a failed call changes nothing (the invariants below still hold), and only these may fail
                boolean allowed = switch (kind) {
                    case 2, 12, 13 -> ex.errno() == Errno.ENOMEM; // a hole in the range
                    case 3, 4, 5 -> ex.errno() == Errno.ENOMEM || ex.errno() == Errno.ENOKEY;
                    default -> false;
                };
                if (!allowed) throw new AssertionError("op " + kind + " failed with " + ex.errno(), ex);
                if (kind == 12) discard(e, a, len); // madvise with holes still discards what is mapped
            }
            f.assertInvariants();
            checkRefcounts(f, procs, keys, dead);
            for (Process q : procs) readBack(f, q, expect.get(q));
        }
        for (Process q : new ArrayList<>(procs)) if (q != f.p) f.k.exit(q, 0);
        f.k.exit(f.p, 0);
        f.assertInvariants();
        Arrays.fill(dead, true); // the keys were on the last process's thread keyring: exit released them
        checkRefcounts(f, List.of(), keys, dead);

        Statistics.label(EM).coverage(c -> {
            c.checkQuery(l -> String.valueOf(l.get(0)).startsWith("ok")).percentage(pc -> pc >= 35); // observed 58-66 %
            c.check(EM_OK_WRITTEN).percentage(pc -> pc >= 8); // observed 18-22 %
            c.check(Errno.ENOKEY.name()).count(k -> k > 0);
        });
        Statistics.label(STORE).coverage(c -> {
            c.check(NOT_WRITABLE).percentage(pc -> pc <= 60); // observed 29-36 %
            c.check("written under a KeyID").percentage(pc -> pc >= 6); // observed 18-21 %
        });
        Statistics.label(INVALIDATE).coverage(c -> c.check("KeyID still used by VMAs").count(k -> k > 0));
    }

    /** 20..60 operations, each an int decoded bit-field by bit-field, so uniform, not biased to small values. */
    @Provide
    Arbitrary<List<Integer>> ops() {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE).withDistribution(RandomDistribution.uniform()).list().ofMinSize(20).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    private static boolean holdsBytes(Map<Long, byte[]> e, long a, long len) {
        for (long va = a; va < a + len; va += PAGE) if (e.containsKey(va)) return true;
        return false;
    }

    private static int keyIdOf(MmFixture f, int serial) {
        Key k = f.k.keys().acquire(serial);
        if (k == null) throw new AssertionError("key " + serial + " is not live");
        try {
            return MktmeKeyType.keyIdOf(k);
        } finally {
            f.k.keys().release(k);
        }
    }

    private static int vmasUsing(List<Process> procs, int keyId) {
        int n = 0;
        for (Process q : procs) for (Vma v : q.mm().vmas()) if (v.keyId() == keyId) n++;
        return n;
    }

    /**
     * The refcount invariant from the test's own bookkeeping: a KeyID's count is the VMAs
     * using it plus one if a key the test has not invalidated owns it; its state follows.
     */
    private static void checkRefcounts(MmFixture f, List<Process> procs, int[] keys, boolean[] dead) {
        Map<Integer, Integer> owner = new HashMap<>();
        for (int i = 0; i < keys.length; i++) if (!dead[i]) owner.put(keyIdOf(f, keys[i]), keys[i]);
        MktmeKeyIds ids = f.k.keyIds();
        for (int id = 1; id <= ids.nrKeyIds(); id++) {
            int vmas = vmasUsing(procs, id);
            int want = vmas + (owner.containsKey(id) ? 1 : 0);
            MktmeKeyIds.State st = owner.containsKey(id) ? MktmeKeyIds.State.ASSIGNED : vmas > 0 ? MktmeKeyIds.State.REF_KILLED : MktmeKeyIds.State.AVAILABLE;
            if (ids.refCount(id) != want || ids.state(id) != st) {
                throw new AssertionError("KeyID " + id + ": " + ids.refCount(id) + " references (" + ids.state(id) + "), expected " + want + " (" + st + ")");
            }
        }
    }

    private static void discard(Map<Long, byte[]> e, long a, long len) {
        for (long va = a; va < a + len; va += PAGE) e.remove(va);
    }

    private static void readBack(MmFixture f, Process q, Map<Long, byte[]> e) throws ErrnoException {
        for (var en : e.entrySet()) {
            Vma v = q.mm().find(en.getKey());
            if (v == null) throw new AssertionError("expected content in an unmapped page");
            byte[] got;
            if ((v.prot() & PROT_READ) != 0) {
                got = f.k.copyFromUser(q, en.getKey(), (int) PAGE); // the kernel's direct map of the page's KeyID
            } else { // not readable now: look at the page itself (FOLL_FORCE-like; swapped pages come back first)
                Page pg = q.mm().forcePage(en.getKey());
                if (pg == null) throw new AssertionError(String.format("pid %d page 0x%x vanished", q.pid(), en.getKey()));
                got = f.m.pload(0, pg.pa(), pg.keyId(), (int) PAGE);
            }
            if (!Arrays.equals(got, en.getValue())) throw new AssertionError(String.format("pid %d page 0x%x lost its bytes", q.pid(), en.getKey()));
        }
    }
}
