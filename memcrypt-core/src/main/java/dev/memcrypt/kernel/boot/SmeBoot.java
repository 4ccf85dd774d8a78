package dev.memcrypt.kernel.boot;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.hw.sme.SmeCpuid;
import dev.memcrypt.hw.sme.SmeMsrs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;

/**
 * The SME boot path with {@code mem_encrypt=on}: a loader puts a kernel image and an initrd in
 * DRAM in plaintext, then the kernel encrypts both in place the way Linux's sme_encrypt_kernel and
 * sme_encrypt_execute do (arch/x86/mm/mem_encrypt_identity.c, mem_encrypt_boot.S; seed 004;
 * SPEC-FACTS §4), on core 0, through the model's MMU, caches and memory controller.
 *
 * <h2>Sequence</h2>
 * <ol>
 * <li><b>Loader</b>: identity page tables without the C-bit at 1 MiB (2 MiB pages over the kernel
 *   and the initrd, not the workarea); kernel at 16 MiB, initrd high in DRAM, both written through
 *   core 0's caches (some lines stay dirty under the decrypted alias, as after a real loader).
 * <li><b>sme_enable</b>: CPUID 0x8000001F EAX[0], CPUID.1:ECX[31] (a hypervisor: refused),
 *   SYSCFG[MemEncryptionModEn], {@code mem_encrypt=on}; sme_me_mask = 1 &lt;&lt; C-bit.
 * <li><b>Workarea</b> at ALIGN(kernel end, 2 MiB): stack page, routine page, 2 MiB buffer, then
 *   the page-table area, sized before anything is written; too small: refused.
 * <li>The workarea is added (decrypted) to the current page tables, CR3 reloaded.
 * <li>A new PGD: the kernel and initrd identity-mapped encrypted (C-bit in the 2 MiB leaves), and
 *   again decrypted and write-protected at {@code decryptedBase} = the next PGD index after the
 *   workarea; the workarea decrypted in both ranges. Table pointers carry no C-bit.
 * <li><b>sme_encrypt_execute</b> (kernel, then initrd): registers saved on the workarea stack, the
 *   routine copied to its page; load the new CR3 (TLB flushed), fetch the routine through it,
 *   WBINVD, then per chunk of at most 2 MiB: decrypted mapping -&gt; buffer -&gt; encrypted
 *   mapping; old CR3 restored.
 * <li>The decrypted mapping's PGD entry is cleared and CR3 reloaded.
 * <li>The kernel switches to its own page tables: C-bit in CR3, in every table pointer and in the
 *   leaves of the kernel (identity and __START_KERNEL_map) and initrd mappings.
 * </ol>
 * The copies are fast-string copies ({@link Mmu#copyStream}): every page translated first, then
 * whole-line streaming loads and stores, memory to memory, piece by piece.
 */
public final class SmeBoot {
    public static final long PAGE = 4096;
    public static final long PMD_SIZE = 2L << 20;
    public static final int PGDIR_SHIFT = 39;
    /** CONFIG_PHYSICAL_START: where the kernel image is loaded. */
    public static final long LOAD_PHYSICAL_ADDR = 16L << 20;
    /** __START_KERNEL_map: the kernel text mapping maps physical 0 here. */
    public static final long START_KERNEL_MAP = 0xffffffff80000000L;
    /** Loader page tables live in [1 MiB, 16 MiB). */
    static final long LOADER_TABLES = 1L << 20;
    /** Room kept after the workarea for the kernel's own page tables. */
    static final long KERNEL_TABLES = 2L << 20;
    /** The executable part of the workarea: stack page, routine page, 2 MiB buffer. */
    public static final long EXECUTE_LEN = 2 * PAGE + PMD_SIZE;
    /** Bytes standing for sme_encrypt_execute's code, copied into the routine page. */
    static final byte[] ROUTINE = "__enc_copy: mov cr3; wbinvd; rep movsb dec->buf; rep movsb buf->enc; loop".getBytes(StandardCharsets.US_ASCII);

    private final Machine m;
    private final int cpu = 0;
    private final InstantSource clock;
    private final java.util.function.Consumer<Machine> afterLoad;

    private SmeBoot(Machine m, InstantSource clock, java.util.function.Consumer<Machine> afterLoad) {
        this.m = m;
        this.clock = clock;
        this.afterLoad = afterLoad;
    }

    /** Loads the images and boots with {@code options}. Faults of a broken sequence (#PF) propagate. */
    public static SmeBootResult boot(Machine m, SmeBootOptions options) {
        return boot(m, options, InstantSource.system());
    }

    public static SmeBootResult boot(Machine m, SmeBootOptions options, InstantSource clock) {
        return boot(m, options, clock, x -> {});
    }

    /**
     * As {@link #boot(Machine, SmeBootOptions, InstantSource)}; {@code afterLoad} runs when the
     * loader is done and before the kernel starts (a demo shows DRAM there; it should only look).
     */
    public static SmeBootResult boot(Machine m, SmeBootOptions options, InstantSource clock, java.util.function.Consumer<Machine> afterLoad) {
        if (m == null || options == null || clock == null || afterLoad == null) throw new IllegalArgumentException("machine, options, clock and afterLoad are required");
        return new SmeBoot(m, clock, afterLoad).run(options);
    }

    static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    /** What the loader left: the images in DRAM, the loader's page tables live; {@link #start()} runs the kernel. */
    public final class Loaded {
        private final SmeBootOptions o;
        private final BootImage kernel, initrd;
        private final long dramTop, ks, ke, il, is, ie;
        private boolean started;

        private Loaded(SmeBootOptions o, BootImage kernel, BootImage initrd, long dramTop, long ks, long ke, long il, long is, long ie) {
            this.o = o;
            this.kernel = kernel;
            this.initrd = initrd;
            this.dramTop = dramTop;
            this.ks = ks;
            this.ke = ke;
            this.il = il;
            this.is = is;
            this.ie = ie;
        }

        public Machine machine() {
            return m;
        }

        /** Runs the kernel's boot path (sme_enable, sme_encrypt_kernel, its own page tables). Once. */
        public SmeBootResult start() {
            if (started) throw new IllegalStateException("already started");
            started = true;
            return kernelBoot(this);
        }
    }

    /** The loader only: images in DRAM in plaintext; the kernel has not run. For benchmarks and demos. */
    public static Loaded load(Machine m, SmeBootOptions options, InstantSource clock) {
        if (m == null || options == null || clock == null) throw new IllegalArgumentException("machine, options and clock are required");
        return new SmeBoot(m, clock, x -> {}).loader(options);
    }

    private SmeBootResult run(SmeBootOptions o) {
        Loaded l = loader(o);
        afterLoad.accept(m);
        return l.start();
    }

    /** Throws IllegalArgumentException when a kernel and initrd of these sizes do not fit below {@code dramTop}. */
    public static void checkFits(long dramTop, long kernelSize, long initrdSize) {
        long ke = align(LOAD_PHYSICAL_ADDR + kernelSize, PMD_SIZE);
        long is = (dramTop - align(initrdSize, PMD_SIZE) - (16L << 20)) & -PMD_SIZE;
        if (initrdSize > 0 && is < ke + EXECUTE_LEN + 2 * PMD_SIZE + KERNEL_TABLES) {
            throw new IllegalArgumentException(String.format("DRAM (0x%x) too small for a kernel of %d and an initrd of %d bytes", dramTop, kernelSize, initrdSize));
        }
        if (initrdSize == 0 && ke + EXECUTE_LEN + 2 * PMD_SIZE + KERNEL_TABLES > dramTop) throw new IllegalArgumentException("DRAM too small for the kernel");
    }

    private Loaded loader(SmeBootOptions o) {
        Core core = m.core(cpu);
        BootImage kernel = new BootImage("kernel", o.kernelSize(), o.seed());
        BootImage initrd = new BootImage("initrd", o.initrdSize(), o.seed());
        long dramTop = m.physLimit();
        checkFits(dramTop, kernel.size(), initrd.size());
        long ks = LOAD_PHYSICAL_ADDR, ke = align(ks + kernel.size(), PMD_SIZE);
        long il = align(initrd.size(), PMD_SIZE);
        long is = initrd.size() == 0 ? ke : ((dramTop - il - (16L << 20)) & -PMD_SIZE);
        long ie = is + il;
        PageTableBuilder loaderPt = new PageTableBuilder(m, cpu, new FrameAllocator(LOADER_TABLES, LOAD_PHYSICAL_ADDR), 0);
        for (long a = 0; a < ke; a += PMD_SIZE) loaderPt.map(a, a, 0, Pte.RW, PageTableBuilder.PAGE_2M);
        for (long a = is; a < ie; a += PMD_SIZE) loaderPt.map(a, a, 0, Pte.RW, PageTableBuilder.PAGE_2M);
        load(kernel, ks);
        load(initrd, is);
        m.mmu(cpu).writeCr3(loaderPt.cr3());
        core.setPagingEnabled(true);
        return new Loaded(o, kernel, initrd, dramTop, ks, ke, il, is, ie);
    }

    private SmeBootResult kernelBoot(Loaded l) {
        SmeBootOptions o = l.o;
        BootImage kernel = l.kernel, initrd = l.initrd;
        long dramTop = l.dramTop, ks = l.ks, ke = l.ke, il = l.il, is = l.is, ie = l.ie;
        Core core = m.core(cpu);
        Mmu mmu = m.mmu(cpu);

        // ---- sme_enable
        String why = smeUnavailable(core);
        long cbit = m.cBitMask();
        if (!o.memEncrypt() || why != null) {
            SmeBootStatus st = !o.memEncrypt() ? SmeBootStatus.NOT_REQUESTED : SmeBootStatus.SME_UNAVAILABLE;
            long cr3 = kernelTables(ks, ke, is, ie, ke, 0);
            return new SmeBootResult(m, o, st, !o.memEncrypt() ? "mem_encrypt=off" : why, kernel, initrd, ks, is, null, 0, 0, Duration.ZERO, cr3, 0);
        }

        // ---- sme_encrypt_kernel: size the workarea before touching memory
        long t0 = nanos();
        long c0 = cpuNanos();
        long ws = ke;
        long available = o.test() == SmeTest.SMALL_WORKAREA ? EXECUTE_LEN + PAGE
                : (initrd.size() > 0 ? is : dramTop) - ws - KERNEL_TABLES;
        long executeEnd = ws + EXECUTE_LEN;
        int pages = 0;
        long we = align(executeEnd, PMD_SIZE);
        for (int i = 0; i < 4; i++) { // the table area maps itself: iterate to a fixed point
            pages = 1 + 2 * tables(ks, we) + (il > 0 ? 2 * tables(is, ie) : 0) + tables(ws, we);
            long nwe = align(executeEnd + pages * PAGE, PMD_SIZE);
            if (nwe == we) break;
            we = nwe;
        }
        long needed = EXECUTE_LEN + pages * PAGE;
        if (needed > available) {
            String msg = String.format("sme_encrypt_kernel: workarea too small: needs %d bytes (stack page, routine page, 2 MiB buffer and %d page-table pages) "
                    + "but only %d bytes are free at 0x%x; nothing was written", needed, pages, available, ws);
            return new SmeBootResult(m, o, SmeBootStatus.REFUSED, msg, kernel, initrd, ks, is, null, pages, 0, Duration.ZERO, mmu.cr3(), 0);
        }
        long pgStart = executeEnd, pgEnd = executeEnd + pages * PAGE;
        long decBase = ((long) ((Pte.index(we, 4) + 1) & 511)) << PGDIR_SHIFT;
        SmePageTables area = new SmePageTables(m, cpu, pgStart, pgEnd, 0);

        // make sure the current page tables map the workarea (decrypted), then reload CR3
        area.mapRange(mmu.cr3(), ws, ws, we - ws, 0, SmePageTables.PMD_FLAGS);
        mmu.writeCr3(mmu.cr3());

        // the new PGD with both mappings
        long pgd = area.alloc();
        area.mapRange(pgd, ks, ks, ke - ks, cbit, SmePageTables.PMD_FLAGS);
        area.mapRange(pgd, decBase + ks, ks, ke - ks, 0, SmePageTables.PMD_FLAGS_DEC_WP);
        if (il > 0) {
            area.mapRange(pgd, is, is, il, cbit, SmePageTables.PMD_FLAGS);
            area.mapRange(pgd, decBase + is, is, il, 0, SmePageTables.PMD_FLAGS_DEC_WP);
        }
        area.mapRange(pgd, ws, ws, we - ws, 0, SmePageTables.PMD_FLAGS);
        area.mapRange(pgd, decBase + ws, ws, we - ws, 0, SmePageTables.PMD_FLAGS);
        SmeLayout layout = new SmeLayout(ks, ke, is, ie, ws, ws + PAGE, ws + 2 * PAGE, pgStart, pgEnd, we, decBase, pgd, pages);

        int chunks = execute(ks, decBase + ks, ke - ks, layout, pgd, o.test());
        if (il > 0) chunks += execute(is, decBase + is, il, layout, pgd, o.test());

        // remove the decrypted mapping, reload CR3
        area.clearPgd(pgd, decBase);
        mmu.writeCr3(mmu.cr3());
        Duration took = Duration.ofNanos(nanos() - t0);
        Duration cpu = Duration.ofNanos(cpuNanos() - c0);

        // the kernel continues with the C-bit in its own mappings
        long cr3 = kernelTables(ks, ke, is, ie, we, cbit);
        return new SmeBootResult(m, o, SmeBootStatus.ENCRYPTED, "encrypted in place", kernel, initrd, ks, is, layout, pages, area.pagesUsed(), took, cr3, chunks)
                .withCpuTime(cpu);
    }

    private long nanos() {
        java.time.Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** CPU time of this thread (the model runs on one thread), -1 if unsupported. */
    static long cpuNanos() {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : -1;
    }

    /** Why SME cannot be used (null if it can): the checks of Linux's sme_enable. */
    private String smeUnavailable(Core core) {
        if ((core.cpuid(1, 0).ecx() & SmeCpuid.CPUID1_ECX_HYPERVISOR) != 0) return "running under a hypervisor (CPUID.1:ECX[31]): SME refused";
        if (Integer.compareUnsigned(core.cpuid(0x80000000, 0).eax(), SmeCpuid.LEAF) < 0) return "CPUID 0x8000001F not available";
        CpuidResult r = core.cpuid(SmeCpuid.LEAF, 0);
        if (!SmeCpuid.sme(r)) return "SME not enumerated (CPUID 0x8000001F EAX[0] = 0)";
        if ((core.rdmsr(SmeMsrs.SYSCFG) & SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN) == 0) return "SYSCFG[MemEncryptionModEn] = 0 (not enabled by firmware)";
        return null;
    }

    /** PUD and PMD table pages one mapping of [start, end) needs (2 MiB leaves; no sharing assumed). */
    static int tables(long start, long end) {
        if (end <= start) return 0;
        long puds = ((end - 1) >>> 39) - (start >>> 39) + 1;
        long pmds = ((end - 1) >>> 30) - (start >>> 30) + 1;
        return (int) (puds + pmds);
    }

    /** The loader writes an image through core 0's caches (ordinary stores: dirty lines may remain). */
    private void load(BootImage img, long pa) {
        byte[] b = new byte[1 << 20];
        for (long o = 0; o < img.size(); o += b.length) {
            int n = (int) Math.min(b.length, img.size() - o);
            img.fill(o, b, 0, n);
            if (n == b.length) m.pstore(cpu, pa + o, 0, b);
            else m.pstore(cpu, pa + o, 0, java.util.Arrays.copyOf(b, n));
        }
    }

    /** sme_encrypt_execute for one range; returns the number of chunks copied. */
    private int execute(long encVa, long decVa, long len, SmeLayout w, long pgd, SmeTest test) {
        Mmu mmu = m.mmu(cpu);
        long savedCr3 = mmu.cr3();
        // one-page stack in the workarea; save the registers the routine clobbers
        long sp = w.stackPage() + PAGE;
        for (long reg : new long[] {savedCr3, encVa, decVa, len}) {
            sp -= 8;
            mmu.store64(sp, reg);
        }
        mmu.store(w.routinePage(), ROUTINE);
        // __enc_copy: new CR3, TLB flushed, WBINVD
        mmu.writeCr3(pgd);
        mmu.flushTlb();
        byte[] code = mmu.fetch(w.routinePage(), ROUTINE.length);
        if (!java.util.Arrays.equals(code, ROUTINE)) throw new IllegalStateException("routine page not mapped in the new page tables");
        if (test != SmeTest.SKIP_WBINVD) m.wbinvd(cpu);
        int chunks = 0;
        for (long off = 0; off < len; off += PMD_SIZE) {
            long n = Math.min(PMD_SIZE, len - off);
            switch (test) {
                case NO_BUFFER -> copy(mmu, encVa + off, encVa + off, n);
                case WRITE_DECRYPTED -> {
                    copy(mmu, decVa + off, w.bufferStart(), n);
                    copy(mmu, w.bufferStart(), decVa + off, n); // write-protected: #PF
                }
                default -> {
                    copy(mmu, decVa + off, w.bufferStart(), n);
                    copy(mmu, w.bufferStart(), encVa + off, n);
                }
            }
            chunks++;
        }
        mmu.writeCr3(savedCr3);
        long saved = mmu.load64(w.stackPage() + PAGE - 8);
        if (saved != savedCr3) throw new IllegalStateException("stack page corrupted");
        return chunks;
    }

    /** rep movsb from src to dst (at most one 2 MiB chunk) through the MMU's bulk copy. */
    private static void copy(Mmu mmu, long src, long dst, long len) {
        mmu.copyStream(src, dst, (int) len);
    }

    /**
     * The kernel's own page tables after the boot, in the pages after the workarea: identity and
     * __START_KERNEL_map mappings of the kernel, identity of the initrd; {@code cbit} in CR3, every
     * table pointer and every leaf. Loads the new CR3 and returns it.
     */
    private long kernelTables(long ks, long ke, long is, long ie, long at, long cbit) {
        long start = align(at, PMD_SIZE);
        SmePageTables t = new SmePageTables(m, cpu, start, start + KERNEL_TABLES, cbit);
        long root = t.alloc();
        t.mapRange(root, ks, ks, ke - ks, cbit, SmePageTables.PMD_FLAGS);
        t.mapRange(root, START_KERNEL_MAP + ks, ks, ke - ks, cbit, SmePageTables.PMD_FLAGS);
        if (ie > is) t.mapRange(root, is, is, ie - is, cbit, SmePageTables.PMD_FLAGS & ~Pte.G);
        m.mmu(cpu).writeCr3(root);
        return root;
    }
}
