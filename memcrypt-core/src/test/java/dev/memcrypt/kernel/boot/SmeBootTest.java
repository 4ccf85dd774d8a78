package dev.memcrypt.kernel.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.hw.sme.SmePlatform;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The mem_encrypt=on boot path and its four failure modes, each shown in DRAM. */
class SmeBootTest {
    static final long K = 4L << 20, I = 2L << 20;

    static Machine machine(String... opts) {
        MachineConfig c = SmePlatform.config(256L << 20).with("l1", "8K").with("llc", "256K");
        for (String o : opts) c = c.with(o.substring(0, o.indexOf('=')), o.substring(o.indexOf('=') + 1));
        return Machine.powerOn(c);
    }

    private static SmeBootResult normal;

    /** One normal boot shared by the read-only checks (keeps the suite quick). */
    static synchronized SmeBootResult normal() {
        if (normal == null) normal = boot(machine(), SmeTest.NONE);
        return normal;
    }

    static SmeBootResult boot(Machine m, SmeTest t) {
        return SmeBoot.boot(m, SmeBootOptions.defaults().withSizes(K, I).withTest(t));
    }

    /** DRAM bytes of an image equal the plaintext, page by page. */
    static long plaintextPages(Machine m, BootImage img, long pa) {
        long n = 0;
        for (long o = 0; o < img.size(); o += 4096) if (Arrays.equals(m.dram().read(pa + o, 4096), img.bytes(o, 4096))) n++;
        return n;
    }

    @Test
    void bootEncryptsKernelAndInitrdInPlace() {
        SmeBootResult r = normal();
        Machine m = r.machine();
        assertEquals(SmeBootStatus.ENCRYPTED, r.status(), r.message());
        m.wbinvdAll();
        assertEquals(0, plaintextPages(m, r.kernel(), r.kernelStart()), "DRAM behind the kernel image is ciphertext");
        assertEquals(0, plaintextPages(m, r.initrd(), r.initrdStart()));
        SmeBootResult.Verification v = r.verify();
        assertTrue(v.ok(), v.format());
        assertEquals(r.kernel().checksum(), v.kernelRead(), "read through the encrypted mapping: the original image, byte for byte");
        assertArrayEquals(r.kernel().bytes(12345, 5000), r.readKernel(12345, 5000));
        assertEquals(3, r.chunks(), "2 kernel chunks + 1 initrd chunk of 2 MiB");
    }

    @Test
    void workareaLayoutFollowsTheKernel() {
        SmeBootResult r = normal();
        Machine m = r.machine();
        SmeLayout w = r.layout();
        assertEquals(SmeBoot.LOAD_PHYSICAL_ADDR, w.kernelStart());
        assertEquals(SmeBoot.align(w.kernelStart() + K, 2 << 20), w.workareaStart(), "workarea right after the kernel, 2 MiB aligned");
        assertEquals(0, w.workareaStart() & ((2 << 20) - 1));
        assertEquals(w.workareaStart() + 4096, w.routinePage());
        assertEquals(w.workareaStart() + 8192, w.bufferStart());
        assertEquals(w.bufferStart() + (2 << 20), w.pgtableStart());
        assertEquals(w.pgtableStart(), w.newPgd());
        assertTrue(r.tablePagesUsed() <= r.tablePagesReserved() && r.tablePagesUsed() > 1);
        assertEquals(0, w.workareaEnd() & ((2 << 20) - 1));
        assertEquals(1, w.decryptedPgdIndex(), "the PGD index after the workarea's");
        String rep = r.format();
        assertTrue(rep.contains("4,194,304 bytes") && rep.contains("stack page") && rep.contains("chunks   3"), rep);
    }

    @Test
    void decryptedMappingRemovedAndKernelRunsWithCbit() {
        SmeBootResult r = normal();
        Machine m = r.machine();
        SmeLayout w = r.layout();
        long c = m.cBitMask();
        // the temporary PGD no longer holds the decrypted mapping; the encrypted one is still there
        long[] dec = SmePageTables.walk(m, 0, w.newPgd(), w.decryptedBase() + w.kernelStart());
        assertEquals(0, dec[1]);
        long[] enc = SmePageTables.walk(m, 0, w.newPgd(), w.kernelStart());
        assertEquals(c, enc[1] & c);
        // the kernel's own tables: C-bit in CR3 and in the leaves
        assertEquals(c, r.kernelCr3() & c);
        assertEquals(r.kernelCr3(), m.mmu(0).cr3());
        SmeBootResult.PteView p = r.pte(w.kernelStart());
        assertTrue(p.present() && p.cBit() && p.level() == 2, p.format());
        assertEquals(w.kernelStart(), p.pa());
        assertTrue(r.pte(SmeBoot.START_KERNEL_MAP + w.kernelStart() + 4096).cBit());
        assertEquals(w.kernelStart() + 4096, r.pte(SmeBoot.START_KERNEL_MAP + w.kernelStart() + 4096).pa());
        assertTrue(r.pte(r.initrdStart()).cBit());
        assertFalse(r.pte(0x7000_0000_0000L).present());
    }

    @Test
    void memEncryptOffLeavesPlaintext() {
        Machine m = machine();
        SmeBootResult r = SmeBoot.boot(m, SmeBootOptions.parse("mem_encrypt=off kernel-size=4M initrd-size=2M"));
        assertEquals(SmeBootStatus.NOT_REQUESTED, r.status());
        m.wbinvdAll();
        assertEquals(K / 4096, plaintextPages(m, r.kernel(), r.kernelStart()));
        assertFalse(r.pte(r.kernelStart()).cBit());
        assertTrue(r.verify().ok());
    }

    @Test
    void hypervisorBitDisablesSme() {
        Machine m = machine("hypervisor=on");
        SmeBootResult r = boot(m, SmeTest.NONE);
        assertEquals(SmeBootStatus.SME_UNAVAILABLE, r.status());
        assertTrue(r.message().contains("hypervisor"), r.message());
        m.wbinvdAll();
        assertEquals(K / 4096, plaintextPages(m, r.kernel(), r.kernelStart()), "the kernel refused SME: DRAM stays plaintext");
    }

    @Test
    void smeNotEnabledByFirmwareIsUnavailable() {
        SmeBootResult r = boot(machine("activate=off"), SmeTest.NONE);
        assertEquals(SmeBootStatus.SME_UNAVAILABLE, r.status());
        assertTrue(r.message().contains("MemEncryptionModEn"), r.message());
    }

    /** Leaf frame of a walk result (C-bit and flags removed). */
    static long frame(Machine m, long[] w) {
        return w[1] & Pte.addrMask(m.config().maxPhysAddr()) & ~m.cBitMask() & -(2L << 20);
    }

    /**
     * The routine stops at its first write through the decrypted mapping (#PF), so the machine is
     * caught inside sme_encrypt_execute: the new PGD is live and still holds both mappings. The
     * layout is computed here from SPEC-FACTS §4, not taken from SmeBoot.
     */
    @Test
    void insideTheRoutineTheNewPgdIsInCr3AndMapsTheWorkareaInBothRanges() {
        Machine m = machine();
        long ks = SmeBoot.LOAD_PHYSICAL_ADDR, ws = SmeBoot.align(ks + K, 2 << 20);
        long pgd = ws + 2 * 4096 + (2 << 20); // after stack page, routine page and 2 MiB buffer
        long decBase = 1L << 39; // the PGD index after the workarea's (0)
        long c = m.cBitMask();
        Mmu mmu = m.mmu(0);
        // the loader's tables map the kernel without the C-bit; put that translation in the TLB
        PageFault f = assertThrows(PageFault.class, () -> SmeBoot.boot(m, SmeBootOptions.defaults().withSizes(K, I).withTest(SmeTest.WRITE_DECRYPTED),
                InstantSource.system(), x -> assertEquals(ks + 4096, x.mmu(0).translate(ks + 4096, Mmu.Access.WRITE))));
        assertEquals(decBase + ks, f.cr2());
        assertEquals(pgd, mmu.cr3() & ~c, "the routine runs on the new PGD: CR3 loaded");
        // the TLB was flushed: the loader's stale no-C-bit translation of the kernel is gone
        assertEquals((ks + 4096) | c, mmu.translate(ks + 4096, Mmu.Access.WRITE), "encrypted identity mapping, not the loader's");
        // the workarea in both ranges of the new PGD: identity and at decBase, decrypted, writable, same frames
        for (long off : new long[] {0, 4096, 8192, 8192 + (2 << 20)}) { // stack, routine, buffer, page tables
            long[] id = SmePageTables.walk(m, 0, pgd, ws + off);
            long[] dec = SmePageTables.walk(m, 0, pgd, decBase + ws + off);
            for (long[] w : new long[][] {id, dec}) {
                assertEquals(Pte.P | Pte.RW, w[1] & (Pte.P | Pte.RW), String.format("workarea +0x%x: present and writable", off));
                assertEquals(0, w[1] & c, "workarea mapped decrypted");
                assertEquals((ws + off) & -(2L << 20), frame(m, w));
            }
            assertEquals(ws + off, mmu.translate(decBase + ws + off, Mmu.Access.WRITE), "the MMU agrees");
            assertEquals(ws + off, mmu.translate(ws + off, Mmu.Access.WRITE));
        }
        // the images: encrypted identity (C-bit) and decrypted, write-protected at decBase
        long[] kEnc = SmePageTables.walk(m, 0, pgd, ks), kDec = SmePageTables.walk(m, 0, pgd, decBase + ks);
        assertEquals(c, kEnc[1] & c);
        assertEquals(Pte.RW, kEnc[1] & Pte.RW);
        assertEquals(0, kDec[1] & (c | Pte.RW), "decrypted mapping: no C-bit, write-protected");
        assertEquals(ks, frame(m, kEnc));
        assertEquals(ks, frame(m, kDec));
    }

    @Test
    void reportGivesKernelAndInitrdSizesAndTheTimeTaken() {
        long[] t = {1_000_000_000L};
        InstantSource clock = () -> {
            t[0] += 7_000_000L; // every reading 7 ms later
            return Instant.ofEpochSecond(0, t[0]);
        };
        SmeBootResult r = SmeBoot.boot(machine(), SmeBootOptions.defaults().withSizes(K, I + 12345), clock);
        assertEquals(SmeBootStatus.ENCRYPTED, r.status(), r.message());
        assertEquals(Duration.ofMillis(7), r.took(), "sme_encrypt_kernel timed with the injected clock");
        String rep = r.format();
        assertTrue(rep.contains(String.format("kernel   0x%09x-0x%09x  4,194,304 bytes", r.kernelStart(), r.kernelStart() + K)), rep);
        assertTrue(rep.contains(String.format("initrd   0x%09x-0x%09x  2,109,497 bytes", r.initrdStart(), r.initrdStart() + I + 12345)), rep);
        assertTrue(rep.contains("time     7.0 ms for 8,388,608 bytes"), rep); // 4 MiB kernel + the initrd 2 MiB-aligned: 4 MiB
        assertTrue(rep.contains("chunks   4"), rep);
    }

    // ---------------------------------------------------------------- failure modes

    @Test
    void skipWbinvdStaleDirtyPlaintextOverwritesCiphertext() {
        Machine m = machine();
        SmeBootResult r = boot(m, SmeTest.SKIP_WBINVD);
        assertEquals(SmeBootStatus.ENCRYPTED, r.status());
        SmeBootResult.Verification v = r.verify(); // evictions write the loader's dirty decrypted-alias lines back
        assertFalse(v.initrdOk(), v.format());
        assertTrue(v.initrdPlaintextPages() > 0, "the loader's last lines are plaintext again in DRAM: " + v.format());
        assertTrue(v.initrdPlaintextPages() < v.initrdPages(), v.format());
        long tail = r.initrdStart() + r.initrd().size() - 4096;
        assertArrayEquals(r.initrd().bytes(r.initrd().size() - 4096, 4096), m.dram().read(tail, 4096), "the last page: plaintext in DRAM");
        assertNotEquals(r.initrd().checksum(), v.initrdRead());
    }

    @Test
    void noBufferInPlaceCorruptsTheImage() {
        Machine m = machine();
        SmeBootResult r = boot(m, SmeTest.NO_BUFFER);
        SmeBootResult.Verification v = r.verify();
        assertFalse(v.kernelOk(), v.format());
        assertEquals(v.kernelPages(), v.kernelPlaintextPages(), "DRAM still holds the plaintext: nothing was encrypted");
        assertFalse(Arrays.equals(r.kernel().bytes(0, 4096), r.readKernel(0, 4096)), "the kernel reads garbage through its encrypted mapping");
    }

    @Test
    void writeThroughDecryptedMappingPageFaults() {
        Machine m = machine();
        PageFault f = assertThrows(PageFault.class, () -> boot(m, SmeTest.WRITE_DECRYPTED));
        long decBase = 1L << 39;
        assertEquals(decBase + SmeBoot.LOAD_PHYSICAL_ADDR, f.cr2(), "the first store to the decrypted kernel mapping");
        assertEquals(PageFault.P | PageFault.W, f.errorCode() & (PageFault.P | PageFault.W));
        m.wbinvdAll();
        BootImage k = new BootImage("kernel", K, 1);
        assertEquals(K / 4096, plaintextPages(m, k, SmeBoot.LOAD_PHYSICAL_ADDR), "nothing reached the kernel's frames");
    }

    @Test
    void smallWorkareaRefusedBeforeTouchingMemory() {
        Machine m = machine();
        SmeBootResult r = boot(m, SmeTest.SMALL_WORKAREA);
        assertEquals(SmeBootStatus.REFUSED, r.status());
        assertTrue(r.message().contains("workarea too small") && r.message().contains("page-table pages"), r.message());
        assertEquals(null, r.layout());
        m.wbinvdAll();
        long ws = SmeBoot.align(SmeBoot.LOAD_PHYSICAL_ADDR + K, 2 << 20);
        assertArrayEquals(new byte[3 << 20], m.dram().read(ws, 3 << 20), "the workarea was never written");
        assertEquals(K / 4096, plaintextPages(m, r.kernel(), r.kernelStart()));
        assertEquals("REFUSED", r.outcomeName());
    }

    @Test
    void optionsParse() {
        SmeBootOptions o = SmeBootOptions.parse("mem_encrypt=on kernel-size=64M initrd-size=32M sme_test=skip_wbinvd");
        assertTrue(o.memEncrypt());
        assertEquals(64L << 20, o.kernelSize());
        assertEquals(32L << 20, o.initrdSize());
        assertEquals(SmeTest.SKIP_WBINVD, o.test());
        assertThrows(IllegalArgumentException.class, () -> SmeBootOptions.parse("mem_encrypt=maybe"));
        assertThrows(IllegalArgumentException.class, () -> SmeBootOptions.parse("sme_test=nope"));
        assertThrows(IllegalArgumentException.class, () -> SmeBootOptions.parse("bogus=1"));
    }

    @Test
    void oddKernelSizeWithoutInitrd() {
        Machine m = machine();
        SmeBootResult r = SmeBoot.boot(m, SmeBootOptions.parse("mem_encrypt=on kernel-size=3000001 initrd-size=0"));
        assertEquals(SmeBootStatus.ENCRYPTED, r.status(), r.message());
        assertEquals(2, r.chunks(), "ALIGN(_end, 2 MiB) = 4 MiB: two chunks");
        assertEquals(r.layout().initrdStart(), r.layout().initrdEnd());
        SmeBootResult.Verification v = r.verify();
        assertTrue(v.ok(), v.format());
        assertEquals(0, v.kernelPlaintextPages());
        assertArrayEquals(r.kernel().bytes(3000001 - 100, 100), r.readKernel(3000001 - 100, 100));
    }
}
