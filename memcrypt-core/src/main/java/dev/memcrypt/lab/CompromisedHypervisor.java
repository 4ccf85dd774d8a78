package dev.memcrypt.lab;

import dev.memcrypt.util.Bytes;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.kvm.Kvm;
import dev.memcrypt.kvm.Vm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The hypervisor and MKTME, on the KVM model: five Coke VMs share one KeyID and five Pepsi VMs
 * another (key groups, "clustering"); guest memory is encrypted under its VM's KeyID through the
 * EPT. Reading a Coke frame through KeyID 0 (the host direct map) or Pepsi's KeyID gives garbage;
 * through the Coke KeyID (another Coke VM, or a compromised host that puts the KeyID bits in one of
 * its PTEs) it gives cleartext. Nothing authenticates memory: the host flips a bit or writes old
 * ciphertext back and the guest reads garbage or its old value, with no fault. Cross-VM replay by a
 * VM that knows its own key (Eric Rannaud) needs a {@code type=user} key, which the KVM model never
 * gives a VM (its keys are random and stay in KVM), so that part stays on the hardware level with
 * the key service's keys, on a second machine.
 *
 * <p>KVM is used through its public API only: create VMs, run guest stores/loads, and the host's
 * view of a guest page ({@link Vm#hpaOf}, {@link Vm#keyId}).
 */
public final class CompromisedHypervisor implements Experiment {
    static final long PA_A = 0x260000, PA_R = 0x261000, HOST_VA = 0x7000_0000L, TABLES = 0x20000, TABLES_END = 0x80000;
    static final long GPA = 0x5000, GPA_R = 0x6000;
    static final int VMS_PER_TENANT = 5, PAGE = 4096;
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
        return "a host without the VM's KeyID sees garbage; with it, or in the VM's key cluster, cleartext; and it can corrupt and replay undetected";
    }

    @Override
    public List<Claim> claims() {
        return List.of(Claims.DAVE_HV_TRUST, Claims.JARKKO_VM_ISOLATION, Claims.LUTO_COKE_CLEARTEXT, Claims.LUTO_NO_AUTHENTICATION,
                Claims.ERIC_CROSS_VM_REPLAY, Claims.ERIC_TME_NO_REPLAY, Claims.DAVE_CLUSTER);
    }

    /** KVM on the machine (the one place the lab creates it). */
    static Kvm hypervisor(Machine m) {
        return Kvm.create(m);
    }

    /** Coke's guest page: the formula and three more lines, the rest never written. */
    static byte[] cokePage() {
        byte[] p = new byte[PAGE];
        System.arraycopy(SECRET, 0, p, 0, 64);
        for (int i = 1; i < 4; i++) System.arraycopy(Rig.line("Coke ledger line " + i + ": 1,000 crates"), 0, p, 64 * i, 64);
        return p;
    }

    /** The host reading a whole page through {@code keyId} (then dropping those lines from its cache again). */
    private static byte[] hostRead(Machine m, long hpa, int keyId) {
        byte[] b = m.pload(0, hpa, keyId, PAGE);
        m.clflushRange(0, hpa, keyId, PAGE);
        return b;
    }

    @Override
    public Result run(LabRun run) {
        Recorder r = new Recorder(this, run);
        Machine m = run.powerOn(run.config(), 0);
        List<String> pic = new ArrayList<>();

        r.step("KVM creates " + VMS_PER_TENANT + " Coke VMs in key group \"coke\" and " + VMS_PER_TENANT + " Pepsi VMs in key group \"pepsi\"");
        Kvm kvm = hypervisor(m);
        List<Vm> coke = new ArrayList<>(), pepsi = new ArrayList<>();
        for (int i = 1; i <= VMS_PER_TENANT; i++) {
            coke.add(kvm.createVm("coke-" + i, 64 * 1024, 1, new Kvm.VmOptions("coke", false, false)));
            pepsi.add(kvm.createVm("pepsi-" + i, 64 * 1024, 1, new Kvm.VmOptions("pepsi", false, false)));
        }
        Set<Integer> keyIds = new TreeSet<>();
        for (Vm v : kvm.vms()) keyIds.add(v.keyId());
        Vm alice = coke.get(0), sibling = coke.get(1), other = pepsi.get(0);
        int kc = alice.keyId();
        r.see("KeyIDs", kvm.vms().size() + " VMs use " + keyIds.size() + " hardware KeyIDs: Coke " + kc + ", Pepsi " + other.keyId());
        boolean twoSlots = keyIds.size() == 2 && coke.stream().allMatch(v -> v.keyId() == kc) && pepsi.stream().allMatch(v -> v.keyId() == other.keyId());

        r.step("coke-1 (vCPU on cpu 1) writes its secret page at guest-physical " + Rig.hexAddr(GPA) + "; it is written back");
        byte[] page = cokePage();
        alice.vcpu(0).run(1, g -> g.store(GPA, page));
        long hpa = alice.hpaOf(GPA);
        m.wbinvdAll();
        byte[] dram = m.dram().read(hpa, PAGE);
        r.see("host frame", Rig.hexAddr(hpa) + " (EPT leaf carries KeyID " + kc + ")");
        r.see("DRAM line 0", Bytes.indexOf(dram, SECRET) >= 0 ? "PLAINTEXT" : "ciphertext", Arrays.copyOf(dram, 64));
        byte[] aliceView = hostRead(m, hpa, kc);
        pic.add("coke-1's guest page (64 lines) in DRAM, read through different KeyIDs:");
        pic.add(Pictures.lineRow("coke-1 (KeyID " + kc + ")", dram, aliceView, page));

        r.step("An honest-but-curious host reads the frame through its KeyID-0 direct map; the frame is read through Pepsi's KeyID (what a Pepsi VM would see if it"
                + " were mapped there)");
        byte[] viaHost = hostRead(m, hpa, 0);
        byte[] viaPepsi = hostRead(m, hpa, other.keyId());
        r.see("host via KeyID 0", show(viaHost, page), Arrays.copyOf(viaHost, 64));
        r.see("Pepsi's KeyID " + other.keyId(), show(viaPepsi, page), Arrays.copyOf(viaPepsi, 64));
        boolean isolated = Bytes.indexOf(viaHost, SECRET) < 0 && Bytes.indexOf(viaPepsi, SECRET) < 0;
        pic.add(Pictures.lineRow("host, KeyID 0", dram, viaHost, page));
        pic.add(Pictures.lineRow("Pepsi, KeyID " + other.keyId(), dram, viaPepsi, page));

        r.step("The same frame through the Coke cluster's KeyID (what coke-2 sees if the frame is mapped into its EPT): one key for all Coke VMs");
        byte[] viaSibling = hostRead(m, hpa, sibling.keyId());
        boolean clusterShares = Arrays.equals(viaSibling, page);
        r.see("coke-2's KeyID " + sibling.keyId(), show(viaSibling, page), Arrays.copyOf(viaSibling, 64));
        pic.add(Pictures.lineRow("coke-2, same cluster, KeyID " + sibling.keyId(), dram, viaSibling, page));

        r.step("A compromised hypervisor maps the frame in its own page tables with coke-1's KeyID bits in the PTE, and reads");
        PageTableBuilder pt = new PageTableBuilder(m, 0, new FrameAllocator(TABLES, TABLES_END), 0);
        pt.map(HOST_VA, hpa, kc, Pte.RW);
        Mmu mmu = m.mmu(0);
        mmu.writeCr3(pt.cr3());
        byte[] viaPte = mmu.load(HOST_VA, PAGE);
        r.see("host VA " + Rig.hexAddr(HOST_VA) + " -> PA " + Rig.hexAddr(hpa) + " KeyID " + kc, show(viaPte, page), Arrays.copyOf(viaPte, 64));
        boolean cleartext = Arrays.equals(viaPte, page);
        pic.add(Pictures.lineRow("host PTE with Coke's KeyID " + kc, dram, viaPte, page));
        m.wbinvdAll();

        r.step("The host (or anyone with DRAM access) flips one bit of coke-1's ciphertext (line 0, byte 20); the guest reads its page");
        byte[] ct = m.dram().read(hpa, 64);
        ct[20] ^= 0x01;
        m.dram().write(hpa, ct);
        byte[] aliceReads;
        String fault = null;
        try {
            byte[][] got = new byte[1][];
            alice.vcpu(0).run(1, g -> got[0] = g.load(GPA, PAGE));
            aliceReads = got[0];
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
        if (aliceReads != null) oneBlock &= Arrays.equals(Arrays.copyOfRange(aliceReads, 64, PAGE), Arrays.copyOfRange(page, 64, PAGE));
        r.see("coke-1's load", fault != null ? "fault: " + fault : "no fault, no poison; line 0: " + blocks, aliceReads == null ? null : Arrays.copyOf(aliceReads, 64));
        boolean noAuth = fault == null && oneBlock;
        if (aliceReads != null) pic.add(Pictures.lineRow("coke-1 after a 1-bit flip in DRAM", m.dram().read(hpa, PAGE), aliceReads, page));
        m.wbinvdAll();

        r.step("The host replays: coke-1 writes A1 at " + Rig.hexAddr(GPA_R) + ", the host copies its ciphertext, coke-1 writes A2, the host writes the copy back");
        alice.vcpu(0).run(1, g -> g.store(GPA_R, A1));
        long hpaR = alice.hpaOf(GPA_R);
        m.wbinvdAll();
        byte[] oldCt = m.dram().read(hpaR, 64);
        alice.vcpu(0).run(1, g -> g.store(GPA_R, A2));
        m.wbinvdAll();
        m.dram().write(hpaR, oldCt);
        byte[][] replayed = new byte[1][];
        alice.vcpu(0).run(1, g -> replayed[0] = g.load(GPA_R, 64));
        boolean hostReplay = Arrays.equals(replayed[0], A1);
        r.see("coke-1 reads", show(replayed[0], A1, A2), replayed[0]);
        byte[] expectR = new byte[PAGE];
        System.arraycopy(A2, 0, expectR, 0, 64);
        byte[] ownerR = new byte[PAGE];
        System.arraycopy(replayed[0], 0, ownerR, 0, 64);
        pic.add(Pictures.lineRow("coke-1 page " + Rig.hexAddr(GPA_R) + " after host replay", m.dram().read(hpaR, PAGE), ownerR, expectR));
        pic.add(Pictures.LINE_LEGEND);
        m.wbinvdAll();

        // ---- hardware level: a VM that knows its own key (type=user), no-encrypt and TME-only KeyIDs
        Rig rig = new Rig(run.powerOn(run.config(), 1));
        m = rig.m;
        r.step("Hardware level (the KVM model never lets a VM know its key): a second machine's kernel adds a type=cpu key for VM Alice and a type=user key"
                + " for VM Eve (Eve chose it, so she knows it)");
        int ka = rig.addKey("vm-alice", "type=cpu algorithm=aes-xts-128");
        int ke = rig.addKey("vm-eve", Rig.userKey(EVE_KEY, EVE_TWEAK));
        r.see("KeyIDs", "Alice " + ka + ", Eve " + ke);
        pic.add("hardware level, cross-VM replay:");

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
        r.verdict(Claims.DAVE_HV_TRUST, isolated && cleartext && noAuth && hostReplay && crossReplay,
                "without coke-1's KeyID the host sees garbage, but a hypervisor that puts the KeyID bits in a PTE reads cleartext, and it corrupted and"
                        + " replayed the guest's memory undetected (KVM model)");
        r.verdict(Claims.JARKKO_VM_ISOLATION, isolated, "while the hypervisor behaves, reads through KeyID 0 or the Pepsi VMs' KeyID give garbage (KVM model)");
        r.verdict(Claims.LUTO_COKE_CLEARTEXT, cleartext, "a host mapping with coke-1's KeyID (a per-KeyID direct map, or a corrupted page table) returns"
                + " cleartext (KVM model)");
        r.verdict(Claims.LUTO_NO_AUTHENTICATION, noAuth && hostReplay, "a flipped ciphertext bit turned one 16-byte XTS block of the guest's page into"
                + " garbage and left the rest intact, and old ciphertext written back read as the old value; the guest's loads raised nothing (KVM model)");
        r.verdict(Claims.ERIC_CROSS_VM_REPLAY, crossReplay, "Eve's preimage under her own key put exactly E into DRAM and Alice read her old value A1"
                + " (likewise via a no-encrypt KeyID; hardware level, since KVM keys are random)");
        r.verdict(Claims.ERIC_TME_NO_REPLAY, !tmeDramIsE && !Arrays.equals(aliceGets3, A1),
                "through KeyID 0 E was encrypted again, so Alice read garbage, not A1 (hardware level)");
        r.verdict(Claims.DAVE_CLUSTER, twoSlots && clusterShares && isolated,
                (2 * VMS_PER_TENANT) + " VMs used " + keyIds.size() + " KeyIDs; the frame read through the Coke cluster's KeyID gave coke-1's cleartext,"
                        + " through Pepsi's garbage: a key cluster is one protection domain");
        return r.result();
    }

    private static String show(byte[] got, byte[] secret) {
        return Arrays.equals(got, secret) || Bytes.indexOf(got, SECRET) >= 0 ? "CLEARTEXT" : "garbage";
    }

    private static String show(byte[] got, byte[] old, byte[] cur) {
        return Arrays.equals(got, old) ? "A1, the OLD value (replayed)" : Arrays.equals(got, cur) ? "A2, the current value" : "garbage";
    }
}
