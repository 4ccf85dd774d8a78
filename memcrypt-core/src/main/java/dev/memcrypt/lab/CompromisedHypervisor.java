package dev.memcrypt.lab;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The hypervisor and MKTME, modelled at the hardware level (the KVM model lives on another
 * branch): VM Alice's memory is under her {@code type=cpu} KeyID, VM Eve has a {@code type=user}
 * KeyID whose key she knows. Reading Alice's frame through KeyID 0 (the host direct map) or Eve's
 * KeyID gives garbage; a hypervisor that maps the frame with Alice's KeyID (a per-KeyID direct
 * map, or a corrupted page table) reads cleartext. Nothing authenticates memory: a flipped bit
 * silently corrupts one 16-byte block, and Eve can replay Alice's old ciphertext by writing its
 * preimage under her own key (Eric Rannaud), which TME alone prevents.
 */
public final class CompromisedHypervisor implements Experiment {
    static final long PA_A = 0x260000, PA_R = 0x261000, HOST_VA = 0x7000_0000L, TABLES = 0x900000;
    static final byte[] SECRET = Rig.line("Coke's secret formula: 3 parts syrup, 1 part fizz, 0 parts Pepsi");
    static final byte[] A1 = Rig.line("Alice: balance 100 coins");
    static final byte[] A2 = Rig.line("Alice: balance 0 coins (spent)");
    static final byte[] EVE_KEY = "eve-knows-it-128".getBytes(), EVE_TWEAK = "eve-tweak-known!".getBytes();

    @Override
    public String name() {
        return "compromised-hypervisor";
    }

    @Override
    public String title() {
        return "a host without the VM's KeyID sees garbage; with it, cleartext; and it can corrupt and replay undetected";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.DAVE_HV_TRUST, Claims.JARKKO_VM_ISOLATION, Claims.LUTO_COKE_CLEARTEXT, Claims.LUTO_NO_AUTHENTICATION,
                Claims.ERIC_CROSS_VM_REPLAY, Claims.ERIC_TME_NO_REPLAY);
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        Rig rig = new Rig(run.powerOn(run.config(), 0));
        Machine m = rig.m;
        List<String> pic = new ArrayList<>();

        r.step("Host kernel adds a type=cpu key for VM Alice and a type=user key for VM Eve (Eve chose it, so she knows it)");
        int ka = rig.addKey("vm-alice", "type=cpu algorithm=aes-xts-128");
        int ke = rig.addKey("vm-eve", Rig.userKey(EVE_KEY, EVE_TWEAK));
        r.see("KeyIDs", "Alice " + ka + ", Eve " + ke);

        r.step("Alice (vCPU on cpu 1) writes her secret at guest frame " + Rig.hexAddr(PA_A) + "; it is written back");
        m.pstore(1, PA_A, ka, SECRET);
        rig.flushAll();
        r.see("DRAM", "ciphertext", m.dram().read(PA_A, 64));

        r.step("An honest-but-curious host reads the frame through its KeyID-0 direct map; Eve gets the frame mapped with her KeyID");
        byte[] viaHost = m.pload(0, PA_A, 0, 64);
        byte[] viaEve = m.pload(0, PA_A, ke, 64);
        m.clflush(0, PA_A, 0);
        m.clflush(0, PA_A, ke);
        r.see("host via KeyID 0", show(viaHost, SECRET), viaHost);
        r.see("Eve via KeyID " + ke, show(viaEve, SECRET), viaEve);
        boolean isolated = !Arrays.equals(viaHost, SECRET) && !Arrays.equals(viaEve, SECRET);
        pic.add(String.format("%-44s %s", "host direct map, KeyID 0", show(viaHost, SECRET)));
        pic.add(String.format("%-44s %s", "Eve, KeyID " + ke, show(viaEve, SECRET)));

        r.step("A compromised hypervisor maps the frame in its own page tables with Alice's KeyID bits in the PTE, and reads");
        PageTableBuilder pt = new PageTableBuilder(m, 0, new FrameAllocator(TABLES, TABLES + 0x10000), 0);
        pt.map(HOST_VA, PA_A, ka, Pte.RW);
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        byte[] viaPte = mmu.load(HOST_VA, 64);
        r.see("host VA " + Rig.hexAddr(HOST_VA) + " -> PA " + Rig.hexAddr(PA_A) + " KeyID " + ka, show(viaPte, SECRET), viaPte);
        boolean cleartext = Arrays.equals(viaPte, SECRET);
        pic.add(String.format("%-44s %s", "host PTE with Alice's KeyID " + ka, show(viaPte, SECRET)));
        rig.flushAll();

        r.step("The hypervisor (or anyone with DRAM access) flips one bit of Alice's ciphertext (byte 20); Alice reads her frame");
        byte[] ct = m.dram().read(PA_A, 64);
        ct[20] ^= 0x01;
        m.dram().write(PA_A, ct);
        byte[] aliceReads;
        String fault = null;
        try {
            aliceReads = m.pload(1, PA_A, ka, 64);
        } catch (RuntimeException e) {
            aliceReads = null;
            fault = e.toString();
        }
        StringBuilder blocks = new StringBuilder();
        boolean oneBlock = aliceReads != null;
        for (int b = 0; b < 4 && aliceReads != null; b++) {
            boolean same = Arrays.equals(Arrays.copyOfRange(aliceReads, 16 * b, 16 * b + 16), Arrays.copyOfRange(SECRET, 16 * b, 16 * b + 16));
            blocks.append(b == 0 ? "" : " ").append("block").append(b).append(same ? "=intact" : "=garbage");
            oneBlock &= same == (b != 1);
        }
        r.see("Alice's load", fault != null ? "fault: " + fault : "no fault, no poison; " + blocks, aliceReads);
        boolean noAuth = fault == null && oneBlock;
        pic.add(String.format("%-44s %s", "Alice after a 1-bit flip in DRAM", fault != null ? "fault" : blocks.toString()));
        m.clflush(1, PA_A, ka);

        r.step("Replay across VMs (Eric Rannaud): Alice writes A1 at " + Rig.hexAddr(PA_R) + "; Eve steals its ciphertext E; Alice later writes A2");
        m.pstore(1, PA_R, ka, A1);
        m.clflush(1, PA_R, ka);
        byte[] e = m.dram().read(PA_R, 64);
        m.pstore(1, PA_R, ka, A2);
        m.clflush(1, PA_R, ka);
        r.see("E", "ciphertext of A1 under Alice's key", e);

        r.step("The frame is moved to Eve; she writes P = XTS-decrypt(her key, PA, E) through her KeyID; the frame moves back; Alice reads");
        byte[] p = Rig.xtsDecrypt(EVE_KEY, EVE_TWEAK, PA_R, e);
        m.pstore(0, PA_R, ke, p);
        m.clflush(0, PA_R, ke);
        boolean dramIsE = Arrays.equals(m.dram().read(PA_R, 64), e);
        byte[] aliceGets = m.pload(1, PA_R, ka, 64);
        m.clflush(1, PA_R, ka);
        r.see("DRAM after Eve's write", dramIsE ? "exactly E" : "not E");
        r.see("Alice reads", show(aliceGets, A1, A2), aliceGets);
        pic.add(String.format("%-44s %s", "Alice after Eve writes preimage P", show(aliceGets, A1, A2)));

        r.step("The same with a no-encrypt KeyID: Eve writes E itself through it");
        int kn = rig.addKey("eve-plain", "type=no-encrypt");
        m.pstore(1, PA_R, ka, A2);
        m.clflush(1, PA_R, ka);
        m.pstore(0, PA_R, kn, e);
        m.clflush(0, PA_R, kn);
        byte[] aliceGets2 = m.pload(1, PA_R, ka, 64);
        m.clflush(1, PA_R, ka);
        r.see("Alice reads", show(aliceGets2, A1, A2), aliceGets2);
        boolean crossReplay = dramIsE && Arrays.equals(aliceGets, A1) && Arrays.equals(aliceGets2, A1);

        r.step("TME only: Eve has nothing but KeyID 0 (the TME key, unknown to her) and writes E through it");
        m.pstore(1, PA_R, ka, A2);
        m.clflush(1, PA_R, ka);
        m.pstore(0, PA_R, 0, e);
        m.clflush(0, PA_R, 0);
        boolean tmeDramIsE = Arrays.equals(m.dram().read(PA_R, 64), e);
        byte[] aliceGets3 = m.pload(1, PA_R, ka, 64);
        r.see("DRAM", tmeDramIsE ? "E" : "tme_encrypt(hwaddr, E), not E");
        r.see("Alice reads", show(aliceGets3, A1, A2), aliceGets3);
        pic.add(String.format("%-44s %s", "Alice after Eve writes E via KeyID 0 (TME)", show(aliceGets3, A1, A2)));

        r.picture(pic);
        r.verdict(Claims.DAVE_HV_TRUST, isolated && cleartext && noAuth && crossReplay,
                "without Alice's KeyID the host sees garbage, but a hypervisor that puts Alice's KeyID bits in a PTE reads cleartext, and"
                        + " it can corrupt or replay her memory undetected");
        r.verdict(Claims.JARKKO_VM_ISOLATION, isolated, "while the hypervisor behaves, reads through KeyID 0 or another VM's KeyID give garbage");
        r.verdict(Claims.LUTO_COKE_CLEARTEXT, cleartext, "a mapping with Alice's KeyID (a per-KeyID direct map, or a corrupted page table) returns cleartext");
        r.verdict(Claims.LUTO_NO_AUTHENTICATION, noAuth, "a flipped ciphertext bit turned one 16-byte XTS block into garbage and left the others intact;"
                + " the load raised nothing");
        r.verdict(Claims.ERIC_CROSS_VM_REPLAY, crossReplay, "Eve's preimage under her own key put exactly E into DRAM and Alice read her old value A1"
                + " (likewise via a no-encrypt KeyID)");
        r.verdict(Claims.ERIC_TME_NO_REPLAY, !tmeDramIsE && !Arrays.equals(aliceGets3, A1),
                "through KeyID 0 E was encrypted again, so Alice read garbage, not A1");
        return r.result();
    }

    private static String show(byte[] got, byte[] secret) {
        return Arrays.equals(got, secret) ? "CLEARTEXT" : "garbage";
    }

    private static String show(byte[] got, byte[] old, byte[] cur) {
        return Arrays.equals(got, old) ? "A1, the OLD value (replayed)" : Arrays.equals(got, cur) ? "A2, the current value" : "garbage";
    }
}
