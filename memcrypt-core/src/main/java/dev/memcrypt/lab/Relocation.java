package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Relocation: the XTS tweak is the line's physical address, so ciphertext moved to another
 * address decrypts to garbage under the same key, and decrypts at its own address. Consequences
 * argued in the thread: a customer's pre-encrypted image must be loaded at predetermined physical
 * addresses, and if firmware salts the tweak per boot (the model's {@code salted_tweak}), user-key
 * ciphertext is good for one boot only.
 */
public final class Relocation implements Experiment {
    static final long X = 0x220000, Y = 0x221000, Z = 0x222000;
    static final byte[] SECRET = Rig.line("page contents that belong at 0x220000 and nowhere else");
    static final byte[] IMG_KEY = "customer-key-128".getBytes(), IMG_TWEAK = "customer-tweak-1".getBytes();
    static final byte[] IMAGE = Rig.line("customer VM image, encrypted by the customer for PA 0x230000");
    static final long IMG_PA = 0x230000, IMG_OTHER = 0x231000;

    @Override
    public String name() {
        return "relocation";
    }

    @Override
    public String title() {
        return "ciphertext moved to another physical address decrypts to garbage; at its own address it decrypts";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.KIRILL_PA_TWEAK, Claims.LUTO_PREDETERMINED_PA, Claims.DAVE_TWEAK_PER_BOOT);
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        MachineConfig cfg = run.config();
        Rig rig = new Rig(run.powerOn(cfg, 0));
        Machine m = rig.m;
        int k = rig.addKey("victim", "type=cpu algorithm=aes-xts-128");

        r.step("Victim writes a line at " + Rig.hexAddr(X) + " through KeyID " + k + " (type=cpu); written back");
        m.pstore(0, X, k, SECRET);
        m.clflush(0, X, k);
        byte[] c = m.dram().read(X, 64);
        r.see("DRAM " + Rig.hexAddr(X), "ciphertext C", c);

        r.step("Attacker copies C to " + Rig.hexAddr(Y) + " in DRAM; the victim reads " + Rig.hexAddr(Y) + " through the same KeyID");
        m.dram().write(Y, c);
        byte[] atY = m.pload(0, Y, k, 64);
        r.see("load " + Rig.hexAddr(Y) + " via KeyID " + k, Arrays.equals(atY, SECRET) ? "the secret" : "garbage (decrypted with the tweak of " + Rig.hexAddr(Y) + ")", atY);

        r.step("The victim reads " + Rig.hexAddr(X) + ": same key, same address");
        byte[] atX = m.pload(0, X, k, 64);
        r.see("load " + Rig.hexAddr(X) + " via KeyID " + k, Arrays.equals(atX, SECRET) ? "the secret" : "garbage", atX);

        r.step("The victim writes the same plaintext at " + Rig.hexAddr(Z) + ": another address gives another ciphertext");
        m.pstore(0, Z, k, SECRET);
        m.clflush(0, Z, k);
        byte[] cz = m.dram().read(Z, 64);
        r.see("DRAM " + Rig.hexAddr(Z), Arrays.equals(cz, c) ? "equal to C" : "differs from C", cz);
        boolean tied = !Arrays.equals(atY, SECRET) && Arrays.equals(atX, SECRET) && !Arrays.equals(cz, c);

        r.step("A customer encrypts its VM image offline with its own key for PA " + Rig.hexAddr(IMG_PA) + "; the host loads the ciphertext through a"
                + " no-encrypt KeyID at that address and at another one; the VM reads both through a user key slot with the customer's key");
        int kn = rig.addKey("loader", "type=no-encrypt");
        int ku = rig.addKey("customer", Rig.userKey(IMG_KEY, IMG_TWEAK));
        byte[] ct = Rig.xtsEncrypt(IMG_KEY, IMG_TWEAK, IMG_PA, IMAGE);
        m.pstore(0, IMG_PA, kn, ct);
        m.pstore(0, IMG_OTHER, kn, ct);
        m.clflush(0, IMG_PA, kn);
        m.clflush(0, IMG_OTHER, kn);
        boolean dramIsCt = Arrays.equals(m.dram().read(IMG_PA, 64), ct);
        byte[] vmAtPa = m.pload(0, IMG_PA, ku, 64);
        byte[] vmAtOther = m.pload(0, IMG_OTHER, ku, 64);
        r.see("DRAM " + Rig.hexAddr(IMG_PA), dramIsCt ? "exactly the customer's ciphertext" : "not the customer's ciphertext", ct);
        r.see("VM reads " + Rig.hexAddr(IMG_PA) + " via KeyID " + ku, Arrays.equals(vmAtPa, IMAGE) ? "the image" : "garbage", vmAtPa);
        r.see("VM reads " + Rig.hexAddr(IMG_OTHER) + " via KeyID " + ku, Arrays.equals(vmAtOther, IMAGE) ? "the image" : "garbage", vmAtOther);
        boolean predetermined = dramIsCt && Arrays.equals(vmAtPa, IMAGE) && !Arrays.equals(vmAtOther, IMAGE);

        r.step("Persistent data under a user key across a reboot: DRAM moved to a new machine, same user key re-added; once with the model's"
                + " default unsalted tweak, once with firmware salting the tweak per boot (machine salted_tweak=on)");
        boolean plain = reboots(run, cfg, false, r);
        boolean salted = reboots(run, cfg.with("salted_tweak", "true"), true, r);

        List<String> pic = new ArrayList<>(Pictures.sideBySide("DRAM " + Rig.hexAddr(X) + " (C)", c, "read back at " + Rig.hexAddr(Y) + " (garbage)", atY));
        pic.add("one character per line:");
        pic.add(Pictures.lineRow(Rig.hexAddr(X) + " C at its own address", c, atX, SECRET));
        pic.add(Pictures.lineRow(Rig.hexAddr(Y) + " C copied here", c, atY, SECRET));
        pic.add(Pictures.lineRow(Rig.hexAddr(Z) + " same plaintext, own write", cz, null, SECRET));
        pic.add(Pictures.lineRow(Rig.hexAddr(IMG_PA) + " customer image, its PA", ct, vmAtPa, IMAGE));
        pic.add(Pictures.lineRow(Rig.hexAddr(IMG_OTHER) + " customer image, other PA", ct, vmAtOther, IMAGE));
        pic.add(Pictures.LINE_LEGEND);
        r.picture(pic);
        r.verdict(Claims.KIRILL_PA_TWEAK, tied, "C decrypts to the secret at " + Rig.hexAddr(X) + " and to garbage at " + Rig.hexAddr(Y)
                + " under the same key; the same plaintext at " + Rig.hexAddr(Z) + " encrypts differently");
        r.verdict(Claims.LUTO_PREDETERMINED_PA, predetermined, "the customer's ciphertext decrypts only at the physical address it was encrypted for");
        r.verdict(Claims.DAVE_TWEAK_PER_BOOT, plain && !salted,
                "with a per-boot tweak salt the re-added user key reads garbage after the reboot (model choice salted_tweak=on; the real"
                        + " derivation is firmware-private); with the default unsalted tweak it decrypts again");
        return r.result();
    }

    /** Writes under a user key, moves the DRAM into a rebooted machine, re-adds the key; true if the data decrypts. */
    private static boolean reboots(LabRun run, MachineConfig cfg, boolean salted, Recorder r) {
        Rig a = new Rig(run.powerOn(cfg, salted ? 20 : 10));
        int ku = a.addKey("pmem", Rig.userKey(IMG_KEY, IMG_TWEAK));
        a.m.pstore(0, X, ku, SECRET);
        a.flushAll();
        Rig b = new Rig(run.powerOn(cfg, salted ? 21 : 11, a.m.dram()));
        int ku2 = b.addKey("pmem", Rig.userKey(IMG_KEY, IMG_TWEAK));
        byte[] back = b.m.pload(0, X, ku2, 64);
        boolean ok = Arrays.equals(back, SECRET);
        r.see(salted ? "salted tweak, after reboot" : "unsalted tweak, after reboot", ok ? "decrypts to the data" : "garbage", back);
        return ok;
    }
}
