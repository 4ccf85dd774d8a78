package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.*;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.MemoryBench;
import dev.memcrypt.hw.MemoryBench.Result;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.task.Process;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Speed of the memory manager ({@code memcrypt bench mm}).
 * <ul>
 * <li>{@code mm-touch}: 256 MiB of anonymous memory under a cpu key (encrypt_mprotect), each page
 *     first touched by a user write of the whole page (fault, zeroing through the KeyID, the write),
 *     then everything read back through the MMU. Metric: user bytes moved (written + read) per
 *     second, compared with {@code xts-lines} (the engine's line mode) measured in the same run.
 * <li>{@code mm-floor} (on request): the engine calls, copies and fresh frames of mm-touch with no
 *     model at all ({@link #mmFloor}); the ceiling for mm-touch.
 * <li>{@code vma-scale}: encrypt_mprotect and munmap (then re-mmap) of one page in an address space
 *     of 100 and of 100,000 one-page VMAs (alternating protections so nothing merges); mean
 *     nanoseconds per call and the ratio 100,000 / 100 (target: at most 2). {@code vma-scale} works
 *     on the same page every call; {@code vma-scale-random-page} picks a random page each call,
 *     which adds the CPU-cache misses of a 100,000-node tree (reported, not the target).
 * </ul>
 */
public final class MmBench {
    private MmBench() {}

    static final long BASE = 0x1000_0000L;

    /** mm-touch over {@code bytes} of memory (256 MiB for the real run). */
    public static Result mmTouch(long bytes) throws ErrnoException {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("seed", "1"));
        MmKernel k = MmKernel.boot(m);
        Process p = k.spawn(Cred.root());
        int key = k.keys().addKey(p.mainThread(), "mktme", "bench", "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
        long a = k.mmap(p, 0, bytes, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        k.encryptMprotect(p.mainThread(), a, bytes, PROT_READ | PROT_WRITE, key);
        byte[] page = new byte[(int) PAGE];
        for (int i = 0; i < page.length; i++) page[i] = (byte) (i * 7 + 1);
        long t0 = System.nanoTime();
        for (long va = a; va < a + bytes; va += PAGE) {
            page[0] = (byte) (va >>> 12);
            k.store(p, va, page);
        }
        long sink = 0;
        byte[] in = new byte[(int) PAGE];
        for (long va = a; va < a + bytes; va += PAGE) {
            k.load(p, va, in);
            sink += in[0];
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (sink == 42) System.out.print("");
        k.munmap(p, a, bytes);
        return new Result("mm-touch", "bytes_per_second", 2.0 * bytes / s, 2 * bytes, s);
    }

    /**
     * mm-floor over {@code bytes}: what mm-touch cannot avoid with no model at all
     * ({@link MemoryBench.FloorStream} with a fresh 4 KiB frame per page): every page stored, then
     * every page loaded, one engine call and one copy per page operation, through an LLC-sized array
     * of slots. Same metric as mm-touch.
     */
    public static Result mmFloor(long bytes) {
        int pages = Math.toIntExact(bytes / PAGE);
        MemoryBench.FloorStream f = new MemoryBench.FloorStream(pages, true);
        long t0 = System.nanoTime();
        for (int p = 0; p < pages; p++) f.store(p);
        for (int p = 0; p < pages; p++) f.load(p);
        double s = (System.nanoTime() - t0) / 1e9;
        return new Result("mm-floor", "bytes_per_second", 2.0 * bytes / s, 2 * bytes, s);
    }

    /**
     * Mean ns of encrypt_mprotect ([0]) and munmap ([1]) of one page among {@code nVmas} one-page
     * VMAs: the same page every time ({@code randomPage} false: the syscall cost itself), or a random
     * page each time (true: adds the cache misses of walking a large tree).
     */
    public static double[] vmaOps(int nVmas, int iterations, boolean randomPage) throws ErrnoException {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("seed", "1").with("dram", "1G"));
        MmKernel k = MmKernel.boot(m);
        Process p = k.spawn(Cred.root());
        int key = k.keys().addKey(p.mainThread(), "mktme", "bench", "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
        for (int i = 0; i < nVmas; i++) k.mmap(p, BASE + i * PAGE, PAGE, prot(i), MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
        if (p.mm().vmaCount() != nVmas) throw new IllegalStateException("VMAs merged: " + p.mm().vmaCount());
        SplittableRandom r = new SplittableRandom(7);
        long enc = 0, unm = 0;
        for (int it = 0; it < iterations; it++) {
            int i = randomPage ? r.nextInt(nVmas) : nVmas / 2;
            long va = BASE + i * PAGE;
            long t0 = System.nanoTime();
            k.encryptMprotect(p.mainThread(), va, PAGE, prot(i), key);
            long t1 = System.nanoTime();
            k.munmap(p, va, PAGE);
            long t2 = System.nanoTime();
            k.mmap(p, va, PAGE, prot(i), MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
            enc += t1 - t0;
            unm += t2 - t1;
        }
        if (p.mm().vmaCount() != nVmas) throw new IllegalStateException("VMA count drifted: " + p.mm().vmaCount());
        return new double[]{(double) enc / iterations, (double) unm / iterations};
    }

    private static int prot(int i) {
        return (i & 1) == 0 ? PROT_READ : PROT_NONE;
    }

    /** Every workload: xts-lines, mm-touch and its ratio, and the VMA scale ratios. */
    public static List<Result> run(Duration xtsBudget, long touchBytes, int iterations) throws ErrnoException {
        return run(xtsBudget, touchBytes, iterations, false);
    }

    /** As {@link #run(Duration, long, int)}, with mm-floor and its ratio too when {@code floor}. */
    public static List<Result> run(Duration xtsBudget, long touchBytes, int iterations, boolean floor) throws ErrnoException {
        List<Result> out = new ArrayList<>();
        MemoryBench.xtsLines(xtsBudget);
        for (int w = 0; w < 3; w++) {
            mmTouch(Math.min(touchBytes, 64L << 20)); // warm-up (JIT)
            if (floor) mmFloor(Math.min(touchBytes, 64L << 20));
        }
        // best of three interleaved rounds of each: the machine is shared, so single runs are noisy
        Result xts = null, touch = null, fl = null;
        for (int round = 0; round < 3; round++) {
            Result x = MemoryBench.xtsLines(xtsBudget), t = mmTouch(touchBytes);
            if (xts == null || x.value() > xts.value()) xts = x;
            if (touch == null || t.value() > touch.value()) touch = t;
            if (floor) {
                Result f = mmFloor(touchBytes);
                if (fl == null || f.value() > fl.value()) fl = f;
            }
        }
        out.add(xts);
        out.add(touch);
        out.add(new Result("mm-touch", "ratio_to_xts_lines", touch.value() / xts.value(), 0, touch.seconds()));
        if (floor) {
            out.add(fl);
            out.add(new Result("mm-floor", "ratio_to_xts_lines", fl.value() / xts.value(), 0, fl.seconds()));
        }
        for (int w = 0; w < 4; w++) { // warm-up: let the JIT settle on every path, the large tree's included
            vmaOps(100, 2 * iterations, false);
            vmaOps(100, 2 * iterations, true);
            if (w % 2 == 1) {
                vmaOps(100_000, iterations, false);
                vmaOps(100_000, iterations, true);
            }
        }
        for (boolean random : new boolean[]{false, true}) {
            // best of five interleaved rounds: the machine is shared, so single rounds are noisy
            double[] small = {Double.MAX_VALUE, Double.MAX_VALUE}, large = {Double.MAX_VALUE, Double.MAX_VALUE};
            for (int round = 0; round < 5; round++) {
                double[] s = vmaOps(100, iterations, random), l = vmaOps(100_000, iterations, random);
                for (int i = 0; i < 2; i++) {
                    small[i] = Math.min(small[i], s[i]);
                    large[i] = Math.min(large[i], l[i]);
                }
            }
            String w = random ? "vma-scale-random-page" : "vma-scale";
            out.add(new Result(w, "encrypt_mprotect_ns_100", small[0], iterations, 0));
            out.add(new Result(w, "encrypt_mprotect_ns_100k", large[0], iterations, 0));
            out.add(new Result(w, "encrypt_mprotect_ratio", large[0] / small[0], 0, 0));
            out.add(new Result(w, "munmap_ns_100", small[1], iterations, 0));
            out.add(new Result(w, "munmap_ns_100k", large[1], iterations, 0));
            out.add(new Result(w, "munmap_ratio", large[1] / small[1], 0, 0));
        }
        return out;
    }

    /** {@code MmBench [--json] [touchMiB] [iterations]}. */
    public static void main(String[] args) throws ErrnoException {
        boolean json = false;
        List<String> rest = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--json")) json = true;
            else rest.add(a);
        }
        long mib = rest.isEmpty() ? 256 : Long.parseLong(rest.get(0));
        int it = rest.size() > 1 ? Integer.parseInt(rest.get(1)) : 20000;
        for (Result r : run(Duration.ofSeconds(1), mib << 20, it)) {
            if (json) {
                System.out.printf(java.util.Locale.ROOT, "{\"workload\":\"%s\",\"metric\":\"%s\",\"value\":%.3f,\"units\":%d,\"seconds\":%.3f}%n",
                        r.workload(), r.metric(), r.value(), r.units(), r.seconds());
            } else {
                System.out.printf(java.util.Locale.ROOT, "%-10s %-26s %,.3f%n", r.workload(), r.metric(), r.value());
            }
        }
    }
}
