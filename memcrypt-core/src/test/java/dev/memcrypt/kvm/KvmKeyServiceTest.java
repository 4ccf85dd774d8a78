package dev.memcrypt.kvm;

import static dev.memcrypt.kernel.mm.Mman.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeInvariants;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeOptions;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** VM memory keys are the host kernel's mktme keys: one KeyID pool, one reference counter, the kernel's hotplug/resume path. */
class KvmKeyServiceTest {
    static final byte[] PT = Hw.bytes(16, 91);

    /** One package (type=cpu keys are per package), 3 KeyIDs. */
    static Machine small() {
        return Machine.powerOn(MachineConfig.defaults().with("packages", "1").with("l1", "4K").with("llc", "64K").with("dram", "128M")
                .with("keyid_bits", "2").with("max_keyid_bits", "2"));
    }

    static int addKey(Kernel k, Task t, String opts) throws ErrnoException {
        return k.keys().addKey(t, "mktme", "k" + System.nanoTime(), opts.getBytes(StandardCharsets.US_ASCII), KeyService.KEY_SPEC_THREAD_KEYRING);
    }

    @Test
    void processKeysAndVmKeysDrawFromOneKeyIdPool() throws Exception {
        Machine m = small();
        Kernel kernel = Kernel.boot(m, "mktme_savekeys clearcpuid=keylocker");
        MmKernel mm = MmKernel.attach(kernel, MmKernel.Options.defaults());
        Kvm kvm = Kvm.create(kernel, new FrameAllocator(64L << 20, m.frameAllocator().end()));
        MktmeKeyIds ids = kernel.mktme().keyIds();
        assertEquals(3, ids.nrKeyIds());

        Process p = mm.spawn(Cred.root());
        Task t = p.mainThread();
        int procKey = addKey(kernel, t, "type=cpu algorithm=aes-xts-128");
        long a = mm.mmap(p, 0, PAGE, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        mm.encryptMprotect(t, a, PAGE, PROT_READ | PROT_WRITE, procKey);
        int procKeyId = MktmeInvariantsHelper.keyIdOf(kernel, procKey);

        Vm v1 = kvm.createVm("v1", 1 << 20, 1, Kvm.VmOptions.defaults());
        Vm v2 = kvm.createVm("v2", 1 << 20, 1, new Kvm.VmOptions("g", false, false));
        Vm v3 = kvm.createVm("v3", 1 << 20, 1, new Kvm.VmOptions("g", false, false));
        assertEquals(v2.keyId(), v3.keyId(), "clustering: one key, one KeyID");
        assertEquals(v2.keySerial(), v3.keySerial());
        assertEquals(3, java.util.stream.IntStream.of(procKeyId, v1.keyId(), v2.keyId()).distinct().count(), "three keys, three KeyIDs");
        assertEquals(0, ids.available());

        // exhausted by the two together: both sides see ENOKEY
        assertEquals("ENOKEY", assertThrows(KvmException.class, () -> kvm.createVm("v4", 4096, 1, Kvm.VmOptions.defaults())).outcomeName());
        assertEquals(Errno.ENOKEY, assertThrows(ErrnoException.class, () -> addKey(kernel, t, "type=cpu algorithm=aes-xts-128")).errno());
        assertEquals(0, ids.available(), "the failed attempts leaked nothing");

        // references: VMAs + VMs + live keys, per KeyID
        assertEquals(2, ids.refCount(procKeyId), "key + VMA");
        assertEquals(2, ids.refCount(v1.keyId()), "key + VM");
        assertEquals(3, ids.refCount(v2.keyId()), "key + two clustered VMs");
        assertRefsMatch(kernel, kvm, Map.of(procKeyId, 1));

        // a VM may use the process's key: one more reference on the same KeyID
        v1.destroy();
        Vm v5 = kvm.createVm("v5", 1 << 20, 1, Kvm.VmOptions.defaults().withKey(procKey));
        assertEquals(procKeyId, v5.keyId());
        assertEquals(3, ids.refCount(procKeyId), "key + VMA + VM");
        assertEquals(Errno.EBUSY, assertThrows(ErrnoException.class,
                () -> kernel.keys().update(t, procKey, "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.US_ASCII))).errno());
        assertRefsMatch(kernel, kvm, Map.of(procKeyId, 1));

        // the key goes; the KeyID stays until its VMA and VM let go
        kernel.keys().invalidate(t, procKey);
        assertEquals(MktmeKeyIds.State.REF_KILLED, ids.state(procKeyId));
        assertEquals(2, ids.refCount(procKeyId));
        mm.munmap(p, a, PAGE);
        assertEquals(1, ids.refCount(procKeyId));
        v5.vcpu(0).run(0, g -> g.store(0x1000, PT));
        v5.destroy();
        assertEquals(MktmeKeyIds.State.AVAILABLE, ids.state(procKeyId));
        assertEquals(2, ids.available(), "v1's key went with v1 (KVM added it), the process key with its last user");
        assertRefsMatch(kernel, kvm, Map.of());

        // the group's key outlives one of its VMs
        v2.destroy();
        assertEquals(2, ids.refCount(v3.keyId()));
        v3.destroy();
        assertEquals(3, ids.available());
        assertRefsMatch(kernel, kvm, Map.of());
        assertTrue(kernel.keys().liveKeys().stream().noneMatch(k -> k.type() == kernel.mktme()), "KVM's keys are gone");
    }

    static void assertRefsMatch(Kernel kernel, Kvm kvm, Map<Integer, Integer> vmaRefs) {
        Map<Integer, Integer> extra = new HashMap<>(vmaRefs);
        kvm.keyIdReferences().forEach((k, n) -> extra.merge(k, n, Integer::sum));
        var v = MktmeInvariants.check(kernel.keys(), kernel.mktme(), pkg -> kernel.machine().pkg(pkg).keyTable(), extra);
        assertTrue(v.isEmpty(), v.toString());
    }

    /** Reads a key's KeyID as root (the payload is the mktme key record). */
    static final class MktmeInvariantsHelper {
        static int keyIdOf(Kernel k, int serial) {
            var key = k.keys().acquire(serial);
            try {
                return dev.memcrypt.kernel.keys.mktme.MktmeKeyType.keyIdOf(key);
            } finally {
                k.keys().release(key);
            }
        }
    }

    @Test
    void vmKeysAreMktmeKeysTheHostCanDescribe() throws Exception {
        Kvm kvm = Kvm.create(Hw.machine());
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        Kernel host = kvm.host();
        String d = host.keys().describe(host.initTask(), a.keySerial());
        assertTrue(d.startsWith("mktme;0;0;"), d);
        assertTrue(d.endsWith(";kvm:vm:a"), d);
        assertEquals(MktmeOptions.Type.USER, host.mktme().programmedType(a.keyId()));
        assertTrue(host.mktme().vaulted(a.keyId()), "the implicit host boots with mktme_savekeys");
    }

    @Test
    void explicitKeyAndGroupMustAgree() throws Exception {
        Kvm kvm = Kvm.create(Hw.machine());
        Kernel host = kvm.host();
        int serial = addKey(host, host.initTask(), "type=user algorithm=aes-xts-128 key=" + "11".repeat(16) + " tweak=" + "22".repeat(16));
        Vm a = kvm.createVm("a", 4096, 1, new Kvm.VmOptions("g", false, false, serial, null));
        Vm b = kvm.createVm("b", 4096, 1, new Kvm.VmOptions("g", false, false));
        assertEquals(serial, b.keySerial());
        assertEquals("EINVAL", assertThrows(KvmException.class, () -> kvm.createVm("c", 4096, 1, new Kvm.VmOptions("g", false, false, serial + 1, null))).outcomeName());
        assertEquals("ENOKEY", assertThrows(KvmException.class, () -> kvm.createVm("d", 4096, 1, Kvm.VmOptions.defaults().withKey(999999))).outcomeName());
        a.destroy();
        b.destroy();
        assertNotNull(host.keys().acquire(serial), "a key the caller named outlives its VMs");
        int k = MktmeInvariantsHelper.keyIdOf(host, serial);
        assertEquals(1, host.mktme().keyIds().refCount(k));
    }

    @Test
    void destroyingAnAddedKeysLastVmClearsItsKeyIdEverywhere() {
        Kvm kvm = Kvm.create(Hw.machine());
        Machine m = kvm.machine();
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        a.vcpu(0).run(0, g -> g.store(0x4000, PT));
        int k = a.keyId();
        a.destroy();
        for (var p : m.packages()) assertEquals(KeyTable.Mode.TME, p.keyTable().get(k).mode());
        assertEquals(MktmeKeyIds.State.AVAILABLE, kvm.host().mktme().keyIds().state(k));
    }

    @Test
    void s3ResumeReprogramsVmKeysFromTheKernelVault() {
        Kvm kvm = Kvm.create(Hw.machine());
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        Vm b = kvm.createVm("b", 1 << 20, 1, new Kvm.VmOptions(null, false, false, 0, "cpu"));
        a.vcpu(0).run(0, g -> g.store(0x1000, PT));
        b.vcpu(0).run(0, g -> g.store(0x1000, PT));
        kvm.suspendToRam();
        assertEquals(java.util.List.of(), kvm.resumeFromRam());
        a.vcpu(0).run(2, g -> assertArrayEquals(PT, g.load(0x1000, 16), "user key from the mktme_savekeys vault, on both packages"));
        b.vcpu(0).run(0, g -> assertFalse(Arrays.equals(PT, g.load(0x1000, 16)), "type=cpu: a fresh random key after S3, the old contents are gone"));
        assertTrue(kvm.host().dmesg().contains("PM: suspend exit"));
    }

    @Test
    void withoutSaveKeysAPackageWithVmKeysCannotComeOnlineAndResumeLosesThem() {
        Machine m = Hw.machine();
        Kernel host = Kernel.boot(m, "clearcpuid=keylocker");
        Kvm kvm = Kvm.create(host);
        Vm a = kvm.createVm("a", 1 << 20, 1, Kvm.VmOptions.defaults());
        kvm.cpuOffline(2);
        kvm.cpuOffline(3);
        assertEquals("EPERM", assertThrows(KvmException.class, () -> kvm.cpuOnline(3)).outcomeName());
        assertFalse(m.core(3).online(), "the kernel took the refused cpu offline again");
        kvm.suspendToRam();
        assertEquals(java.util.List.of(a.keyId()), kvm.resumeFromRam());
        assertTrue(host.dmesg().stream().anyMatch(l -> l.contains("KeyID " + a.keyId() + " lost its key")), host.dmesg().toString());
    }

    @Test
    void outOfFramesLeavesNoKeyIdReferenceOrKey() {
        Machine m = Hw.machine();
        Kernel host = Kernel.boot(m, Kvm.IMPLICIT_HOST_CMDLINE);
        Kvm kvm = Kvm.create(host, new FrameAllocator(1L << 20, (1L << 20) + 4096 * 4));
        kvm.createVm("a", 4096, 1, Kvm.VmOptions.defaults()); // the EPT root frame
        int before = host.mktme().keyIds().available();
        for (int i = 0; i < 3; i++) kvm.createVm("x" + i, 4096, 1, Kvm.VmOptions.defaults());
        assertThrows(IllegalStateException.class, () -> kvm.createVm("y", 4096, 1, Kvm.VmOptions.defaults()));
        assertEquals(before - 3, host.mktme().keyIds().available(), "the failed VM's key and KeyID are gone");
        assertRefsMatch(host, kvm, Map.of());
    }

    @Test
    void kvmKeepsNoKeyBytes() {
        for (Field f : Kvm.class.getDeclaredFields()) {
            String t = f.getType().getName();
            assertFalse(t.contains("XtsKey") || (f.getType() == Map.class && f.getName().contains("vault")), "KVM field " + f.getName() + " holds keys");
        }
        for (Field f : Vm.class.getDeclaredFields()) assertFalse(f.getType().getName().contains("XtsKey"), f.getName());
    }
}
