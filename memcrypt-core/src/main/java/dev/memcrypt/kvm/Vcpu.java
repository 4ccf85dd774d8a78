package dev.memcrypt.kvm;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.XmmFile;
import dev.memcrypt.hw.keylocker.IwKey;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;

/**
 * A virtual CPU: its saved register state while not loaded on a physical core, its Key Locker
 * state (seed 002: the IWKey a trapped LOADIWKEY gave it, opaque to the hypervisor's code, and the
 * shadow IA32_COPY_STATUS). {@link #load} / {@link #put} follow KVM's vcpu_load/vcpu_put: on load
 * the vCPU's registers and IWKey go into the core, on put they come out and the core's IWKey is
 * cleared, so nothing of this guest stays in the core for the host or the next guest.
 */
public final class Vcpu {
    private final Vm vm;
    private final int index;
    private final XmmFile xmm = new XmmFile();
    private long cr4;
    private long rflags = 0x2;
    int cpl;
    IwKey iwKey; // the vCPU's IWKey (reset value: all zero)
    long shadowCopyStatus;
    private Core core; // where it is loaded, or null

    Vcpu(Vm vm, int index) {
        this.vm = vm;
        this.index = index;
        this.iwKey = KeyLockerUnit.captureOperands(new XmmFile(), 2, 1, false); // all-zero reset IWKey
    }

    public Vm vm() {
        return vm;
    }

    public int index() {
        return index;
    }

    /** The physical core this vCPU is loaded on, or -1. */
    public int pcpu() {
        return core == null ? -1 : core.id();
    }

    Core core() {
        if (core == null) throw new IllegalStateException(vm.name() + "/vcpu" + index + " is not loaded on a physical CPU");
        return core;
    }

    /** Guest CPL. */
    public int cpl() {
        return cpl;
    }

    /** Guest CR4 (the saved value, or the core's while loaded). */
    public long cr4() {
        return core != null ? core.cr4() : cr4;
    }

    /** vcpu_load: puts whatever vCPU the core holds, saves the host's registers, installs this vCPU's state and IWKey. */
    public void load(int pcpu) {
        Kvm kvm = vm.kvm();
        if (vm.destroyed()) throw new IllegalStateException("VM " + vm.name() + " destroyed");
        if (core != null) {
            if (!core.online()) {
                throw new IllegalStateException(this + ": its cpu went offline without vcpu_put (use Kvm.cpuOffline / Kvm.suspendToRam)");
            }
            if (core.id() == pcpu) return;
            put();
        }
        Core c = kvm.machine().core(pcpu);
        if (!c.online()) throw new IllegalArgumentException("cpu " + pcpu + " is offline");
        Vcpu other = kvm.loadedOn(pcpu);
        if (other != null) other.put();
        kvm.saveHost(c);
        c.xmm().copyFrom(xmm);
        xmm.clear();
        c.setCpl(0);
        c.writeCr4(cr4);
        c.setRflags(rflags);
        if (vm.keyLocker()) c.keyLocker().vmmLoad(iwKey);
        kvm.setLoaded(pcpu, this);
        core = c;
    }

    /** vcpu_put: saves this vCPU's registers, clears its IWKey from the core and restores the host's registers. */
    public void put() {
        if (core == null) return;
        Core c = core;
        Kvm kvm = vm.kvm();
        xmm.copyFrom(c.xmm());
        cr4 = c.cr4();
        rflags = c.rflags();
        if (vm.keyLocker()) c.keyLocker().vmmLoad(null);
        kvm.restoreHost(c);
        kvm.setLoaded(c.id(), null);
        core = null;
    }

    /** Loads the vCPU on {@code pcpu} (if it is not there already) and runs guest code on it. */
    public void run(int pcpu, GuestProgram program) {
        load(pcpu);
        program.run(new GuestCpu(this, 1, null, null, null));
    }

    @Override
    public String toString() {
        return vm.name() + "/vcpu" + index + (core == null ? "" : " on cpu" + core.id());
    }
}
