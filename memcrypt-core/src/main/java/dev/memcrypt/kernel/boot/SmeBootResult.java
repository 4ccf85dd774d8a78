package dev.memcrypt.kernel.boot;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.util.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * What an SME boot did, and views of the running kernel: {@link #pte}, {@link #readKernel},
 * {@link #verify}. The report ({@link #format}) lists image sizes, the workarea layout, page-table
 * pages, chunks and time.
 */
public final class SmeBootResult implements Outcome {
    private final Machine m;
    private final SmeBootOptions options;
    private final SmeBootStatus status;
    private final String message;
    private final BootImage kernel;
    private final BootImage initrd;
    private final long kernelStart;
    private final long initrdStart;
    private final SmeLayout layout;
    private final int tablePagesReserved;
    private final int tablePagesUsed;
    private final Duration took;
    private final long kernelCr3;
    private final int chunks;
    private Duration cpuTime = Duration.ZERO;

    SmeBootResult(Machine m, SmeBootOptions options, SmeBootStatus status, String message, BootImage kernel, BootImage initrd, long kernelStart,
            long initrdStart, SmeLayout layout, int tablePagesReserved, int tablePagesUsed, Duration took, long kernelCr3, int chunks) {
        this.m = m;
        this.options = options;
        this.status = status;
        this.message = message;
        this.kernel = kernel;
        this.initrd = initrd;
        this.kernelStart = kernelStart;
        this.initrdStart = initrdStart;
        this.layout = layout;
        this.tablePagesReserved = tablePagesReserved;
        this.tablePagesUsed = tablePagesUsed;
        this.took = took;
        this.kernelCr3 = kernelCr3;
        this.chunks = chunks;
    }

    public Machine machine() {
        return m;
    }

    public SmeBootOptions options() {
        return options;
    }

    public SmeBootStatus status() {
        return status;
    }

    @Override
    public String outcomeName() {
        return status.outcomeName();
    }

    public String message() {
        return message;
    }

    public BootImage kernel() {
        return kernel;
    }

    public BootImage initrd() {
        return initrd;
    }

    public long kernelStart() {
        return kernelStart;
    }

    public long initrdStart() {
        return initrdStart;
    }

    /** The workarea layout, or null if no encryption was attempted. */
    public SmeLayout layout() {
        return layout;
    }

    public int tablePagesReserved() {
        return tablePagesReserved;
    }

    public int tablePagesUsed() {
        return tablePagesUsed;
    }

    /** Time of sme_encrypt_kernel (workarea set-up, both copies, clean-up), from the injected clock. */
    public Duration took() {
        return took;
    }

    /** CR3 of the kernel's page tables after the boot (C-bit set when encrypted). */
    public long kernelCr3() {
        return kernelCr3;
    }

    SmeBootResult withCpuTime(Duration d) {
        cpuTime = d;
        return this;
    }

    /** CPU time of sme_encrypt_kernel on the booting thread (not from the injected clock; for benchmarks). */
    public Duration cpuTime() {
        return cpuTime;
    }

    public int chunks() {
        return chunks;
    }

    /** Bytes encrypted in place (kernel and initrd, 2 MiB aligned). */
    public long bytesEncrypted() {
        return layout == null ? 0 : (layout.kernelEnd() - layout.kernelStart()) + (layout.initrdEnd() - layout.initrdStart());
    }

    /** One page-table entry as the kernel's page tables hold it. */
    public record PteView(long va, int level, long entry, long entryAddress, boolean present, boolean cBit, long pa) {
        public String format() {
            if (!present) return String.format("va 0x%x: not present (level %d entry 0x%016x)", va, level, entry);
            String lv = switch (level) {
                case 3 -> "PUD (1 GiB)";
                case 2 -> "PMD (2 MiB)";
                default -> "PTE (4 KiB)";
            };
            return String.format("va 0x%x: %s entry 0x%016x at pa 0x%x -> pa 0x%x, C-bit %d (%s)%s%s", va, lv, entry, entryAddress, pa, cBit ? 1 : 0,
                    cBit ? "encrypted" : "plaintext", (entry & Pte.RW) != 0 ? ", RW" : ", RO", (entry & Pte.XD) != 0 ? ", NX" : "");
        }
    }

    /** The leaf entry mapping {@code va} in the kernel's page tables (walked physically, C-bit honoured). */
    public PteView pte(long va) {
        long[] w = SmePageTables.walk(m, 0, kernelCr3, va);
        int level = (int) w[0];
        long e = w[1];
        long c = m.cBitMask();
        boolean present = (e & Pte.P) != 0;
        int shift = 12 + 9 * (level - 1);
        long pa = present ? m.paOf(e & Pte.addrMask(m.config().maxPhysAddr()) & ~((1L << shift) - 1)) + (va & ((1L << shift) - 1)) : 0;
        return new PteView(va, level, e, m.paOf(w[2]), present, c != 0 && (e & c) != 0, pa);
    }

    /** Reads {@code len} bytes of the kernel image at {@code offset} through the kernel's (encrypted) identity mapping on core 0. */
    public byte[] readKernel(long offset, int len) {
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(kernelCr3);
        byte[] b = new byte[len];
        mmu.loadStream(kernelStart + offset, b, 0, len);
        return b;
    }

    /** What a check after boot found. */
    public record Verification(long kernelExpected, long kernelRead, long initrdExpected, long initrdRead, long kernelPlaintextPages,
            long initrdPlaintextPages, long kernelPages, long initrdPages) {
        public boolean kernelOk() {
            return kernelExpected == kernelRead;
        }

        public boolean initrdOk() {
            return initrdExpected == initrdRead;
        }

        public boolean ok() {
            return kernelOk() && initrdOk();
        }

        public String format() {
            return String.format("kernel: crc32c expected 0x%08x, read through the encrypted mapping 0x%08x (%s); %d of %d pages still plaintext in DRAM%n"
                    + "initrd: crc32c expected 0x%08x, read through the encrypted mapping 0x%08x (%s); %d of %d pages still plaintext in DRAM",
                    kernelExpected, kernelRead, kernelOk() ? "match" : "MISMATCH", kernelPlaintextPages, kernelPages, initrdExpected, initrdRead,
                    initrdOk() ? "match" : "MISMATCH", initrdPlaintextPages, initrdPages);
        }
    }

    /**
     * Lets time pass (WBINVD on every package, as evictions eventually would), then reads both
     * images back through the kernel's mappings and compares CRC32C checksums with the originals,
     * and counts pages whose DRAM content is still the plaintext image.
     */
    public Verification verify() {
        m.wbinvdAll();
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(kernelCr3);
        long[] k = check(mmu, kernel, kernelStart);
        long[] i = check(mmu, initrd, initrdStart);
        m.wbinvdAll();
        return new Verification(kernel.checksum(), k[0], initrd.checksum(), i[0], k[1], i[1], (kernel.size() + 4095) / 4096, (initrd.size() + 4095) / 4096);
    }

    private long[] check(Mmu mmu, BootImage img, long pa) {
        CRC32C c = new CRC32C();
        byte[] b = new byte[1 << 20];
        byte[] ref = new byte[1 << 20];
        long plainPages = 0;
        for (long o = 0; o < img.size(); o += b.length) {
            int n = (int) Math.min(b.length, img.size() - o);
            mmu.loadStream(pa + o, b, 0, n);
            c.update(b, 0, n);
            img.fill(o, ref, 0, n);
            byte[] dram = m.dram().read(pa + o, n);
            for (int p = 0; p < n; p += 4096) {
                int len = Math.min(4096, n - p);
                if (java.util.Arrays.equals(dram, p, p + len, ref, p, p + len)) plainPages++;
            }
        }
        return new long[] {c.getValue(), plainPages};
    }

    /** Human-readable report. */
    public String format() {
        List<String> l = new ArrayList<>();
        l.add("SME boot (" + options.cmdline() + "): " + status + " - " + message);
        l.add(String.format("  kernel   0x%09x-0x%09x  %,d bytes", kernelStart, kernelStart + kernel.size(), kernel.size()));
        if (initrd.size() > 0) l.add(String.format("  initrd   0x%09x-0x%09x  %,d bytes", initrdStart, initrdStart + initrd.size(), initrd.size()));
        if (layout != null) {
            SmeLayout w = layout;
            l.add(String.format("  C-bit    %d (sme_me_mask 0x%x)", Long.numberOfTrailingZeros(m.cBitMask()), m.cBitMask()));
            l.add(String.format("  workarea 0x%09x-0x%09x (2 MiB aligned, after the kernel)", w.workareaStart(), w.workareaEnd()));
            l.add(String.format("    stack page    0x%09x", w.stackPage()));
            l.add(String.format("    routine page  0x%09x", w.routinePage()));
            l.add(String.format("    copy buffer   0x%09x-0x%09x (2 MiB)", w.bufferStart(), w.bufferStart() + SmeBoot.PMD_SIZE));
            l.add(String.format("    page tables   0x%09x-0x%09x (%d pages reserved, %d used; new PGD at 0x%x)", w.pgtableStart(), w.pgtableEnd(),
                    tablePagesReserved, tablePagesUsed, w.newPgd()));
            l.add(String.format("  decrypted mapping at 0x%x (PGD index %d), write-protected, removed after the copy", w.decryptedBase(), w.decryptedPgdIndex()));
            l.add(String.format("  chunks   %d (at most 2 MiB each)", chunks));
            l.add(took.isZero() ? String.format("  time     not measured (fixed clock) for %,d bytes", bytesEncrypted())
                    : String.format("  time     %.1f ms for %,d bytes (%.0f MB/s)", took.toNanos() / 1e6, bytesEncrypted(), bytesEncrypted() / (took.toNanos() / 1e9) / 1e6));
        } else if (status == SmeBootStatus.REFUSED) {
            l.add(String.format("  page tables needed: %d pages", tablePagesReserved));
        }
        l.add(String.format("  kernel CR3 0x%x%s", kernelCr3, m.cBitMask() != 0 && (kernelCr3 & m.cBitMask()) != 0 ? " (C-bit set: encrypted page tables)" : ""));
        return String.join(System.lineSeparator(), l);
    }

    @Override
    public String toString() {
        return format();
    }
}
