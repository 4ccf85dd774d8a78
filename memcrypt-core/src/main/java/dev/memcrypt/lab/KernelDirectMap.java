package dev.memcrypt.lab;

import dev.memcrypt.util.Bytes;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.mm.Mman;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.mm.Page;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The kernel's direct map and a process's page under an mktme KeyID (Andy Lutomirski and Dave
 * Hansen, seed 001 #3 and #9). The memory manager's own accesses (copy_from_user, get_user_pages)
 * go through the direct map of the page's KeyID and see the data; a read through the KeyID-0
 * direct map sees the wrong bytes. Worse, a kernel <em>write</em> through the KeyID-0 alias (a
 * driver that does not know the page's KeyID) is a dirty line of a different (PA, KeyID): nothing
 * is wrong until it is written back, then the user's line is overwritten with TME ciphertext and
 * the user reads garbage. The fixes: write through the per-KeyID direct map (copy_to_user), or take
 * user pages out of the direct map (XPFO/"XPO") so the stray access faults instead; a CLFLUSH of the
 * alias only decides when the wrong bytes land, not whether.
 *
 * <p>The kernel direct map is modelled here as real page tables (kernel PTEs, KeyID 0, in DRAM
 * below 1 MiB, which the memory manager does not use) walked by core 1's MMU, so "removing the page
 * from the direct map" is unmapping a PTE and the stray access is an architectural #PF. The memory
 * manager itself runs on core 0.
 */
public final class KernelDirectMap implements Experiment {
    static final int PAGE = 4096, LINES_WRITTEN = 8;
    /** Base of the KeyID-0 direct map and of the per-KeyID direct map of the user's KeyID (kernel VAs). */
    static final long DIRECT0 = 0xffff_8880_0000_0000L, DIRECTN = 0xffff_c880_0000_0000L;
    static final long TABLES_START = 0x20000, TABLES_END = 0x80000;
    static final byte[] STRAY = Rig.line("driver status record written via the KeyID-0 direct map");
    static final byte[] VIA_COPY = Rig.line("written by copy_to_user through the KeyID-N direct map");

    @Override
    public String name() {
        return "kernel-direct-map";
    }

    @Override
    public String title() {
        return "a user page under an mktme KeyID through the kernel's KeyID-0 direct map: wrong bytes on read, silent corruption on write";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.LUTO_DIRECT_MAP_WRONG_DATA, Claims.DAVE_DIRECT_MAP_PER_KEYID, Claims.LUTO_RW_ALIASES, Claims.LUTO_DIRECT_MAP_FIX,
                Claims.DAVE_XPO, Claims.LUTO_DAX_COHERENCE);
    }

    /** The page the user writes: LINES_WRITTEN lines of text, the rest never written. */
    static byte[] userPage() {
        byte[] p = new byte[PAGE];
        for (int i = 0; i < LINES_WRITTEN; i++) System.arraycopy(Rig.line("user secret line " + i + ": salary 123,456 EUR"), 0, p, 64 * i, 64);
        return p;
    }

    @Override
    public Result run(LabRun run) {
        try {
            return go(run);
        } catch (ErrnoException e) {
            throw new IllegalStateException("kernel-direct-map: a system call failed: " + e.getMessage(), e);
        }
    }

    private Result go(LabRun run) throws ErrnoException {
        Recorder r = new Recorder(this, run);
        Machine m = run.powerOn(run.config(), 0);
        MmKernel k = MmKernel.boot(m);
        Process p = k.spawn(Cred.root());
        Task t = p.mainThread();
        List<String> pic = new ArrayList<>();
        pic.add("one user page (64 lines), KeyID N; the rows are moments:");

        r.step("A process adds an mktme key (type=cpu), mmaps two pages and encrypt_mprotect()s the first with it; the second stays on KeyID 0");
        KeyService ks = k.keys();
        int serial = ks.addKey(t, "mktme", "secret-page", "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.US_ASCII), KeyService.KEY_SPEC_THREAD_KEYRING);
        long va = k.mmap(p, 0, 2 * PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_ANONYMOUS | Mman.MAP_PRIVATE, -1, 0);
        k.encryptMprotect(t, va, PAGE, Mman.PROT_READ | Mman.PROT_WRITE, serial);
        int keyId = k.keyIdAt(p, va);
        r.see("KeyIDs", "encrypted page KeyID " + keyId + ", plain page KeyID " + k.keyIdAt(p, va + PAGE) + " (serial " + serial + ", key service KeyID "
                + keyIdOf(ks, serial) + ")");

        r.step("The process writes " + LINES_WRITTEN + " lines of secrets into its encrypted page (the other " + (64 - LINES_WRITTEN) + " lines are never written)");
        byte[] data = userPage();
        k.store(p, va, data);
        Page pg = k.getUserPage(p, va, false);
        long pa = pg.pa();
        byte[] dram0 = k.vdram(p, va, PAGE, true);
        r.see("get_user_pages", "PA " + Rig.hexAddr(pa) + " KeyID " + pg.keyId());
        r.see("DRAM line 0 (written back)", Bytes.indexOf(dram0, Arrays.copyOf(data, 16)) >= 0 ? "plaintext" : "ciphertext", Arrays.copyOf(dram0, 64));
        pic.add(Pictures.lineRow("user wrote, written back", dram0, owner(k, p, va), data));

        r.step("The kernel reads the page the way the memory manager does (copy_from_user: the direct map of the page's KeyID) and through the KeyID-0 direct map alias");
        byte[] viaCopy = k.copyFromUser(p, va, PAGE);
        byte[] viaAlias = k.aliasRead(p, va, PAGE);
        boolean perKeyIdReads = Arrays.equals(viaCopy, data);
        boolean aliasWrong = !Arrays.equals(Arrays.copyOf(viaAlias, 64), Arrays.copyOf(data, 64)) && Bytes.indexOf(viaAlias, Arrays.copyOf(data, 16)) < 0;
        r.see("copy_from_user (KeyID " + keyId + ")", perKeyIdReads ? "the user's data" : "WRONG", Arrays.copyOf(viaCopy, 64));
        r.see("KeyID-0 direct map", aliasWrong ? "wrong bytes: DRAM ciphertext decrypted with the TME key" : "the data (unexpected)", Arrays.copyOf(viaAlias, 64));
        pic.add(Pictures.lineRow("what the KeyID-0 direct map reads", k.vdram(p, va, PAGE, true), viaAlias, data));

        // The kernel's direct maps as page tables walked by core 1.
        PageTableBuilder dm = new PageTableBuilder(m, 1, new FrameAllocator(TABLES_START, TABLES_END), 0);
        dm.map(DIRECT0 + pa, pa, 0, Pte.RW);
        dm.map(DIRECT0 + pa + PAGE, k.getUserPage(p, va + PAGE, false).pa(), 0, Pte.RW);
        dm.map(DIRECTN + pa, pa, keyId, Pte.RW);
        Mmu kmmu = m.mmu(1);
        kmmu.writeCr3(dm.cr3());

        r.step("A driver that does not know about KeyIDs writes a status record into line 0 of the page through the KeyID-0 direct map (no flush)");
        kmmu.store(DIRECT0 + pa, STRAY);
        byte[] userBefore = k.load(p, va, PAGE);
        m.clflushRange(0, pa, keyId, PAGE); // the owner's lines leave the cache (clean: nothing written); the KeyID-0 line stays dirty
        byte[] dramBefore = m.dram().read(pa, PAGE);
        boolean fineBefore = Arrays.equals(userBefore, data);
        r.see("the process reads its page", fineBefore ? "all its data: the KeyID-0 line is a different (PA, KeyID), still dirty in the cache" : "already wrong",
                Arrays.copyOf(userBefore, 64));
        pic.add(Pictures.lineRow("stray KeyID-0 write, still cached", dramBefore, userBefore, data));

        r.step("Later the dirty KeyID-0 line is evicted (here: CLFLUSH by physical address under KeyID 0) and written back over the user's line; the process reads again");
        m.clflush(1, pa, 0);
        byte[] userAfter = k.load(p, va, PAGE);
        byte[] dramAfter = k.vdram(p, va, PAGE, true);
        int badLines = badLines(userAfter, data);
        boolean corrupted = !Arrays.equals(Arrays.copyOf(userAfter, 64), Arrays.copyOf(data, 64)) && !Arrays.equals(Arrays.copyOf(userAfter, 64), STRAY)
                && badLines == 1;
        r.see("the process reads line 0", corrupted ? "garbage: neither its data nor the driver's record (TME ciphertext decrypted with KeyID " + keyId + "'s key)" : "intact",
                Arrays.copyOf(userAfter, 64));
        r.see("lines changed", badLines + " of 64; no fault, no machine check");
        pic.add(Pictures.lineRow("after the KeyID-0 line is written back", dramAfter, userAfter, data));

        r.step("Control: the same driver write to the process's KeyID-0 page through the KeyID-0 direct map, then write-back");
        byte[] plainPage = Rig.line("plain page, KeyID 0");
        k.store(p, va + PAGE, plainPage);
        kmmu.store(DIRECT0 + pa + PAGE + 64, STRAY);
        m.wbinvdAll();
        byte[] plainBack = k.load(p, va + PAGE, 128);
        boolean controlOk = Arrays.equals(Arrays.copyOf(plainBack, 64), plainPage) && Arrays.equals(Arrays.copyOfRange(plainBack, 64, 128), STRAY);
        r.see("the process reads its KeyID-0 page", controlOk ? "its line and the driver's record, both correct: the hazard is the KeyID mismatch" : "WRONG");

        r.step("Flushing is not enough: the process rewrites line 0; the driver writes through the KeyID-0 alias again and CLFLUSHes at once");
        k.copyToUser(p, va, Arrays.copyOf(data, 64));
        m.clflushRange(0, pa, keyId, 64);
        kmmu.store(DIRECT0 + pa, STRAY);
        m.clflush(1, pa, 0);
        byte[] afterFlush = k.load(p, va, 64);
        boolean flushNoFix = !Arrays.equals(afterFlush, Arrays.copyOf(data, 64));
        r.see("the process reads line 0", flushNoFix ? "garbage again: a flush decides when the wrong bytes land, not whether" : "intact", afterFlush);
        pic.add(Pictures.lineRow("KeyID-0 write + immediate CLFLUSH", k.vdram(p, va, PAGE, true), k.load(p, va, PAGE), data));

        r.step("Fix 1, the per-KeyID direct map: the kernel writes line 0 with copy_to_user (KeyID " + keyId + "); the line is written back");
        k.copyToUser(p, va, VIA_COPY);
        byte[] expectFixed = data.clone();
        System.arraycopy(VIA_COPY, 0, expectFixed, 0, 64);
        m.wbinvdAll();
        byte[] userFixed = k.load(p, va, PAGE);
        boolean fix1 = Arrays.equals(userFixed, expectFixed);
        r.see("the process reads its page", fix1 ? "all correct, the kernel's line included" : "WRONG", Arrays.copyOf(userFixed, 64));
        pic.add(Pictures.lineRow("kernel writes via KeyID-N map (fix 1)", k.vdram(p, va, PAGE, true), userFixed, expectFixed));

        r.step("The flip side (Dave Hansen): the per-KeyID direct map is a plaintext mapping of the page for anything that can read kernel memory");
        byte[] exploit = kmmu.load(DIRECTN + pa + 64, 64);
        boolean plaintextMapping = Arrays.equals(exploit, Arrays.copyOfRange(data, 64, 128));
        r.see("read of the KeyID-" + keyId + " direct map, line 1", plaintextMapping ? "the user's secret in cleartext" : "garbage", exploit);

        r.step("Fix 2, XPFO-like: the page is removed from the direct maps (PTEs cleared, INVLPG); the stray write and the exploit's read are tried again");
        dm.unmap(DIRECT0 + pa);
        dm.unmap(DIRECTN + pa);
        kmmu.invlpg(DIRECT0 + pa);
        kmmu.invlpg(DIRECTN + pa);
        String strayWrite = faults(() -> kmmu.store(DIRECT0 + pa, STRAY));
        String exploitRead = faults(() -> kmmu.load(DIRECTN + pa + 64, 64));
        m.wbinvdAll();
        byte[] userXpfo = k.load(p, va, PAGE);
        boolean fix2 = strayWrite.startsWith("#PF") && exploitRead.startsWith("#PF") && Arrays.equals(userXpfo, expectFixed);
        r.see("stray write via KeyID-0 direct map", strayWrite);
        r.see("exploit read via KeyID-" + keyId + " direct map", exploitRead);
        r.see("the process reads its page", Arrays.equals(userXpfo, expectFixed) ? "all correct" : "WRONG");
        boolean gupStillWorks = Arrays.equals(k.copyFromUser(p, va, PAGE), expectFixed);
        r.see("copy_from_user afterwards", gupStillWorks ? "still works: the model's memory manager uses physical accesses under the page's KeyID, so it does"
                + " not make get_user_pages() fail as Andy's MEMFD_ISOLATED would (Dave Hansen, #5: \"I think we need get_user_pages()\")" : "fails");
        pic.add(Pictures.lineRow("page out of the direct map (fix 2)", k.vdram(p, va, PAGE, true), userXpfo, expectFixed));
        List<String> inv = k.checkInvariants();
        r.see("memory manager invariants", inv.isEmpty() ? "hold" : String.join("; ", inv));
        pic.add(Pictures.LINE_LEGEND);

        r.picture(pic);
        r.verdict(Claims.LUTO_DIRECT_MAP_WRONG_DATA, aliasWrong && perKeyIdReads,
                "copy_from_user through KeyID " + keyId + " read the data; the same page through the KeyID-0 direct map read DRAM ciphertext decrypted with the TME key");
        r.verdict(Claims.DAVE_DIRECT_MAP_PER_KEYID, perKeyIdReads && fix1 && plaintextMapping,
                "the direct map of the page's KeyID gives the decrypted view (copy_from_user, copy_to_user correct), and so hands cleartext to anyone who can"
                        + " read kernel memory");
        r.verdict(Claims.LUTO_RW_ALIASES, fineBefore && corrupted && controlOk,
                "a write through the KeyID-0 alias was invisible while cached, then its write-back overwrote the user's line (" + badLines
                        + " line garbage, no fault); the same write to a KeyID-0 page is harmless");
        r.verdict(Claims.LUTO_DIRECT_MAP_FIX, fix1 && fix2 && flushNoFix,
                "changing the key of the kernel's mapping (the per-KeyID direct map) and removing the page from the direct map both avoid the corruption;"
                        + " a CLFLUSH of the KeyID-0 alias alone does not");
        r.verdict(Claims.DAVE_XPO, plaintextMapping && exploitRead.startsWith("#PF"),
                "with the page in the per-KeyID direct map a kernel read returned cleartext; out of the direct map the same read faulted");
        r.verdict(Claims.LUTO_DAX_COHERENCE, fineBefore && corrupted && aliasWrong,
                "an access behind the page's KeyID (a driver using its own KeyID-0 mapping) is not coherent with the owner's: reads are wrong, and a write"
                        + " surfaces as corruption only when its line is written back");
        return r.result();
    }

    /** What the owner reads through its KeyID (a user-mode load of the whole page). */
    private static byte[] owner(MmKernel k, Process p, long va) throws ErrnoException {
        return k.load(p, va, PAGE);
    }

    private static int badLines(byte[] got, byte[] want) {
        int n = 0;
        for (int i = 0; i < got.length; i += 64) if (!Arrays.equals(Arrays.copyOfRange(got, i, i + 64), Arrays.copyOfRange(want, i, i + 64))) n++;
        return n;
    }

    private static String faults(Runnable r) {
        try {
            r.run();
            return "no fault";
        } catch (PageFault e) {
            return "#PF (not present): an oops instead of silent corruption";
        }
    }

    private static int keyIdOf(KeyService ks, int serial) throws ErrnoException {
        Key key = ks.acquire(serial);
        try {
            return MktmeKeyType.keyIdOf(key);
        } finally {
            ks.release(key);
        }
    }
}
