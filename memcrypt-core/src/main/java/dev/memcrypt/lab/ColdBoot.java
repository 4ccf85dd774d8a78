package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import java.util.Arrays;
import java.util.List;

/**
 * Cold boot: the victim keeps a secret page under KeyID 0 (TME key), a {@code type=cpu} key, a
 * {@code type=user} key and a {@code type=no-encrypt} key; the attacker takes the DIMMs (a DRAM
 * image) and searches it for the secret. Controls: the NO_ENCRYPT page and a machine with TME
 * bypass must show it, or the search proves nothing. Then the image goes into a rebooted
 * machine: the new TME key and the gone CPU key cannot decrypt it, the re-entered user key can.
 */
public final class ColdBoot implements Experiment {
    static final long PA_TME = 0x200000, PA_CPU = 0x201000, PA_USER = 0x202000, PA_NOENC = 0x203000;
    static final byte[] USER_KEY = "user-key-0123456".getBytes(), USER_TWEAK = "user-tweak-abcde".getBytes();
    static final byte[] SECRET = Rig.line("TOP SECRET: the launch code is 0451-2187-9930. Do not share it!");
    /** What the attacker greps the image for. */
    static final byte[] NEEDLE = "the launch code is".getBytes();

    @Override
    public String name() {
        return "cold-boot";
    }

    @Override
    public String title() {
        return "a DRAM image holds ciphertext unless a KeyID is NO_ENCRYPT or TME is bypassed";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.LUTO_COLD_BOOT, Claims.LUTO_USER_MODE_WEAKER, Claims.KAI_CPU_KEY_GONE);
    }

    private static byte[] page() {
        byte[] p = new byte[4096];
        for (int i = 0; i < 4096; i += 64) System.arraycopy(SECRET, 0, p, i, 64);
        return p;
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        MachineConfig cfg = run.config();
        r.step("Boot a machine with TME activated by firmware and the kernel's mktme key service; add three keys as root");
        Rig rig = new Rig(run.powerOn(cfg, 0));
        int kc = rig.addKey("victim-cpu", "type=cpu algorithm=aes-xts-128");
        int ku = rig.addKey("victim-user", Rig.userKey(USER_KEY, USER_TWEAK));
        int kn = rig.addKey("victim-plain", "type=no-encrypt");
        r.see("KeyIDs", "type=cpu -> KeyID " + kc + ", type=user -> KeyID " + ku + ", type=no-encrypt -> KeyID " + kn);

        r.step("Victim writes the same secret page at four addresses: KeyID 0 (TME), the cpu, user and no-encrypt KeyIDs; caches are written back (WBINVD)");
        Machine m = rig.m;
        byte[] page = page();
        long[] pas = {PA_TME, PA_CPU, PA_USER, PA_NOENC};
        int[] ids = {0, kc, ku, kn};
        String[] names = {"KeyID 0 (TME key)", "KeyID " + kc + " (type=cpu)", "KeyID " + ku + " (type=user)", "KeyID " + kn + " (no-encrypt)"};
        for (int i = 0; i < 4; i++) m.pstore(0, pas[i], ids[i], page);
        rig.flushAll();
        for (int i = 0; i < 4; i++) r.see("DRAM " + Rig.hexAddr(pas[i]) + " " + names[i], Pictures.classify(m.dram().read(pas[i], 64), NEEDLE) == 'S' ? "plaintext" : "ciphertext", m.dram().read(pas[i], 64));

        r.step("Attacker takes the DIMMs: a raw DRAM image, then searches all of it for \"" + new String(NEEDLE) + "\"");
        DramImage img = DramImage.take(m.dram(), run.workDir(), "cold-boot.img");
        List<Long> hits = img.search(NEEDLE);
        int[] perRegion = new int[4];
        int elsewhere = 0;
        for (long h : hits) {
            int k = -1;
            for (int i = 0; i < 4; i++) if (h >= pas[i] && h < pas[i] + 4096) k = i;
            if (k >= 0) perRegion[k]++;
            else elsewhere++;
        }
        r.see("image", img.describe());
        for (int i = 0; i < 4; i++) r.see("hits in the " + names[i] + " page", perRegion[i] + " of 64 lines");
        r.see("hits elsewhere", "" + elsewhere);

        r.step("Control: a machine whose firmware set TME bypass (KeyID 0 not encrypted) writes the secret under KeyID 0; image searched the same way");
        MachineConfig byp = cfg.with("bypass", "true");
        Machine mb = run.powerOn(byp, 9);
        mb.pstore(0, PA_TME, 0, page);
        mb.wbinvdAll();
        DramImage bimg = DramImage.take(mb.dram(), run.workDir(), "cold-boot-bypass.img");
        int bypassHits = bimg.search(NEEDLE).size();
        r.see("hits in the bypass image", bypassHits + " (all 64 lines of the page)", bimg.read(PA_TME, 64));

        r.step("Attacker with the user key (it came from user space, so it can leak) decrypts the image offline with XTS-AES-128, tweak = physical address");
        byte[] userCt = img.read(PA_USER, 64);
        byte[] offline = Rig.xtsDecrypt(USER_KEY, USER_TWEAK, PA_USER, userCt);
        boolean offlineOk = Arrays.equals(offline, SECRET);
        r.see("XTS-decrypt(user key, PA " + Rig.hexAddr(PA_USER) + ", image line)", offlineOk ? "the secret" : "garbage", offline);

        r.step("Reboot: the image goes into a freshly powered-on machine (new TME key); the kernel boots again");
        Rig rig2 = new Rig(run.powerOn(cfg, 1, img.load()));
        byte[] tmeAfter = rig2.m.pload(0, PA_TME, 0, 64);
        byte[] cpuOld = rig2.m.pload(0, PA_CPU, kc, 64);
        r.see("load " + Rig.hexAddr(PA_TME) + " through KeyID 0 (new TME key)", verdictText(tmeAfter), tmeAfter);
        r.see("load " + Rig.hexAddr(PA_CPU) + " through KeyID " + kc + " (not programmed now: TME key)", verdictText(cpuOld), cpuOld);

        r.step("After the reboot: add a new type=cpu key and re-add the same type=user key; load both pages through them");
        int kc2 = rig2.addKey("victim-cpu", "type=cpu algorithm=aes-xts-128");
        int ku2 = rig2.addKey("victim-user", Rig.userKey(USER_KEY, USER_TWEAK));
        rig2.m.clflushRange(0, PA_CPU, kc2, 4096);
        rig2.m.clflushRange(0, PA_USER, ku2, 4096);
        byte[] cpuNew = rig2.m.pload(0, PA_CPU, kc2, 64);
        byte[] userNew = rig2.m.pload(0, PA_USER, ku2, 64);
        r.see("load " + Rig.hexAddr(PA_CPU) + " through the new cpu key (KeyID " + kc2 + ")", verdictText(cpuNew), cpuNew);
        r.see("load " + Rig.hexAddr(PA_USER) + " through the re-added user key (KeyID " + ku2 + ")", verdictText(userNew), userNew);

        // What the owners read after the reboot, whole pages (for the picture only; the verdicts use the loads above).
        byte[] tmePageAfter = rig2.m.pload(0, PA_TME, 0, 4096);
        byte[] cpuPageNew = rig2.m.pload(0, PA_CPU, kc2, 4096);
        byte[] userPageNew = rig2.m.pload(0, PA_USER, ku2, 4096);
        r.picture(List.of("the secret page in the DRAM image (nobody to ask: P/C from the bytes alone):",
                Pictures.lineRow(Rig.hexAddr(PA_TME) + " KeyID 0 (TME)", img.read(PA_TME, 4096), null, page),
                Pictures.lineRow(Rig.hexAddr(PA_CPU) + " type=cpu", img.read(PA_CPU, 4096), null, page),
                Pictures.lineRow(Rig.hexAddr(PA_USER) + " type=user", img.read(PA_USER, 4096), null, page),
                Pictures.lineRow(Rig.hexAddr(PA_NOENC) + " type=no-encrypt", img.read(PA_NOENC, 4096), null, page),
                Pictures.lineRow(Rig.hexAddr(PA_TME) + " KeyID 0, TME bypass", bimg.read(PA_TME, 4096), null, page),
                "after the reboot, read through the new machine's keys:",
                Pictures.lineRow(Rig.hexAddr(PA_TME) + " KeyID 0 (new TME key)", img.read(PA_TME, 4096), tmePageAfter, page),
                Pictures.lineRow(Rig.hexAddr(PA_CPU) + " new type=cpu key", img.read(PA_CPU, 4096), cpuPageNew, page),
                Pictures.lineRow(Rig.hexAddr(PA_USER) + " re-added type=user key", img.read(PA_USER, 4096), userPageNew, page),
                Pictures.LINE_LEGEND));

        boolean controls = perRegion[3] == 64 && bypassHits == 64;
        boolean encryptedHidden = perRegion[0] == 0 && perRegion[1] == 0 && perRegion[2] == 0 && elsewhere == 0;
        boolean tmeGone = !Arrays.equals(tmeAfter, SECRET);
        if (!controls) {
            r.verdict(Claims.LUTO_COLD_BOOT, Verdict.INCONCLUSIVE, "the controls failed: the search found " + perRegion[3] + "/64 NO_ENCRYPT lines and " + bypassHits + "/64 bypass lines");
        } else {
            r.verdict(Claims.LUTO_COLD_BOOT, encryptedHidden && tmeGone,
                    "the image holds the secret only where encryption was off (NO_ENCRYPT KeyID: 64/64 lines, TME bypass: 64/64); under the TME, cpu and"
                            + " user keys: " + (perRegion[0] + perRegion[1] + perRegion[2]) + " hits, and after a reboot the new TME key decrypts KeyID-0 lines to garbage");
        }
        boolean cpuStaysGone = !Arrays.equals(cpuOld, SECRET) && !Arrays.equals(cpuNew, SECRET);
        r.verdict(Claims.LUTO_USER_MODE_WEAKER, encryptedHidden && offlineOk && cpuStaysGone,
                "whoever learns the user key decrypts the user-key page straight from the image (offline XTS), while the cpu-key page stays garbage"
                        + " because its key never left the CPU");
        r.verdict(Claims.KAI_CPU_KEY_GONE, cpuStaysGone && Arrays.equals(userNew, SECRET),
                "after the reboot the cpu-key page is garbage (its key is gone; a new cpu key is another random key) while re-adding the same"
                        + " user key on the new machine decrypts its page again (tweak = physical address, unsalted)");
        return r.result();
    }

    private static String verdictText(byte[] b) {
        return Arrays.equals(b, SECRET) ? "the secret" : "garbage";
    }
}
