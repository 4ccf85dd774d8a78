package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.sme.SmeCpuid;
import dev.memcrypt.hw.sme.SmeMsrs;
import dev.memcrypt.hw.sme.SmePlatform;
import dev.memcrypt.kernel.boot.BootImage;
import dev.memcrypt.kernel.boot.SmeBoot;
import dev.memcrypt.kernel.boot.SmeBootOptions;
import dev.memcrypt.kernel.boot.SmeBootResult;
import dev.memcrypt.kernel.boot.SmeTest;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * {@code memcrypt demo --sme}: narrates AMD SME's in-place encryption of the kernel at boot (seed
 * 004, SPEC-FACTS §4) on the model, with DRAM shown before and after and a checksum comparison,
 * then what each left-out step does.
 */
public final class SmeDemo {
    private SmeDemo() {}

    /** The machine the demo uses: the SME platform with 1 GiB of (sparse) DRAM and small caches so the failure modes show quickly. */
    static MachineConfig config() {
        return SmePlatform.config(1L << 30).with("l1", "16K").with("llc", "512K");
    }

    public static void run(PrintStream out) {
        run(out, 8L << 20, 4L << 20);
    }

    public static void run(PrintStream out, long kernelSize, long initrdSize) {
        SmeBootOptions.defaults().withSizes(kernelSize, initrdSize);
        Machine m = Machine.powerOn(config());
        SmeBoot.checkFits(m.physLimit(), kernelSize, initrdSize); // bad sizes fail before anything is printed
        out.println("== AMD SME: the kernel encrypts itself in place at boot ==");
        out.println();
        CpuidResult r = m.core(0).cpuid(SmeCpuid.LEAF, 0);
        out.printf("CPUID 0x8000001F: %s%n", r);
        out.printf("  EAX[0] SME=%d  EAX[1] SEV=%d  EBX[5:0] C-bit=%d  EBX[11:6] physical address bits lost=%d%n", r.eax() & 1, (r.eax() >> 1) & 1,
                SmeCpuid.cBit(r), SmeCpuid.physBitsLost(r));
        out.printf("SYSCFG (0xC0010010) = 0x%x: MemEncryptionModEn (bit 23) set by firmware, locked by HWCR[SmmLock]%n", m.core(0).rdmsr(SmeMsrs.SYSCFG));
        out.printf("CPUID.1:ECX[31] (hypervisor) = %d: the kernel may use SME%n", (m.core(0).cpuid(1, 0).ecx() >>> 31) & 1);
        out.println();
        out.println("A page is encrypted when its page-table entry carries the C-bit. The boot loader wrote the kernel");
        out.println("and initrd without it, so they sit in DRAM as plaintext; SME needs them re-written through an");
        out.println("encrypted mapping, in place, while the kernel runs from them.");
        out.println();

        long ks = SmeBoot.LOAD_PHYSICAL_ADDR;
        byte[][] before = new byte[1][];
        SmeBootResult res = SmeBoot.boot(m, SmeBootOptions.defaults().withSizes(kernelSize, initrdSize), java.time.InstantSource.system(),
                mm -> before[0] = mm.dram().read(ks, 64));
        BootImage k = res.kernel();
        out.printf("Before: DRAM at the kernel's first bytes (0x%x), as the loader left it - plaintext (%s the image):%n", ks,
                Arrays.equals(before[0], k.bytes(0, 64)) ? "equal to" : "NOT equal to");
        dump(out, ks, before[0]);
        out.println();
        out.println("sme_encrypt_kernel:");
        out.println("  1. workarea after the kernel, 2 MiB aligned: stack page, routine page, 2 MiB buffer, page tables");
        out.println("  2. a new PGD: kernel and initrd identity-mapped WITH the C-bit (encrypted), and again WITHOUT it,");
        out.println("     write-protected, at the next PGD index (decrypted); the workarea decrypted in both");
        out.println("  3. the routine: load the new CR3, flush the TLB, WBINVD, then per chunk of at most 2 MiB:");
        out.println("     decrypted mapping -> buffer -> encrypted mapping");
        out.println("  4. remove the decrypted mapping, reload CR3; the kernel continues with the C-bit in its mappings");
        out.println();
        out.println(res.format());
        out.println();
        m.wbinvdAll();
        byte[] after = m.dram().read(ks, 64);
        out.printf("After: DRAM at 0x%x - ciphertext (what a cold-boot attacker reads):%n", ks);
        dump(out, ks, after);
        byte[] via = res.readKernel(0, 64);
        out.printf("The same bytes read through the kernel's encrypted mapping (va 0x%x):%n", ks);
        dump(out, ks, via);
        out.println();
        out.println("Page-table entries of the running kernel:");
        out.println("  " + res.pte(ks).format());
        out.println("  " + res.pte(SmeBoot.START_KERNEL_MAP + ks).format());
        out.println();
        SmeBootResult.Verification v = res.verify();
        out.println("Checksums (CRC32C) of the original images and of what reads back through the encrypted mapping:");
        out.println("  " + v.format().replace("\n", "\n  "));
        out.printf("  DRAM behind the kernel: %s%n", crcOfDram(m, ks, k.size()) == k.checksum() ? "PLAINTEXT (!)" : "ciphertext (its CRC32C differs from the image's)");
        out.println(v.ok() ? "=> the image reads back byte for byte; DRAM holds only ciphertext." : "=> MISMATCH");
        out.println();

        out.println("== What each step protects against (2 MiB kernel, 2 MiB initrd, sme_test=...) ==");
        for (SmeTest t : new SmeTest[] {SmeTest.SKIP_WBINVD, SmeTest.NO_BUFFER, SmeTest.WRITE_DECRYPTED, SmeTest.SMALL_WORKAREA}) {
            out.println();
            out.println("sme_test=" + t.option() + ":");
            failure(out, t);
        }
    }

    private static void failure(PrintStream out, SmeTest t) {
        Machine m = Machine.powerOn(config());
        try {
            SmeBootResult r = SmeBoot.boot(m, SmeBootOptions.defaults().withSizes(2L << 20, 2L << 20).withTest(t));
            if (r.layout() == null) {
                out.println("  " + r.status() + ": " + r.message());
                m.wbinvdAll();
                out.printf("  DRAM at the kernel is still the plaintext image: %s%n",
                        Arrays.equals(m.dram().read(r.kernelStart(), 64), r.kernel().bytes(0, 64)) ? "yes" : "no");
                return;
            }
            SmeBootResult.Verification v = r.verify();
            out.println("  " + v.format().replace("\n", "\n  "));
            BootImage img = t == SmeTest.SKIP_WBINVD ? r.initrd() : r.kernel();
            long pa = t == SmeTest.SKIP_WBINVD ? r.initrdStart() + img.size() - 64 : r.kernelStart();
            long off = t == SmeTest.SKIP_WBINVD ? img.size() - 64 : 0;
            out.printf("  DRAM at 0x%x:%n", pa);
            dump(out, pa, m.dram().read(pa, 64));
            out.printf("  the image there: %s%n", Arrays.equals(m.dram().read(pa, 64), img.bytes(off, 64)) ? "identical - plaintext in DRAM" : "different");
            out.println(t == SmeTest.SKIP_WBINVD
                    ? "  => dirty lines the loader left under the decrypted alias were written back over the ciphertext"
                    : "  => reading and writing the same frames through the encrypted mapping decrypts plaintext into garbage:"
                            + " DRAM stays plaintext, the kernel reads garbage");
        } catch (PageFault f) {
            out.println("  " + f.getMessage());
            m.wbinvdAll();
            out.printf("  => the decrypted mapping is write-protected; the kernel's frames were not touched (still plaintext: %s)%n",
                    Arrays.equals(m.dram().read(SmeBoot.LOAD_PHYSICAL_ADDR, 64), new BootImage("kernel", 2L << 20, 1).bytes(0, 64)) ? "yes" : "no");
        }
    }

    private static long crcOfDram(Machine m, long pa, long len) {
        CRC32C c = new CRC32C();
        for (long o = 0; o < len; o += 1 << 20) {
            int n = (int) Math.min(1 << 20, len - o);
            c.update(m.dram().read(pa + o, n));
        }
        return c.getValue();
    }

    /** Hex dump lines: address, 16 bytes, ASCII. */
    static void dump(PrintStream out, long pa, byte[] b) {
        for (int i = 0; i < b.length; i += 16) {
            StringBuilder h = new StringBuilder(), a = new StringBuilder();
            for (int j = i; j < Math.min(b.length, i + 16); j++) {
                h.append(String.format("%02x ", b[j] & 0xff));
                char ch = (char) (b[j] & 0xff);
                a.append(ch >= 0x20 && ch < 0x7f ? ch : '.');
            }
            out.printf("    %012x  %-48s |%s|%n", pa + i, h, a);
        }
    }

    public static void main(String[] args) {
        run(System.out);
    }
}
