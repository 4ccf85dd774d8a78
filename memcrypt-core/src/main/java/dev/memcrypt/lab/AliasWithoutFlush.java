package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.CpuPackage;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Aliasing: one physical page used through two KeyIDs. Caches tag lines by the full physical
 * address, KeyID bits included, so the two views are not coherent. Without flushes: garbage on
 * reads and corruption when a stale dirty line is written back; with the flush rules (CLFLUSH the
 * old alias, then zero/write through the new one; WBINVD before PCONFIG) everything is consistent.
 * Runs on the bare hardware with PCONFIG (SET_KEY_DIRECT) so the keys can be changed at will.
 */
public final class AliasWithoutFlush implements Experiment {
    static final int A = 1, B = 2;
    static final byte[] KA = fill(0x11), TA = fill(0x12), KB = fill(0x21), TB = fill(0x22), K2 = fill(0xb1), T2 = fill(0xb2);
    static final byte[] DATA = Rig.line("written through KeyID A");
    static final byte[] NEW = Rig.line("the new owner writes through KeyID B");
    static final byte[] ZERO = new byte[64];

    private static byte[] fill(int b) {
        byte[] x = new byte[16];
        Arrays.fill(x, (byte) b);
        return x;
    }

    @Override
    public String name() {
        return "alias-without-flush";
    }

    @Override
    public String title() {
        return "two KeyIDs on one physical line: garbage and corruption without flushes, consistency with the flush rules";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.LUTO_ALIAS_GARBAGE, Claims.LUTO_REMAP_CORRUPTION, Claims.DAVE_FLUSH_RULE, Claims.LUTO_ZERO_NEW,
                Claims.LUTO_PCONFIG_RACE, Claims.DAVE_FLUSH_BEFORE_PCONFIG);
    }

    static void program(Machine m, int keyId, byte[] key, byte[] tweak) {
        for (CpuPackage p : m.packages()) {
            if (!p.powered()) continue;
            int cpu = p.cores().stream().filter(c -> c.online()).findFirst().orElseThrow().id();
            PconfigResult res = m.core(cpu).pconfig(keyId, PconfigCommand.SET_KEY_DIRECT, KeyProgram.ALG_AES_XTS_128, key, tweak);
            if (res.rax() != 0) throw new IllegalStateException("PCONFIG failed with status " + res.rax());
        }
    }

    /** A table row: case, sequence, outcome (the map cell is put in front at the end). */
    private static void row(List<String> table, String kase, String seq, String outcome) {
        table.add(String.format("%-28s %-52s %s", kase, seq, outcome));
    }

    private static String what(byte[] got, byte[] want) {
        return Arrays.equals(got, want) ? "correct" : Arrays.equals(got, ZERO) ? "zeros" : "garbage";
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        Machine m = run.powerOn(run.config(), 0);
        List<String> table = new ArrayList<>();
        table.add(String.format("%-3s %-28s %-52s %s", "map", "case", "sequence", "B / owner reads"));

        r.step("PCONFIG KeyID A=" + A + " and KeyID B=" + B + " with different direct keys on every package");
        program(m, A, KA, TA);
        program(m, B, KB, TB);
        r.see("key tables", "A and B programmed (SET_KEY_DIRECT)");

        // (a) read through the other KeyID
        long p1 = 0x240000;
        r.step("(a) Write through A at " + Rig.hexAddr(p1) + ", read through B without a flush; then flush both aliases and read through B again");
        m.pstore(0, p1, A, DATA);
        byte[] viaB = m.pload(0, p1, B, 64);
        byte[] dramNow = m.dram().read(p1, 64);
        r.see("load via B (no flush)", what(viaB, DATA), viaB);
        r.see("DRAM", Arrays.equals(dramNow, ZERO) ? "still zero: A's line is dirty in the cache" : "written", dramNow);
        m.clflush(0, p1, A);
        m.clflush(0, p1, B);
        byte[] viaBflushed = m.pload(0, p1, B, 64);
        r.see("load via B after CLFLUSH of both", what(viaBflushed, DATA) + ": A's ciphertext decrypted with B's key", viaBflushed);
        boolean aliasGarbage = !Arrays.equals(viaB, DATA) && !Arrays.equals(viaBflushed, DATA) && Arrays.equals(m.pload(0, p1, A, 64), DATA);
        row(table, "(a) read other alias", "write A; read B", what(viaB, DATA));

        // (b) remap without flush
        long p2 = 0x241000;
        r.step("(b) Write through A at " + Rig.hexAddr(p2) + "; the page moves to B without flushing A; the new owner writes through B");
        m.pstore(0, p2, A, DATA);
        m.pstore(0, p2, B, NEW);
        m.clflush(0, p2, B);
        byte[] ownerFirst = m.pload(0, p2, B, 64);
        r.see("new owner reads via B", what(ownerFirst, NEW), ownerFirst);
        r.step("(b) ...later A's stale dirty line is evicted (here: CLFLUSH A) and written back over the new owner's data");
        m.clflush(0, p2, A);
        m.clflush(0, p2, B);
        byte[] ownerLater = m.pload(0, p2, B, 64);
        r.see("new owner reads via B", what(ownerLater, NEW), ownerLater);
        boolean corruption = Arrays.equals(ownerFirst, NEW) && !Arrays.equals(ownerLater, NEW);
        row(table, "(b) remap without flush", "write A; write B; evict A", what(ownerLater, NEW));

        // (c) the flush rule
        long p3 = 0x242000;
        r.step("(c) Flush rule: write through A at " + Rig.hexAddr(p3) + ", CLFLUSH A, then write through B; WBINVD; read through B");
        m.pstore(0, p3, A, DATA);
        m.clflush(0, p3, A);
        m.pstore(0, p3, B, NEW);
        m.wbinvdAll();
        byte[] ruled = m.pload(0, p3, B, 64);
        List<String> inv = m.checkInvariants();
        r.see("load via B", what(ruled, NEW), ruled);
        r.see("invariant checker", inv.isEmpty() ? "no violation" : String.join("; ", inv));
        boolean flushRule = Arrays.equals(ruled, NEW) && inv.isEmpty();
        row(table, "(c) flush rule", "write A; CLFLUSH A; write B", what(ruled, NEW));

        // (d) speculative/prefetched line of the new alias
        long p4 = 0x243000;
        r.step("(d) A is live at " + Rig.hexAddr(p4) + "; B's line gets cached (prefetch); A is written and CLFLUSHed; B is read");
        m.pstore(0, p4, A, Rig.line("A's older data"));
        m.clflush(0, p4, A);
        byte[] g1 = m.pload(1, p4, B, 64); // prefetch into the cache, clean (S/E)
        m.pstore(0, p4, A, DATA);
        m.clflush(0, p4, A);
        byte[] g1again = m.pload(1, p4, B, 64);
        m.clflush(0, p4, B);
        byte[] g2 = m.pload(1, p4, B, 64);
        boolean inconsistent = Arrays.equals(g1, g1again) && !Arrays.equals(g1again, g2);
        r.see("B from the cache", "garbage G1 (from the old DRAM contents)", g1again);
        r.see("B after its line leaves the cache", (inconsistent ? "different garbage G2: the cache was inconsistent with memory" : "same"), g2);
        r.step("(d) Fix: CLFLUSH the old mapping (A), then zero the new mapping (B); read B, write back, read B again");
        m.clflush(0, p4, A);
        m.pstore(1, p4, B, ZERO);
        byte[] z1 = m.pload(1, p4, B, 64);
        m.wbinvdAll();
        byte[] z2 = m.pload(1, p4, B, 64);
        r.see("B after zeroing", what(z1, ZERO) + ", and after write-back " + what(z2, ZERO), z2);
        boolean zeroFix = inconsistent && Arrays.equals(z1, ZERO) && Arrays.equals(z2, ZERO) && m.checkInvariants().isEmpty();
        row(table, "(d) stale prefetch of B", "read B; write A; CLFLUSH A; read B", "G1 != G2 (inconsistent)");
        row(table, "(d) fix", "CLFLUSH A; zero B", what(z2, ZERO));

        // (e) PCONFIG with a dirty line
        long p5 = 0x244000, p6 = 0x245000;
        r.step("(e) WBINVD before PCONFIG: write through A at " + Rig.hexAddr(p5) + ", WBINVD, PCONFIG A to another key and back, read A");
        m.pstore(0, p5, A, DATA);
        m.wbinvdAll();
        program(m, A, K2, T2);
        boolean cleanBefore = m.checkInvariants().isEmpty();
        program(m, A, KA, TA);
        byte[] before = m.pload(0, p5, A, 64);
        m.clflush(0, p5, A);
        r.see("invariant checker after PCONFIG", cleanBefore ? "no violation" : "violation");
        r.see("load via A with its key back", what(before, DATA), before);
        r.step("(e) No flush: write through A at " + Rig.hexAddr(p6) + " (dirty), PCONFIG A to another key, then the line is written back");
        m.pstore(0, p6, A, DATA);
        program(m, A, K2, T2);
        List<String> v = m.checkInvariants();
        r.see("invariant checker after PCONFIG", v.isEmpty() ? "no violation" : v.get(0));
        m.clflush(0, p6, A);
        byte[] dram6 = m.dram().read(p6, 64);
        boolean underNewKey = Arrays.equals(dram6, Rig.xtsEncrypt(K2, T2, p6, DATA));
        r.see("DRAM " + Rig.hexAddr(p6), underNewKey ? "the data encrypted under the NEW key" : "not under the new key", dram6);
        program(m, A, KA, TA);
        m.clflush(0, p6, A);
        byte[] after = m.pload(0, p6, A, 64);
        r.see("load via A with its key back", what(after, DATA) + ": the owner's data is lost", after);
        boolean race = Arrays.equals(before, DATA) && underNewKey && !Arrays.equals(after, DATA) && !v.isEmpty();
        row(table, "(e) WBINVD before PCONFIG", "write A; WBINVD; PCONFIG A; PCONFIG A back", what(before, DATA));
        row(table, "(e) PCONFIG with dirty line", "write A; PCONFIG A; evict; PCONFIG A back", what(after, DATA));

        // the map column: one character per case's line (legend below), judged from DRAM and what the owner read
        char[] cells = {Pictures.lineCell(m.dram().read(p1, 64), viaB, DATA), Pictures.lineCell(m.dram().read(p2, 64), ownerLater, NEW),
                Pictures.lineCell(m.dram().read(p3, 64), ruled, NEW), Pictures.lineCell(m.dram().read(p4, 64), g1again, g2),
                Pictures.lineCell(m.dram().read(p4, 64), z2, ZERO), Pictures.lineCell(m.dram().read(p5, 64), before, DATA),
                Pictures.lineCell(m.dram().read(p6, 64), after, DATA)};
        for (int i = 0; i < cells.length; i++) table.set(i + 1, " " + cells[i] + "  " + table.get(i + 1));
        table.add(Pictures.LINE_LEGEND);
        r.picture(table);
        r.verdict(Claims.LUTO_ALIAS_GARBAGE, aliasGarbage, "B never reads A's data: without a flush it sees its own line decrypted from stale DRAM, after flushing it sees"
                + " A's ciphertext decrypted with B's key (a flush makes B consistent with memory, not readable); A still reads its data");
        r.verdict(Claims.LUTO_REMAP_CORRUPTION, corruption, "the new owner's data was intact until A's stale dirty line was written back over it");
        r.verdict(Claims.DAVE_FLUSH_RULE, flushRule, "CLFLUSH of the old alias before writing through the new one leaves the new owner's data intact and the checker clean");
        r.verdict(Claims.LUTO_ZERO_NEW, zeroFix, "a prefetched line of the new alias kept garbage G1 while memory decrypted to G2; zeroing through the new alias"
                + " after flushing the old one made cache and memory agree (zeros)");
        r.verdict(Claims.LUTO_PCONFIG_RACE, race, "written back before PCONFIG the line is under the old key and survives; written back after, it is encrypted under"
                + " the new key and lost");
        r.verdict(Claims.DAVE_FLUSH_BEFORE_PCONFIG, Arrays.equals(before, DATA) && cleanBefore,
                "with every dirty line written back (WBINVD) before PCONFIG, the key change and change back lose nothing and the checker is clean");
        return r.result();
    }
}
