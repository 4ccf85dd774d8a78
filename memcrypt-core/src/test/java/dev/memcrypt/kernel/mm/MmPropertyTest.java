package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;

import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.task.Process;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random sequences of mmap, munmap, mprotect, encrypt_mprotect, writes, fork, exit, MADV_DONTNEED
 * and MADV_PAGEOUT (swap) over a
 * 16-page window keep: KeyID reference counts == VMAs (and files) using each KeyID + one per live
 * key; no page mapped under a KeyID other than its VMA's (checked against the PTEs in DRAM);
 * every byte written reads back until it is discarded.
 */
class MmPropertyTest {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 16;

    @Property(tries = 100)
    void randomSequencesKeepTheInvariants(@ForAll @Size(max = 50) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> ops) throws Exception {
        MmFixture f = new MmFixture();
        int[] keys = {f.cpuKey(), f.cpuKey(), f.cpuKey()};
        List<Process> procs = new ArrayList<>(List.of(f.p));
        Map<Process, Map<Long, byte[]>> expect = new HashMap<>();
        expect.put(f.p, new HashMap<>());
        for (int op : ops) {
            Process p = procs.get(Math.floorMod(op >>> 20, procs.size()));
            int first = (op >>> 4) % PAGES;
            int n = 1 + (op >>> 8) % Math.max(1, Math.min(4, PAGES - first));
            long a = BASE + first * PAGE, len = n * PAGE;
            int prot = (op >>> 12) & 3;
            Map<Long, byte[]> e = expect.get(p);
            try {
                switch (op % 10) {
                    case 0 -> {
                        f.k.mmap(p, a, len, prot, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
                        discard(e, a, len);
                    }
                    case 1 -> {
                        f.k.munmap(p, a, len);
                        discard(e, a, len);
                    }
                    case 2 -> f.k.mprotect(p, a, len, prot);
                    case 3 -> {
                        f.k.encryptMprotect(p.mainThread(), a, len, prot, keys[(op >>> 14) % 3]);
                        discard(e, a, len);
                    }
                    case 4, 5 -> {
                        Vma v = p.mm().find(a);
                        if (v != null && (v.prot() & PROT_WRITE) != 0) {
                            byte[] d = new byte[8];
                            Arrays.fill(d, (byte) (op >>> 3));
                            long off = a + ((op >>> 16) & 0x3f) * 8L;
                            f.k.store(p, off, d);
                            byte[] page = e.computeIfAbsent(a, x -> new byte[(int) PAGE]);
                            System.arraycopy(d, 0, page, (int) (off - a), 8);
                        }
                    }
                    case 6 -> {
                        if (procs.size() < 4) {
                            Process c = f.k.fork(p);
                            procs.add(c);
                            Map<Long, byte[]> ce = new HashMap<>();
                            e.forEach((k, v) -> ce.put(k, v.clone()));
                            expect.put(c, ce);
                        }
                    }
                    case 7 -> {
                        if (p != f.p) {
                            f.k.exit(p, 0);
                            procs.remove(p);
                            expect.remove(p);
                        }
                    }
                    case 8 -> f.k.madvise(p, a, len, MADV_DONTNEED);
                    default -> f.k.madvise(p, a, len, MADV_PAGEOUT); // swap out: contents must survive
                }
                if (op % 10 == 8) discard(e, a, len);
            } catch (ErrnoException ex) {
                // a failed call changes nothing: the invariants below still hold
                if (op % 10 == 8) discard(e, a, len); // madvise with holes still discards what is mapped
            }
            f.assertInvariants();
            for (Process q : procs) readBack(f, q, expect.get(q));
        }
        for (Process q : new ArrayList<>(procs)) if (q != f.p) f.k.exit(q, 0);
        f.k.exit(f.p, 0);
        f.assertInvariants();
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
