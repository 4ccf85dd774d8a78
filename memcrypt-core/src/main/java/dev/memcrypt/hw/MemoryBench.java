package dev.memcrypt.hw;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory-system workloads of {@code memcrypt bench memory} (plain Java, no JMH), also used by
 * the JMH benchmarks:
 * <ul>
 * <li>{@code mem-stream}: sequential 4 KiB page stores, then loads of the same pages, through a
 *   core's MMU and caches to DRAM under a user KeyID (SET_KEY_DIRECT); the region (16 MiB) is 8x
 *   the LLC so every line is written back (encrypted) and refilled (decrypted).
 *   Metric: bytes_per_second = (bytes stored + bytes loaded) / time.
 * <li>{@code mem-floor} (informational): the part of mem-stream no cache model can avoid
 *   ({@link FloorStream} over the same 4096 pages): the same engine calls and copies over the same
 *   host memory, with no tags, LRU, MMU or coherence. mem-stream's time minus mem-floor's is the
 *   model's own overhead.
 * <li>{@code mem-random-load}: random 8-byte-aligned loads through the MMU with a warm TLB over 4
 *   pages (16 KiB, resident in the 32 KiB L1) under the user KeyID. Metric: ops_per_second.
 * <li>{@code mem-random-load-llc} (informational): the same over 64 pages (256 KiB: L1 misses that
 *   hit the LLC).
 * <li>{@code mem-footprint} (on request, {@link #memFootprint}): a 1 TiB machine, 1 GiB stored
 *   through the caches and written back; reports the Java heap in use (target &lt; 1.3 GiB).
 * <li>{@code xts-lines} (reference): the engine's {@code encryptLines} on one page per call,
 *   bytes_per_second, measured in the same run for the ratio.
 * </ul>
 */
public final class MemoryBench {
    /** One measured workload. */
    public record Result(String workload, String metric, double value, long units, double seconds) {
        @Override
        public String toString() {
            return String.format("%-16s %-17s %,.0f", workload, metric, value);
        }
    }

    private MemoryBench() {}

    /**
     * A workload prepared for a caller-owned measuring loop (e.g. the CLI's Throughput with its
     * cpu/wall clocks): each {@code op.run()} does {@code unitsPerOp} units of {@code metric}
     * ("bytes_per_second": bytes; "ops_per_second": loads).
     */
    public record Workload(String name, String metric, long unitsPerOp, Runnable op) {}

    /**
     * Sets up a workload by name: {@code mem-stream} (one op = one 4 KiB page: pages 0..4095 are
     * stored, then loaded, then stored again, ...), {@code mem-random-load} / {@code
     * mem-random-load-llc} (one op = 64 random 8-byte loads).
     */
    public static Workload workload(String name) {
        switch (name) {
            case "mem-stream" -> {
                int pages = 4096;
                Mmu mmu = setup(pages, 0);
                byte[] page = new byte[4096];
                int[] i = {0};
                return new Workload(name, "bytes_per_second", 4096, () -> {
                    int n = i[0];
                    i[0] = (n + 1) & (2 * pages - 1);
                    long va = VA_BASE + ((long) (n & (pages - 1)) << 12);
                    if (n < pages) mmu.store(va, page);
                    else mmu.load(va, page, 0, 4096, Mmu.Access.READ);
                });
            }
            case "mem-floor" -> {
                int pages = 4096;
                FloorStream f = new FloorStream(pages, false);
                int[] i = {0};
                return new Workload(name, "bytes_per_second", 4096, () -> {
                    int n = i[0];
                    i[0] = (n + 1) & (2 * pages - 1);
                    if (n < pages) f.store(n);
                    else f.load(n - pages);
                });
            }
            case "mem-random-load", "mem-random-load-llc" -> {
                int pages = name.equals("mem-random-load") ? 4 : 64;
                Mmu mmu = setup(pages, 0);
                for (int p = 0; p < pages; p++) mmu.load64(VA_BASE + ((long) p << 12));
                long mask = ((long) pages << 12) - 8;
                long[] st = {0x9E3779B97F4A7C15L, 0};
                return new Workload(name, "ops_per_second", 64, () -> {
                    long x = st[0], sum = st[1];
                    for (int k = 0; k < 64; k++) {
                        x ^= x << 13;
                        x ^= x >>> 7;
                        x ^= x << 17;
                        sum += mmu.load64(VA_BASE + (x & mask));
                    }
                    st[0] = x;
                    st[1] = sum;
                });
            }
            default -> throw new IllegalArgumentException("unknown memory workload '" + name + "' (mem-stream, mem-floor, mem-random-load, mem-random-load-llc)");
        }
    }

    /**
     * What a stream of whole pages through the model cannot avoid, with no cache model at all: an
     * LLC-sized array of 4 KiB slots (the default machine's LLC), page {@code p} in slot {@code p mod
     * slots}; a store copies the user page into the slot, a load decrypts the frame into the slot
     * (unless the slot holds the page) and copies it out; a slot's dirty page is encrypted into its
     * DRAM frame when another page takes the slot. The engine calls, copies and host memory are
     * those of mem-stream ({@code fresh} false: frames allocated up front) or mm-touch ({@code fresh}
     * true: each frame allocated at its first write-back, as {@code Dram} does).
     */
    public static final class FloorStream {
        private final XtsEngine e = XtsEngine.best();
        private final XtsKey key;
        private final byte[][] frames;
        private final byte[] llc;
        private final int[] owner;
        private final boolean[] dirty;
        private final int slots;
        private final byte[] page = new byte[4096];

        public FloorStream(int pages, boolean fresh) {
            byte[] k = new byte[32];
            System.arraycopy(keyHalf(1), 0, k, 0, 16);
            System.arraycopy(keyHalf(0x80), 0, k, 16, 16);
            key = XtsKey.of(k); // the key setup() programs into KeyID 1
            java.util.Arrays.fill(k, (byte) 0);
            frames = fresh ? new byte[pages][] : new byte[pages][4096];
            slots = (int) (MachineConfig.defaults().llcBytes() / 4096);
            llc = new byte[slots * 4096];
            owner = new int[slots];
            java.util.Arrays.fill(owner, -1);
            dirty = new boolean[slots];
        }

        private int take(int p) {
            int s = p % slots;
            int o = owner[s];
            if (o != p && dirty[s]) {
                if (frames[o] == null) frames[o] = new byte[4096];
                e.encryptLines(key, LineTweak.NONE, dataPa(o), llc, s * 4096, frames[o], 0, 64);
                dirty[s] = false;
            }
            return s;
        }

        public void store(int p) {
            int s = take(p);
            System.arraycopy(page, 0, llc, s * 4096, 4096);
            owner[s] = p;
            dirty[s] = true;
        }

        public void load(int p) {
            int s = take(p);
            if (owner[s] != p) {
                if (frames[p] == null) java.util.Arrays.fill(llc, s * 4096, s * 4096 + 4096, (byte) 0);
                else e.decryptLines(key, LineTweak.NONE, dataPa(p), frames[p], 0, llc, s * 4096, 64);
                owner[s] = p;
            }
            System.arraycopy(llc, s * 4096, page, 0, 4096);
        }
    }

    static final long VA_BASE = 0x4000_0000L;

    /** The benches' fixed key halves: 16 bytes {@code first, first + 1, ...}. */
    private static byte[] keyHalf(int first) {
        byte[] h = new byte[16];
        for (int i = 0; i < 16; i++) h[i] = (byte) (first + i);
        return h;
    }

    /** Physical address of data page {@code p} in {@link #setup} (page p of the mapping). */
    private static long dataPa(int p) {
        return (64L << 20) + ((long) p << 12);
    }

    /** A machine with KeyID 1 programmed and {@code pages} pages mapped at VA_BASE under it on cpu 0. */
    public static Mmu setup(int pages, int tableKeyId) {
        return setup(pages, tableKeyId, "");
    }

    /** As {@link #setup(int, int)} on the default machine changed by "key=value ..." options. */
    public static Mmu setup(int pages, int tableKeyId, String options) {
        MachineConfig cfg = MachineConfig.defaults();
        for (String o : options.strip().split("\\s+")) {
            if (o.isEmpty()) continue;
            int i = o.indexOf('=');
            if (i < 0) throw new IllegalArgumentException("option '" + o + "' is not key=value");
            cfg = cfg.with(o.substring(0, i), o.substring(i + 1));
        }
        Machine m = Machine.powerOn(cfg);
        byte[] k1 = keyHalf(1), k2 = keyHalf(0x80);
        if (!m.core(0).pconfig(1, PconfigCommand.SET_KEY_DIRECT, KeyProgram.ALG_AES_XTS_128, k1, k2).ok()) throw new IllegalStateException("PCONFIG failed");
        FrameAllocator fa = m.frameAllocator();
        PageTableBuilder pt = new PageTableBuilder(m, 0, fa, tableKeyId);
        for (int p = 0; p < pages; p++) pt.map(VA_BASE + ((long) p << 12), dataPa(p), 1, Pte.RW | Pte.US);
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        return mmu;
    }

    public static Result memStream(Duration budget) {
        int pages = 4096;
        Mmu mmu = setup(pages, 0);
        byte[] page = new byte[4096];
        for (int i = 0; i < page.length; i++) page[i] = (byte) i;
        long bytes = 0;
        long deadline = System.nanoTime() + budget.toNanos();
        long t0 = System.nanoTime();
        long sink = 0;
        do {
            for (int p = 0; p < pages; p++) {
                page[0] = (byte) p;
                mmu.store(VA_BASE + ((long) p << 12), page);
            }
            for (int p = 0; p < pages; p++) {
                mmu.load(VA_BASE + ((long) p << 12), page, 0, 4096, Mmu.Access.READ);
                sink += page[0];
            }
            bytes += 2L * pages * 4096;
        } while (System.nanoTime() < deadline);
        double s = (System.nanoTime() - t0) / 1e9;
        if (sink == 42) System.out.print("");
        return new Result("mem-stream", "bytes_per_second", bytes / s, bytes, s);
    }

    public static Result memRandomLoad(Duration budget) {
        return memRandomLoad(budget, 4, "mem-random-load");
    }

    public static Result memRandomLoadLlc(Duration budget) {
        return memRandomLoad(budget, 64, "mem-random-load-llc");
    }

    static Result memRandomLoad(Duration budget, int pages, String name) {
        Mmu mmu = setup(pages, 0);
        for (int p = 0; p < pages; p++) mmu.load64(VA_BASE + ((long) p << 12)); // warm TLB
        long ops = 0;
        long x = 0x9E3779B97F4A7C15L;
        long sink = 0;
        long mask = ((long) pages << 12) - 8;
        long deadline = System.nanoTime() + budget.toNanos();
        long t0 = System.nanoTime();
        do {
            for (int i = 0; i < 65536; i++) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                sink += mmu.load64(VA_BASE + (x & mask));
            }
            ops += 65536;
        } while (System.nanoTime() < deadline);
        double s = (System.nanoTime() - t0) / 1e9;
        if (sink == 42) System.out.print("");
        return new Result(name, "ops_per_second", ops / s, ops, s);
    }

    /** The engine's line mode on one page per call (the reference for mem-stream). */
    public static Result xtsLines(Duration budget) {
        XtsEngine e = XtsEngine.best();
        XtsKey k = XtsKey.of(new byte[32]);
        byte[] buf = new byte[4096];
        long bytes = 0;
        long pa = 0;
        long deadline = System.nanoTime() + budget.toNanos();
        long t0 = System.nanoTime();
        do {
            for (int i = 0; i < 256; i++) {
                e.encryptLines(k, LineTweak.NONE, pa, buf, 0, buf, 0, 64);
                pa = (pa + 4096) & ((1L << 30) - 1);
            }
            bytes += 256L * 4096;
        } while (System.nanoTime() < deadline);
        double s = (System.nanoTime() - t0) / 1e9;
        k.destroy();
        return new Result("xts-lines", "bytes_per_second", bytes / s, bytes, s);
    }

    /**
     * A 1 TiB machine with {@code touchBytes} stored page by page through cpu 0's caches under KeyID
     * 0 (spread over the whole address range) and written back; value = heap bytes in use after GC.
     * Bypass keeps it quick whatever the engine: DRAM costs the same for ciphertext and plaintext.
     */
    public static Result memFootprint(long touchBytes) {
        long t0 = System.nanoTime();
        Machine m = Machine.powerOn(MachineConfig.defaults().with("dram", "1T").with("bypass", "true"));
        byte[] page = new byte[4096];
        long pages = touchBytes / 4096;
        long stride = Math.max(1, ((m.config().dramBytes() - (64L << 20)) / 4096) / pages) * 4096;
        for (long p = 0; p < pages; p++) {
            page[0] = (byte) p;
            m.pstore(0, (1L << 20) + p * stride, 0, page);
        }
        m.wbinvdAll();
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) System.gc();
        long used = rt.totalMemory() - rt.freeMemory();
        double s = (System.nanoTime() - t0) / 1e9;
        if (m.dram().pagesTouched() < pages) throw new IllegalStateException("touched only " + m.dram().pagesTouched() + " pages");
        return new Result("mem-footprint", "heap_bytes", used, m.dram().pagesTouched() * 4096, s);
    }

    /** The workload names {@link #run(String, Duration)} accepts. */
    public static final List<String> WORKLOADS = List.of("mem-stream", "mem-random-load", "mem-random-load-llc", "xts-lines");

    /** Runs one workload by name after a warm-up of the same length. */
    public static Result run(String workload, Duration d) {
        java.util.function.Function<Duration, Result> f = switch (workload) {
            case "mem-stream" -> MemoryBench::memStream;
            case "mem-random-load" -> MemoryBench::memRandomLoad;
            case "mem-random-load-llc" -> MemoryBench::memRandomLoadLlc;
            case "xts-lines" -> MemoryBench::xtsLines;
            default -> throw new IllegalArgumentException("unknown memory workload '" + workload + "' (" + String.join(", ", WORKLOADS) + ")");
        };
        f.apply(d);
        return f.apply(d);
    }

    /**
     * The {@code memcrypt bench memory} entry point: mem-stream and mem-random-load, each after a
     * warm-up of the same length.
     */
    public static List<Result> run(Duration perWorkload) {
        List<Result> out = new ArrayList<>();
        out.add(run("mem-stream", perWorkload));
        out.add(run("mem-random-load", perWorkload));
        return out;
    }

    /** {@code java dev.memcrypt.hw.MemoryBench [millis] [footprint]}: prints the workloads and the mem-stream / xts-lines ratio. */
    public static void main(String[] args) {
        Duration d = Duration.ofMillis(args.length > 0 ? Long.parseLong(args[0]) : 2000);
        if (args.length > 1 && args[1].equals("footprint")) {
            Result r = memFootprint(1L << 30);
            System.out.printf("mem-footprint    heap_bytes        %,.0f (%.2f GiB for %,d bytes touched, max heap %.2f GiB)%n", r.value(), r.value() / (1L << 30),
                    r.units(), Runtime.getRuntime().maxMemory() / (double) (1L << 30));
            return;
        }
        Result x = run("xts-lines", d);
        System.out.println(x);
        for (String w : List.of("mem-stream", "mem-random-load", "mem-random-load-llc")) {
            Result r = run(w, d);
            System.out.println(r + (r.workload().equals("mem-stream") ? String.format("   (%.0f%% of xts-lines)", 100 * r.value() / x.value()) : ""));
        }
    }
}
