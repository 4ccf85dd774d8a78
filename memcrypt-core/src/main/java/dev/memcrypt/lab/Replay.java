package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.util.Hex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replay: AES-XTS has no integrity and no freshness. An attacker with DRAM access copies the
 * ciphertext of a line, lets the victim write a new value, writes the old ciphertext back and the
 * victim reads the old value, with no fault. The physical-address tweak binds ciphertext to its
 * address, not to a time. Second part (Andy Lutomirski's example): replaying a page-table page
 * revives a mapping to a freed frame, so a process reads and writes memory that now belongs to
 * someone else.
 */
public final class Replay implements Experiment {
    static final long PA = 0x210000;
    static final byte[] V1 = Rig.line("account balance: 1,000,000 EUR");
    static final byte[] V2 = Rig.line("account balance: 0 EUR (all spent)");
    static final long VA = 0x400000, FRAME = 0x300000, TABLES = 0x800000;
    static final byte[] OTHER = Rig.line("kernel secret that now lives in the freed frame");
    static final byte[] EVIL = Rig.line("written through a replayed page table");

    @Override
    public String name() {
        return "replay";
    }

    @Override
    public String title() {
        return "old ciphertext written back to its own address decrypts to the old value, undetected";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.JARKKO_REPLAY, Claims.KAI_NO_NONCE, Claims.KIRILL_WHAT_REPLAY, Claims.LUTO_PAGE_TABLE_REPLAY);
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        Rig rig = new Rig(run.powerOn(run.config(), 0));
        Machine m = rig.m;
        int k = rig.addKey("victim", "type=cpu algorithm=aes-xts-128");
        List<String> timeline = new ArrayList<>();

        r.step("Victim (KeyID " + k + ", a type=cpu key) writes V1 at " + Rig.hexAddr(PA) + "; the line is written back (CLFLUSH)");
        m.pstore(0, PA, k, V1);
        m.clflush(0, PA, k);
        byte[] c1 = m.dram().read(PA, 64);
        r.see("DRAM " + Rig.hexAddr(PA), "C1, ciphertext of V1", c1);
        timeline.add("t0 victim writes V1      DRAM = C1 " + Hex.of(c1, 0, 8) + "...");
        List<String> map = new ArrayList<>();
        map.add("the victim's line " + Rig.hexAddr(PA) + ", one character per moment:");
        map.add(Pictures.lineRow("t0 victim wrote V1", c1, Rig.ownerView(m, PA, k, 64), V1));

        r.step("Attacker with DRAM access copies C1");
        r.see("attacker's copy", "64 bytes of ciphertext; the attacker cannot decrypt them and does not need to", c1);
        timeline.add("t1 attacker copies C1");

        r.step("Victim writes V2 over it; written back");
        m.pstore(0, PA, k, V2);
        m.clflush(0, PA, k);
        byte[] c2 = m.dram().read(PA, 64);
        r.see("DRAM " + Rig.hexAddr(PA), "C2, ciphertext of V2", c2);
        timeline.add("t2 victim writes V2      DRAM = C2 " + Hex.of(c2, 0, 8) + "...");
        map.add(Pictures.lineRow("t2 victim wrote V2", c2, Rig.ownerView(m, PA, k, 64), V2));

        r.step("Attacker writes C1 back into DRAM at the same address (the victim holds no cached copy)");
        m.dram().write(PA, c1);
        timeline.add("t3 attacker writes C1    DRAM = C1 " + Hex.of(c1, 0, 8) + "...");

        r.step("Victim reads its line");
        byte[] read;
        String fault = null;
        try {
            read = m.pload(0, PA, k, 64);
        } catch (RuntimeException e) {
            read = null;
            fault = e.toString();
        }
        boolean replayed = read != null && Arrays.equals(read, V1);
        r.see("load through KeyID " + k, fault != null ? "fault: " + fault : replayed ? "V1, the OLD value, and no fault" : "something else", read);
        timeline.add("t4 victim reads          " + (replayed ? "V1 (old value, no fault)" : "not V1"));
        if (read != null) map.add(Pictures.lineRow("t4 after the attacker wrote C1 back", c1, read, V2));

        r.step("Victim writes V1 again: is the ciphertext fresh?");
        m.pstore(0, PA, k, V1);
        m.clflush(0, PA, k);
        byte[] c1again = m.dram().read(PA, 64);
        boolean deterministic = Arrays.equals(c1again, c1);
        r.see("DRAM " + Rig.hexAddr(PA), deterministic ? "identical to C1: same key, same address, same data -> same ciphertext (no nonce, no counter)" : "differs from C1", c1again);

        // ---- page-table replay (Andy Lutomirski)
        r.step("Kernel builds page tables under KeyID 0 (TME key) mapping VA " + Rig.hexAddr(VA) + " -> frame " + Rig.hexAddr(FRAME) + "; the process writes there");
        PageTableBuilder pt = new PageTableBuilder(m, 0, new FrameAllocator(TABLES, TABLES + 0x10000), 0);
        pt.map(VA, FRAME, 0, Pte.RW | Pte.US);
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        mmu.store(VA, Rig.line("the process's own data"));
        rig.flushAll();
        byte[] tablesThen = m.dram().read(TABLES, 0x4000);
        r.see("page-table frames " + Rig.hexAddr(TABLES) + "..+16K", "attacker copies their ciphertext from DRAM");

        r.step("Process unmaps the page: the kernel clears the PTE, INVLPG, frees the frame; the frame is reused for a kernel secret");
        pt.unmap(VA);
        mmu.invlpg(VA);
        m.pstore(1, FRAME, 0, OTHER);
        String before;
        try {
            mmu.load(VA, 8);
            before = "still mapped (unexpected)";
        } catch (PageFault e) {
            before = "#PF: not mapped any more";
        }
        r.see("process loads VA " + Rig.hexAddr(VA), before);
        rig.flushAll(); // time passes: every cached line, page-table lines included, has been written back and evicted

        r.step("Attacker writes the old page-table ciphertext back into DRAM; the process touches VA again");
        m.dram().write(TABLES, tablesThen);
        byte[] leaked;
        try {
            leaked = mmu.load(VA, 64);
            mmu.store(VA, EVIL);
        } catch (PageFault e) {
            leaked = null;
        }
        rig.flushAll();
        byte[] ownerSees = m.pload(1, FRAME, 0, 64);
        boolean ptReplay = leaked != null && Arrays.equals(leaked, OTHER) && Arrays.equals(ownerSees, EVIL);
        r.see("process loads VA " + Rig.hexAddr(VA), leaked == null ? "#PF" : Arrays.equals(leaked, OTHER) ? "the kernel secret in the freed frame" : "other data", leaked);
        r.see("the frame's new owner reads " + Rig.hexAddr(FRAME), Arrays.equals(ownerSees, EVIL) ? "the process's write landed in freed memory" : "its own data", ownerSees);

        map.add(Pictures.lineRow("freed frame " + Rig.hexAddr(FRAME) + " after the PT replay", m.dram().read(FRAME, 64), ownerSees, OTHER));
        timeline.addAll(map);
        timeline.add(Pictures.LINE_LEGEND);
        r.picture(timeline);
        if (Arrays.equals(c1, c2)) {
            r.verdict(Claims.JARKKO_REPLAY, Verdict.INCONCLUSIVE, "control failed: V2's write-back did not change DRAM, so there was nothing to replay");
        } else {
            r.verdict(Claims.JARKKO_REPLAY, replayed, "the attacker read C1, wrote it back after the victim stored V2, and the victim loaded V1 without any fault");
        }
        r.verdict(Claims.KAI_NO_NONCE, replayed && deterministic,
                "writing V1 again at the same address gives byte-identical C1: the only inputs are key, address and data, so old ciphertext stays valid there");
        r.verdict(Claims.KIRILL_WHAT_REPLAY, Verdict.of(!replayed),
                "the physical-address tweak binds ciphertext to a place, not a time: replay at the same address " + (replayed ? "succeeded" : "failed")
                        + " (moving ciphertext elsewhere does give garbage: see relocation)");
        r.verdict(Claims.LUTO_PAGE_TABLE_REPLAY, ptReplay,
                "the replayed page-table page revived the freed mapping: the process read the frame's new contents and its write landed in them");
        return r.result();
    }
}
