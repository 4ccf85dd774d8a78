package dev.memcrypt.kvm;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.InvalidOpcodeFault;
import dev.memcrypt.hw.cpu.VmExit;
import dev.memcrypt.hw.keylocker.Handle;
import dev.memcrypt.hw.keylocker.IwKey;
import dev.memcrypt.hw.keylocker.KeyLockerMsrs;
import dev.memcrypt.hw.keylocker.KeyLockerPlatform;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import dev.memcrypt.kernel.boot.Kernel;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The KVM model: VMs, EPT with KeyIDs, clustering, exits, Key Locker virtualization, nested LOADIWKEY. */
class KvmTest {
    static final byte[] PT = Hw.bytes(16, 77);
    static final byte[] KEY = Hw.bytes(16, 78);
    static final byte[] IK = Hw.bytes(16, 1), E_LO = Hw.bytes(16, 2), E_HI = Hw.bytes(16, 3);

    static Kvm kvm() {
        return Kvm.create(Hw.machine());
    }

    /** Guest kernel code: CR4.KL, LOADIWKEY (KeySource 0) from XMM0-2. */
    static void guestLoadIwKey(GuestCpu g, byte[] ik) {
        g.writeCr4(g.cr4() | Core.CR4_KL);
        g.xmm().set(0, ik);
        g.xmm().set(1, E_LO);
        g.xmm().set(2, E_HI);
        assertTrue(g.loadiwkey(2, 1, 0));
        assertFalse(g.zf());
    }

    static byte[] guestEncode(GuestCpu g) {
        g.xmm().set(0, KEY);
        g.encodekey128(0);
        return g.handleFromXmm(Handle.KEYTYPE_AES128);
    }

    static boolean guestUse(GuestCpu g, byte[] h) {
        g.xmm().set(5, PT);
        return g.aesenc128kl(5, h);
    }

    static long count(List<ExitRecord> t, int reason) {
        return t.stream().filter(e -> e.reason() == reason).count();
    }

    /**
     * Where any 16-byte needle appears in modelled memory: all of DRAM raw, then every page DRAM
     * holds as each KeyID in {@code keyIds} reads it (through core 0's caches and the controller).
     * Pages never written read as zeros raw and are skipped in the KeyID views.
     */
    static List<String> sightings(Machine m, int[] keyIds, byte[]... needles) {
        m.wbinvdAll();
        List<String> found = new java.util.ArrayList<>();
        long size = m.dram().size();
        int chunk = 1 << 20;
        for (long pa = 0; pa < size; pa += chunk) { // raw (also settles anything posted)
            int n = (int) Math.min(chunk + 15L, size - pa);
            scan(m.dram().read(pa, n), "raw DRAM", pa, needles, found);
        }
        for (long pa = 0; pa < size; pa += 4096) {
            if (m.dram().pageArrayIfPresent(pa) == null) continue;
            for (int k : keyIds) scan(m.pload(0, pa, k, 4096), "KeyID " + k, pa, needles, found);
        }
        return found.stream().distinct().toList();
    }

    static void scan(byte[] b, String view, long base, byte[][] needles, List<String> found) {
        for (int off = 0; off + 16 <= b.length; off++) {
            for (byte[] n : needles) {
                if (b[off] == n[0] && Arrays.equals(b, off, off + 16, n, 0, 16)) found.add(String.format("%s at 0x%x", view, base + off));
            }
        }
    }

    // ------------------------------------------------------------------ memory encryption

    @Test
    void vmMemoryInDramIsCiphertextUnderItsOwnKeyId() {
        Kvm kvm = kvm();
        Machine m = kvm.machine();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        Vm b = kvm.createVm("b", 1 << 20, 1, Kvm.VmOptions.defaults());
        assertNotEquals(0, a.keyId());
        assertNotEquals(a.keyId(), b.keyId());
        byte[] secret = "guest a's secret page contents!!".getBytes();
        a.vcpu(0).run(0, g -> g.store(0x5000, secret));
        a.vcpu(0).run(0, g -> assertArrayEquals(secret, g.load(0x5000, secret.length)));
        long hpa = a.hpaOf(0x5000);
        assertTrue(hpa > 0);
        m.wbinvdAll();
        byte[] raw = m.dram().read(hpa, secret.length);
        assertFalse(Arrays.equals(secret, raw), "DRAM holds ciphertext");
        // the EPT leaf carries the VM's KeyID
        long leaf = a.ept().walk(0, 0x5000);
        assertEquals(a.keyId(), a.ept().keyIdOf(leaf));
        // the host (KeyID 0) and another KeyID see garbage, the VM's KeyID the plaintext
        assertFalse(Arrays.equals(secret, m.pload(1, hpa, 0, secret.length)));
        assertFalse(Arrays.equals(secret, m.pload(1, hpa, b.keyId(), secret.length)));
        assertArrayEquals(secret, m.pload(1, hpa, a.keyId(), secret.length));
        assertTrue(count(a.exits(), VmExit.EPT_VIOLATION) >= 1, "first touch faulted in through an EPT violation");
    }

    @Test
    void eptTablesLiveInModelledMemory() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(1, g -> g.store64(0x3008, 42));
        long pml4 = a.ept().eptp() & ~0xfffL;
        long e4 = kvm.machine().pload64(0, pml4, 0);
        assertEquals(Ept.RWX, e4 & Ept.RWX, "PML4E present in DRAM-backed table");
        assertEquals(6 | 3 << 3, a.ept().eptp() & 0x3f, "EPTP: WB, 4-level walk");
    }

    @Test
    void clusteredVmsShareOneKeyId() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 1 << 20, 1, new Kvm.VmOptions("tenant1", false, false));
        Vm b = kvm.createVm("b", 1 << 20, 1, new Kvm.VmOptions("tenant1", false, false));
        Vm c = kvm.createVm("c", 1 << 20, 1, new Kvm.VmOptions("tenant2", false, false));
        assertEquals(a.keyId(), b.keyId());
        assertNotEquals(a.keyId(), c.keyId());
        a.destroy();
        b.vcpu(0).run(0, g -> g.store(0, PT));
        b.vcpu(0).run(0, g -> assertArrayEquals(PT, g.load(0, 16)));
        int k = b.keyId();
        b.destroy();
        Vm d = kvm.createVm("d", 1 << 20, 1, new Kvm.VmOptions("tenant3", false, false));
        assertEquals(k, d.keyId(), "the group's KeyID was released with its last VM and reused");
    }

    @Test
    void keyIdsRunOut() {
        Kvm kvm = Kvm.create(Hw.machine("keyid_bits=1", "max_keyid_bits=1"));
        kvm.createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        KvmException e = assertThrows(KvmException.class, () -> kvm.createVm("b", 4096, 1, Kvm.VmOptions.defaults()));
        assertEquals("ENOKEY", e.outcomeName());
    }

    @Test
    void accessBeyondGuestMemoryFaults() {
        Vm a = kvm().createVm("a", 8192, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> assertEquals("EFAULT", assertThrows(KvmException.class, () -> g.load(8192, 8)).outcomeName()));
    }

    // ------------------------------------------------------------------ exits and CPUID

    @Test
    void exitsAreTracedWithReasons() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(2, g -> {
            g.cpuid(0x19, 0);
            guestLoadIwKey(g, IK);
            g.wrmsr(KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM, 1);
            g.rdmsr(KeyLockerMsrs.IA32_COPY_STATUS);
            g.store(0x1000, PT);
            g.vmcall(7);
            g.hlt();
        });
        List<String> names = a.exits().stream().map(ExitRecord::reasonName).toList();
        assertEquals(List.of("CPUID", "CR_ACCESS", "LOADIWKEY", "MSR_WRITE", "MSR_READ", "EPT_VIOLATION", "VMCALL", "HLT"), names);
        ExitRecord l = a.exits().get(2);
        assertEquals(69, l.reason());
        assertEquals(2, l.pcpu());
        assertEquals("L0", l.handledBy());
        assertEquals(KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM, a.exits().get(3).qualification());
    }

    @Test
    void guestCpuidHidesKeySource1AndMktme() {
        Vm a = kvm().createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> {
            CpuidResult r = g.cpuid(0x19, 0);
            assertEquals(KeyLockerUnit.ECX_NOBACKUP, r.ecx(), "KeySource 1 not exposed");
            assertEquals(0, r.ebx() & KeyLockerUnit.EBX_AESKLE);
            assertNotEquals(0, r.ebx() & KeyLockerUnit.EBX_BACKUP_MSRS);
            assertNotEquals(0, g.cpuid(7, 0).ecx() & KeyLockerUnit.CPUID7_ECX_KL);
            assertEquals(0, g.cpuid(7, 0).ecx() & Core.CPUID7_ECX_TME);
            assertNotEquals(0, g.cpuid(1, 0).ecx() & Core.CPUID1_ECX_HYPERVISOR);
            g.writeCr4(Core.CR4_KL);
            assertNotEquals(0, g.cpuid(0x19, 0).ebx() & KeyLockerUnit.EBX_AESKLE);
        });
    }

    @Test
    void guestLoadIwKeyKeySource1Gp() {
        Vm a = kvm().createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> {
            g.writeCr4(Core.CR4_KL);
            assertThrows(GeneralProtectionFault.class, () -> g.loadiwkey(2, 1, 1 << 1));
            assertThrows(GeneralProtectionFault.class, () -> g.loadiwkey(2, 1, 1 << 5));
            assertTrue(g.loadiwkey(2, 1, 1), "NoBackup is exposed");
        });
    }

    @Test
    void guestLoadIwKeyAtCpl3GpWithoutExit() {
        Vm a = kvm().createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> {
            g.writeCr4(Core.CR4_KL);
            int before = a.exits().size();
            g.setCpl(3);
            assertThrows(GeneralProtectionFault.class, () -> g.loadiwkey(2, 1, 0));
            assertEquals(before, a.exits().size(), "the CPL check has priority over the VM exit");
            g.setCpl(0);
        });
    }

    // ------------------------------------------------------------------ Key Locker virtualization

    @Test
    void guestIwKeyNeverVisibleToHostOrAnotherGuest() {
        Kvm kvm = kvm();
        Machine m = kvm.machine();
        Core host = m.core(0);
        host.writeCr4(Core.CR4_KL);
        host.xmm().set(9, Hw.bytes(16, 9));
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        Vm b = kvm.createVm("b", 1 << 20, 1, Kvm.VmOptions.defaults());
        byte[][] ha = new byte[1][];
        a.vcpu(0).run(0, g -> {
            guestLoadIwKey(g, IK);
            ha[0] = guestEncode(g);
            assertTrue(guestUse(g, ha[0]));
            g.store(0x2000, ha[0]);
        });
        // another guest on the same core, even with the same operands except the integrity key
        b.vcpu(0).run(0, g -> {
            g.writeCr4(Core.CR4_KL);
            assertFalse(guestUse(g, ha[0]), "a's handle is refused in b (reset IWKey)");
            guestLoadIwKey(g, Hw.bytes(16, 99));
            assertFalse(guestUse(g, ha[0]), "and under b's own IWKey");
        });
        b.vcpu(0).put();
        // the host on that core: its registers back, no guest IWKey in the core
        assertArrayEquals(Hw.bytes(16, 9), host.xmm().get(9));
        for (int i = 0; i < 3; i++) assertFalse(Arrays.equals(IK, host.xmm().get(i)));
        assertTrue(host.keyLocker().holdsResetKey(), "vcpu_put cleared the IWKey");
        host.xmm().set(5, PT);
        assertFalse(host.keyLocker().aesenc128kl(5, ha[0]));
        assertTrue(host.zf());
        // the guest's handle still works back in the guest, on another core
        a.vcpu(0).run(3, g -> assertTrue(guestUse(g, ha[0])));
        // no piece of a guest IWKey anywhere in modelled memory: all of DRAM raw (plaintext anywhere),
        // and every touched page as the host (KeyID 0: its own memory and its reads of guest frames)
        // and as guest b (b's KeyID) would read it; and no public API returns key bytes
        byte[][] iwKey = {IK, E_LO, E_HI};
        int[] views = {0, b.keyId()};
        assertNotEquals(0, b.keyId());
        assertNotEquals(a.keyId(), b.keyId());
        assertEquals(List.of(), sightings(m, views, iwKey));
        // the scan is live: the same bytes in host memory, or raw in DRAM, are found
        long hostPage = m.dram().size() - 4096, rawPage = m.dram().size() - 2 * 4096;
        m.pstore(0, hostPage + 100, 0, IK);
        m.dram().write(rawPage + 7, E_HI);
        List<String> seen = sightings(m, views, iwKey);
        assertTrue(seen.contains(String.format("KeyID 0 at 0x%x", hostPage + 100)), seen.toString());
        assertTrue(seen.contains(String.format("raw DRAM at 0x%x", rawPage + 7)), seen.toString());
        for (Method meth : IwKey.class.getMethods()) {
            if (Modifier.isPublic(meth.getModifiers())) assertNotEquals(byte[].class, meth.getReturnType(), meth.getName());
        }
    }

    @Test
    void vcpuSwitchesKeepEachGuestsIwKey() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        Vm b = kvm.createVm("b", 4096, 1, Kvm.VmOptions.defaults());
        byte[][] h = new byte[2][];
        a.vcpu(0).run(1, g -> {
            guestLoadIwKey(g, IK);
            h[0] = guestEncode(g);
        });
        b.vcpu(0).run(1, g -> {
            guestLoadIwKey(g, Hw.bytes(16, 5));
            h[1] = guestEncode(g);
        });
        for (int i = 0; i < 4; i++) {
            a.vcpu(0).run(1, g -> {
                assertTrue(guestUse(g, h[0]));
                assertFalse(guestUse(g, h[1]));
            });
            b.vcpu(0).run(1, g -> {
                assertTrue(guestUse(g, h[1]));
                assertFalse(guestUse(g, h[0]));
            });
        }
        assertEquals(1, count(a.exits(), VmExit.LOADIWKEY), "switches reload the IWKey without exits");
    }

    @Test
    void backupMsrsEmulatedPerVmWithShadowStatuses() {
        Kvm kvm = kvm();
        Machine m = kvm.machine();
        Vm a = kvm.createVm("a", 4096, 2, Kvm.VmOptions.defaults());
        Vm b = kvm.createVm("b", 4096, 1, Kvm.VmOptions.defaults());
        byte[][] h = new byte[1][];
        a.vcpu(0).run(0, g -> {
            guestLoadIwKey(g, IK);
            h[0] = guestEncode(g);
            assertEquals(0, g.rdmsr(KeyLockerMsrs.IA32_IWKEYBACKUP_STATUS));
            g.wrmsr(KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM, 1);
            assertEquals(KeyLockerMsrs.COPY_SUCCESS, g.rdmsr(KeyLockerMsrs.IA32_COPY_STATUS));
            assertEquals(KeyLockerPlatform.BACKUP_VALID, g.rdmsr(KeyLockerMsrs.IA32_IWKEYBACKUP_STATUS));
            assertThrows(GeneralProtectionFault.class, () -> g.wrmsr(KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM, 2));
            assertThrows(GeneralProtectionFault.class, () -> g.rdmsr(KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM));
        });
        assertFalse(m.keyLockerPlatform().valid(), "the real platform backup is untouched");
        a.vcpu(1).run(2, g -> {
            g.writeCr4(Core.CR4_KL);
            assertFalse(guestUse(g, h[0]));
            g.wrmsr(KeyLockerMsrs.IA32_COPY_PLATFORM_TO_LOCAL, 1);
            assertEquals(KeyLockerMsrs.COPY_SUCCESS, g.rdmsr(KeyLockerMsrs.IA32_COPY_STATUS));
            assertEquals(KeyLockerPlatform.BACKUP_VALID | KeyLockerPlatform.BACKUP_CONSUMED, g.rdmsr(KeyLockerMsrs.IA32_IWKEYBACKUP_STATUS));
            assertTrue(guestUse(g, h[0]), "restored on the VM's other vCPU");
        });
        b.vcpu(0).run(2, g -> {
            g.writeCr4(Core.CR4_KL);
            g.wrmsr(KeyLockerMsrs.IA32_COPY_PLATFORM_TO_LOCAL, 1);
            assertEquals(0, g.rdmsr(KeyLockerMsrs.IA32_COPY_STATUS), "b has no backup of its own");
            assertFalse(guestUse(g, h[0]));
        });
    }

    @Test
    void guestNoBackupKeyIsNotBackedUp() {
        Vm a = kvm().createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> {
            g.writeCr4(Core.CR4_KL);
            assertTrue(g.loadiwkey(2, 1, 1));
            assertEquals(1, g.encodekey128(0), "DEST reports NoBackup, KeySource 0");
            g.wrmsr(KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM, 1);
            assertEquals(0, g.rdmsr(KeyLockerMsrs.IA32_COPY_STATUS));
            assertEquals(0, g.rdmsr(KeyLockerMsrs.IA32_IWKEYBACKUP_STATUS));
        });
    }

    @Test
    void hostKeyLockerMeansNoneForGuests() {
        Machine m = Hw.machine();
        Kernel host = Kernel.boot(m, "");
        assertTrue(host.usesKeyLocker(), "the kernel sets Key Locker up at boot when CPUID enumerates it");
        Kvm kvm = Kvm.create(host);
        assertFalse(kvm.keyLockerForGuests());
        Vm a = kvm.createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        assertFalse(a.keyLocker());
        a.vcpu(0).run(0, g -> {
            assertEquals(0, g.cpuid(7, 0).ecx() & KeyLockerUnit.CPUID7_ECX_KL);
            assertEquals(0, g.cpuid(0x19, 0).ebx());
            assertThrows(GeneralProtectionFault.class, () -> g.writeCr4(Core.CR4_KL));
            assertThrows(InvalidOpcodeFault.class, () -> g.encodekey128(0));
            assertThrows(GeneralProtectionFault.class, () -> g.rdmsr(KeyLockerMsrs.IA32_COPY_STATUS));
        });
    }

    @Test
    void keyLockerVmsAreNotMigratable() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 4096, 1, Kvm.VmOptions.defaults());
        assertEquals("EOPNOTSUPP", assertThrows(KvmException.class, a::migrate).outcomeName());
    }

    @Test
    void roundRobinMovesVcpusAcrossCoresAndPackagesWithTheirKeys() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 1 << 20, 2, Kvm.VmOptions.defaults());
        Vm b = kvm.createVm("b", 1 << 20, 1, Kvm.VmOptions.defaults());
        List<Vcpu> all = List.of(a.vcpu(0), a.vcpu(1), b.vcpu(0));
        byte[][] handle = new byte[3][];
        int switches = kvm.runRoundRobin(all, new int[] {0, 2}, 6, (g, slice) -> {
            int id = g.vcpu().vm() == a ? g.vcpu().index() : 2;
            long gpa = 0x1000L * (id + 1);
            if (slice == 0) {
                guestLoadIwKey(g, Hw.bytes(16, 40 + id));
                handle[id] = guestEncode(g);
                g.store64(gpa, 1000 + id);
            } else {
                assertTrue(guestUse(g, handle[id]), "vCPU " + id + " slice " + slice + " on cpu" + g.vcpu().pcpu());
                assertEquals(1000 + id + slice - 1, g.load64(gpa), "memory written on another package reads back");
                g.store64(gpa, 1000 + id + slice);
            }
        });
        assertTrue(switches >= 12, "vCPUs shared the cores: " + switches);
        assertTrue(kvm.machine().checkInvariants().isEmpty(), kvm.machine().checkInvariants().toString());
        assertEquals(2, count(a.exits(), VmExit.LOADIWKEY));
    }

    @Test
    void destroyedVmsKeyIdIsClearedAndItsMemoryUnreadable() {
        Kvm kvm = kvm();
        Machine m = kvm.machine();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> g.store(0x4000, PT));
        long hpa = a.hpaOf(0x4000);
        int k = a.keyId();
        a.destroy();
        assertTrue(a.destroyed());
        for (var p : m.packages()) assertEquals(dev.memcrypt.hw.controller.KeyTable.Mode.TME, p.keyTable().get(k).mode(), "CLEAR_KEY on package " + p.id());
        assertFalse(Arrays.equals(PT, m.pload(0, hpa, k, 16)), "after CLEAR_KEY the KeyID no longer decrypts the old data");
        assertThrows(IllegalStateException.class, () -> a.vcpu(0).load(0));
    }

    @Test
    void guestIwKeySurvivesS3AndHotplugThroughVcpuPut() {
        Kvm kvm = kvm();
        Machine m = kvm.machine();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        byte[][] h = new byte[1][];
        a.vcpu(0).run(1, g -> {
            guestLoadIwKey(g, IK);
            h[0] = guestEncode(g);
            g.store(0x1000, PT);
        });
        kvm.suspendToRam();
        kvm.resumeFromRam();
        a.vcpu(0).run(1, g -> {
            assertArrayEquals(PT, g.load(0x1000, 16), "KeyID reprogrammed from the vault");
            assertTrue(guestUse(g, h[0]), "the vCPU's IWKey is reloaded at vcpu_load after resume");
            assertNotEquals(0, g.cr4() & Core.CR4_KL, "guest CR4 restored");
        });
        kvm.cpuOffline(1);
        a.vcpu(0).run(3, g -> assertTrue(guestUse(g, h[0])));
        assertEquals(1, count(a.exits(), VmExit.LOADIWKEY));
    }

    @Test
    void guestMemoryAfterS3NeedsItsKeyIdReprogrammed() {
        // S3 loses the key tables: without the hypervisor's reprogramming the KeyID falls back to the TME key
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> g.store(0x1000, PT));
        kvm.suspendToRam();
        kvm.machine().resumeFromRam();
        a.vcpu(0).run(0, g -> assertFalse(Arrays.equals(PT, g.load(0x1000, 16))));
    }

    @Test
    void packageHotplugReprogramsVmKeyIds() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(2, g -> g.store(0x1000, PT));
        kvm.cpuOffline(2);
        kvm.cpuOffline(3); // package 1 powers off and loses its key table
        kvm.cpuOnline(3);
        a.vcpu(0).run(3, g -> assertArrayEquals(PT, g.load(0x1000, 16)));
        assertTrue(kvm.machine().checkInvariants().isEmpty(), kvm.machine().checkInvariants().toString());
    }

    // ------------------------------------------------------------------ nested

    @Test
    void nestedLoadIwKeyExitReflectedToL1() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("l1", 1 << 20, 1, new Kvm.VmOptions(null, true, true));
        int[] l1Saw = new int[1];
        byte[][] h = new byte[1][];
        a.vcpu(0).run(0, l1 -> {
            assertNotEquals(0, l1.cpuid(1, 0).ecx() & Kvm.CPUID1_ECX_VMX);
            l1.writeCr4(l1.cr4() | Core.CR4_VMXE | Core.CR4_KL);
            assertEquals(1, l1.rdmsr(Kvm.IA32_VMX_PROCBASED_CTLS3) & 1, "LOADIWKEY exiting allowed for L2");
            l1.vmlaunch(Vmcs12.loadiwkeyExiting(), l2 -> {
                guestLoadIwKey(l2, IK);
                h[0] = guestEncode(l2);
                assertTrue(guestUse(l2, h[0]));
            }, (l1cpu, exit) -> {
                l1Saw[0] = exit.reason();
                // L1 emulates: it executes LOADIWKEY itself with L2's operands (traps to L0)
                return l1cpu.loadiwkey((int) exit.operands()[0], (int) exit.operands()[1], (int) exit.operands()[2]);
            });
        });
        assertEquals(VmExit.LOADIWKEY, l1Saw[0]);
        List<ExitRecord> t = a.exits();
        ExitRecord reflected = t.stream().filter(e -> e.level() == 2 && e.reason() == VmExit.LOADIWKEY).findFirst().orElseThrow();
        assertEquals("L1", reflected.handledBy());
        ExitRecord l1Exit = t.stream().filter(e -> e.level() == 1 && e.reason() == VmExit.LOADIWKEY).findFirst().orElseThrow();
        assertEquals("L0", l1Exit.handledBy());
        assertTrue(l1Exit.seq() > reflected.seq());
        assertTrue(t.stream().anyMatch(e -> e.reason() == VmExit.VMLAUNCH));
    }

    @Test
    void nestedWithoutL1ExitingL0HandlesLoadIwKey() {
        Kvm kvm = kvm();
        Vm a = kvm.createVm("l1", 1 << 20, 1, new Kvm.VmOptions(null, true, true));
        a.vcpu(0).run(0, l1 -> {
            l1.writeCr4(l1.cr4() | Core.CR4_VMXE);
            l1.vmlaunch(Vmcs12.noLoadiwkeyExiting(), l2 -> {
                guestLoadIwKey(l2, IK);
                assertTrue(guestUse(l2, guestEncode(l2)));
            }, (l1cpu, exit) -> {
                if (exit.reason() == VmExit.CPUID) return l1cpu.cpuid((int) exit.operands()[0], (int) exit.operands()[1]);
                throw new AssertionError("unexpected reflected exit " + exit.reason());
            });
        });
        ExitRecord l2 = a.exits().stream().filter(e -> e.level() == 2 && e.reason() == VmExit.LOADIWKEY).findFirst().orElseThrow();
        assertEquals("L0", l2.handledBy());
    }

    @Test
    void nestedLaunchNeedsVmxAndValidTertiaryControls() {
        Kvm kvm = kvm();
        Vm plain = kvm.createVm("plain", 4096, 1, Kvm.VmOptions.defaults());
        plain.vcpu(0).run(0, g -> {
            assertThrows(GeneralProtectionFault.class, () -> g.writeCr4(Core.CR4_VMXE));
            assertThrows(InvalidOpcodeFault.class, () -> g.vmlaunch(Vmcs12.noLoadiwkeyExiting(), l2 -> {}, (c, e) -> null));
        });
        Vm noKl = kvm.createVm("nokl", 4096, 1, new Kvm.VmOptions(null, false, true));
        noKl.vcpu(0).run(1, g -> {
            g.writeCr4(Core.CR4_VMXE);
            assertEquals(0, g.rdmsr(Kvm.IA32_VMX_PROCBASED_CTLS3));
            KvmException e = assertThrows(KvmException.class, () -> g.vmlaunch(Vmcs12.loadiwkeyExiting(), l2 -> {}, (c, x) -> null));
            assertEquals("VMfailValid", e.outcomeName());
        });
    }
}
