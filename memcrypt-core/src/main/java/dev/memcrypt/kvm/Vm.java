package dev.memcrypt.kvm;

import dev.memcrypt.hw.keylocker.IwKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A virtual machine: guest-physical memory [0, memBytes) mapped by its {@link Ept} to host frames
 * under the VM's KeyID (its mktme key's, on which the VM holds a reference; shared with the VMs
 * of its key group: "clustering"), its vCPUs, and the
 * Key Locker state KVM keeps per VM (seed 002: the guest's IWKey backup in kvm_arch and the shadow
 * IA32_IWKEYBACKUP_STATUS). Guest memory is faulted in on first touch (EPT violation), zeroed
 * through the VM's KeyID.
 */
public final class Vm {
    private final Kvm kvm;
    private final String name;
    private final long memBytes;
    private final int keyId;
    private final int keySerial;
    private final String keyGroup;
    private final boolean keyLocker;
    private final boolean nested;
    private final Ept ept;
    private final List<Vcpu> vcpus = new ArrayList<>();
    final Map<Long, Long> frames = new LinkedHashMap<>(); // gpa page -> host frame (host bookkeeping)
    IwKey backup; // guest's "platform" backup, per VM
    long shadowBackupStatus;
    private boolean destroyed;

    Vm(Kvm kvm, String name, long memBytes, int vcpus, int keyId, int keySerial, String keyGroup, boolean keyLocker, boolean nested, Ept ept) {
        this.kvm = kvm;
        this.name = name;
        this.memBytes = memBytes;
        this.keyId = keyId;
        this.keySerial = keySerial;
        this.keyGroup = keyGroup;
        this.keyLocker = keyLocker;
        this.nested = nested;
        this.ept = ept;
        for (int i = 0; i < vcpus; i++) this.vcpus.add(new Vcpu(this, i));
    }

    public Kvm kvm() {
        return kvm;
    }

    public String name() {
        return name;
    }

    public long memBytes() {
        return memBytes;
    }

    /** The MKTME KeyID guest memory is encrypted under. */
    public int keyId() {
        return keyId;
    }

    /** The serial of the host's mktme key whose KeyID this VM references. */
    public int keySerial() {
        return keySerial;
    }

    /** The key group (cluster) sharing this VM's KeyID, or null for a KeyID of its own. */
    public String keyGroup() {
        return keyGroup;
    }

    /** Whether Key Locker is exposed to this guest. */
    public boolean keyLocker() {
        return keyLocker;
    }

    /** Whether the guest may run its own (nested) guests. */
    public boolean nested() {
        return nested;
    }

    public Ept ept() {
        return ept;
    }

    public Vcpu vcpu(int i) {
        if (i < 0 || i >= vcpus.size()) throw new IllegalArgumentException("VM " + name + " has no vcpu " + i + " (0.." + (vcpus.size() - 1) + ")");
        return vcpus.get(i);
    }

    public List<Vcpu> vcpus() {
        return Collections.unmodifiableList(vcpus);
    }

    /** The host frame backing guest page {@code gpa}, or -1 if not faulted in (host-side bookkeeping, like KVM's memslots). */
    public long hpaOf(long gpa) {
        Long f = frames.get(gpa & ~0xfffL);
        return f == null ? -1 : f | (gpa & 0xfff);
    }

    /** This VM's exits in the hypervisor's trace. */
    public List<ExitRecord> exits() {
        return kvm.trace().stream().filter(e -> e.vm().equals(name)).toList();
    }

    /**
     * Live migration. Refused with EOPNOTSUPP when Key Locker is exposed: the vCPUs' IWKeys would
     * have to leave the hypervisor (seed 002: "we don't suggest this feature to be migratable").
     * Without Key Locker the model has nothing more to offer either (EOPNOTSUPP, not modelled).
     */
    public void migrate() {
        if (keyLocker) throw new KvmException("EOPNOTSUPP", "VM " + name + " uses Key Locker and is not migratable");
        throw new KvmException("EOPNOTSUPP", "live migration is not modelled");
    }

    /** Destroys the VM: puts its vCPUs, flushes and frees its memory, drops its KeyID reference. */
    public void destroy() {
        if (destroyed) return;
        kvm.destroy(this);
        destroyed = true;
    }

    public boolean destroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "Vm[" + name + ", KeyID " + keyId + (keyGroup == null ? "" : " group " + keyGroup) + (keyLocker ? ", Key Locker" : "") + "]";
    }
}
