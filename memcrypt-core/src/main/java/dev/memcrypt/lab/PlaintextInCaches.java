package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Caches hold plaintext: encryption happens in the memory controller, on write-back. A
 * cache-line dump (debug port, or a side channel such as L1TF that reads a line selected by its
 * full physical address) sees cleartext when it names the right KeyID bits; DRAM at the same
 * moment holds ciphertext of an older value, so a cold-boot dump taken before write-back misses
 * the newest data, and the DIMM never sees plaintext either way.
 */
public final class PlaintextInCaches implements Experiment {
    static final long PA = 0x250000;
    static final byte[] OLD = Rig.line("older value: password=hunter1");
    static final byte[] NEWEST = Rig.line("newest value: password=correct-horse-battery-staple");
    static final byte[] NEEDLE = "password=".getBytes();

    @Override
    public String name() {
        return "plaintext-in-caches";
    }

    @Override
    public String title() {
        return "a line is plaintext in the cache while DRAM holds ciphertext (of an older value until write-back)";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.KAI_CACHE_CLEAR, Claims.LUTO_L1TF, Claims.DAVE_DIMM_PROMISE);
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        Rig rig = new Rig(run.powerOn(run.config(), 0));
        Machine m = rig.m;
        int k = rig.addKey("victim", "type=cpu algorithm=aes-xts-128");

        r.step("Victim writes an older value at " + Rig.hexAddr(PA) + " through KeyID " + k + " (type=cpu); written back");
        m.pstore(0, PA, k, OLD);
        m.clflush(0, PA, k);
        byte[] cOld = m.dram().read(PA, 64);
        r.see("DRAM", "ciphertext of the older value", cOld);

        r.step("Victim writes the newest value; it stays dirty in core 0's L1");
        m.pstore(0, PA, k, NEWEST);
        long line = m.fullPa(PA, k) >>> 6;
        byte[] cached = m.caches().peek(line);
        byte[] dram = m.dram().read(PA, 64);
        r.see("cache-line dump, full PA " + Rig.hexAddr(m.fullPa(PA, k)) + " (KeyID " + k + ")", cached != null && Arrays.equals(cached, NEWEST) ? "the newest value in plaintext" : "not cached", cached);
        r.see("DRAM " + Rig.hexAddr(PA), Arrays.equals(dram, cOld) ? "still the ciphertext of the older value" : "changed", dram);

        r.step("Cold-boot dump taken now (before write-back): search it for \"" + new String(NEEDLE) + "\"");
        DramImage img = DramImage.take(m.dram(), run.workDir(), "before-writeback.img");
        int hitsBefore = img.search(NEEDLE).size();
        byte[] imgLine = img.read(PA, 64);
        r.see("hits", "" + hitsBefore);
        r.see("image line at " + Rig.hexAddr(PA), Arrays.equals(imgLine, cOld) ? "ciphertext of the OLDER value: the newest data is only in the cache" : "other", imgLine);

        r.step("Side-channel probe selecting the line by full physical address: every KeyID's bits in turn");
        List<Integer> hitIds = new ArrayList<>();
        byte[] leaked = null;
        for (int id = 0; id <= m.maxKeyId(); id++) {
            byte[] b = m.caches().peek(m.fullPa(PA, id) >>> 6);
            if (b != null) {
                hitIds.add(id);
                leaked = b;
            }
        }
        r.see("probes", (m.maxKeyId() + 1) + " KeyIDs tried (the KeyID bits enlarge the address space to search)");
        r.see("hits", hitIds.isEmpty() ? "none" : "KeyID " + hitIds + ": " + (Arrays.equals(leaked, NEWEST) ? "cleartext" : "other"), leaked);

        r.step("The line is written back (WBINVD); DRAM searched again");
        rig.flushAll();
        byte[] cNew = m.dram().read(PA, 64);
        int hitsAfter = DramImage.take(m.dram(), null, null).search(NEEDLE).size();
        r.see("DRAM " + Rig.hexAddr(PA), Arrays.equals(cNew, cOld) ? "unchanged" : "ciphertext of the newest value", cNew);
        r.see("hits", "" + hitsAfter);
        r.see("cache-line dump", m.caches().peek(line) == null ? "not cached any more" : "still cached");

        List<String> pic = new ArrayList<>(Pictures.sideBySide("cache line KeyID " + k + " (plaintext)", cached, "DRAM " + Rig.hexAddr(PA) + " at the same moment (older ciphertext)", dram));
        pic.add("one character per line (the cache row: the cache's bytes in place of DRAM):");
        if (cached != null) pic.add(Pictures.lineRow("L1, newest value dirty", cached, null, NEWEST));
        pic.add(Pictures.lineRow("DRAM at that moment (decrypts to older)", dram, Arrays.equals(imgLine, cOld) ? OLD : null, NEWEST));
        pic.add(Pictures.lineRow("DRAM after WBINVD", cNew, Rig.ownerView(m, PA, k, 64), NEWEST));
        pic.add(Pictures.LINE_LEGEND);
        r.picture(pic);
        boolean clear = cached != null && Arrays.equals(cached, NEWEST) && Arrays.equals(dram, cOld);
        r.verdict(Claims.KAI_CACHE_CLEAR, clear, "the cache held the newest value in plaintext while DRAM held ciphertext of the older one");
        r.verdict(Claims.LUTO_L1TF, hitIds.equals(List.of(k)) && Arrays.equals(leaked, NEWEST),
                "a probe by full physical address hit only with KeyID " + k + "'s bits, and returned cleartext; the other "
                        + m.maxKeyId() + " KeyIDs missed");
        r.verdict(Claims.DAVE_DIMM_PROMISE, hitsBefore == 0 && hitsAfter == 0 && !Arrays.equals(cNew, NEWEST) && !Arrays.equals(cNew, cOld),
                "no dump found plaintext: before write-back DRAM had the older value's ciphertext, after it the newest value's ciphertext");
        return r.result();
    }
}
