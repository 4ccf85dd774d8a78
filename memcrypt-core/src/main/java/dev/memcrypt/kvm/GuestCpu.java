package dev.memcrypt.kvm;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.VmExit;
import dev.memcrypt.hw.cpu.XmmFile;
import dev.memcrypt.hw.keylocker.Handle;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * What guest code can do on its vCPU. Each instruction runs on the physical core in VMX non-root
 * operation under the controls KVM chose; when it exits ({@link VmExit}) the core returns to root
 * operation, {@link Kvm} handles the exit (traced) and either completes the instruction for the
 * guest or resumes it (after an EPT violation was fixed), or injects a fault, which the guest code
 * receives as the exception. Key Locker instructions other than LOADIWKEY never exit.
 *
 * <p>Guest memory: the guest runs with paging off, so its addresses are guest-physical; accesses
 * go through the VM's EPT walk and then the core's caches under the KeyID in the EPT entry. A
 * nested (L2) guest shares its L1's guest-physical space (the model has no nested EPT).
 */
public final class GuestCpu {
    private final Vcpu vcpu;
    private final int level;
    private final Vmcs12 vmcs12;
    private final L1ExitHandler l1Handler;
    private final GuestCpu l1;

    GuestCpu(Vcpu vcpu, int level, Vmcs12 vmcs12, L1ExitHandler l1Handler, GuestCpu l1) {
        this.vcpu = vcpu;
        this.level = level;
        this.vmcs12 = vmcs12;
        this.l1Handler = l1Handler;
        this.l1 = l1;
    }

    public Vcpu vcpu() {
        return vcpu;
    }

    /** 1 for a guest of this hypervisor, 2 for a nested guest. */
    public int level() {
        return level;
    }

    Vmcs12 vmcs12() {
        return vmcs12;
    }

    L1ExitHandler l1Handler() {
        return l1Handler;
    }

    GuestCpu l1() {
        return l1;
    }

    private Core core() {
        return vcpu.core();
    }

    /** Runs one guest instruction in non-root operation, handling exits until it completes. */
    @SuppressWarnings("unchecked")
    <T> T exec(long[] operands, Supplier<T> insn) {
        Kvm kvm = vcpu.vm().kvm();
        while (true) {
            Core c = core();
            c.vmEnter(kvm.controlsFor(this));
            c.setCpl(vcpu.cpl);
            Object r;
            try {
                return insn.get();
            } catch (VmExit e) {
                c.vmExitToRoot();
                c.setCpl(0);
                r = kvm.handleExit(this, e, operands);
            } finally {
                if (c.vmx() != null) c.vmExitToRoot();
                c.setCpl(0);
            }
            if (r != Kvm.RETRY) return (T) r;
        }
    }

    // ------------------------------------------------------------------ registers and privilege

    /** The guest's XMM registers (the core's, while the vCPU is loaded). */
    public XmmFile xmm() {
        return core().xmm();
    }

    public long rflags() {
        return core().rflags();
    }

    public boolean zf() {
        return core().zf();
    }

    /** Changes the guest's privilege level (its kernel entering user mode and back). */
    public void setCpl(int cpl) {
        if (cpl < 0 || cpl > 3) throw new IllegalArgumentException("CPL must be 0..3, got " + cpl);
        vcpu.cpl = cpl;
    }

    public CpuidResult cpuid(int leaf, int subleaf) {
        return exec(new long[] {leaf, subleaf}, () -> core().cpuid(leaf, subleaf));
    }

    public long rdmsr(long msr) {
        return exec(new long[] {msr}, () -> core().rdmsr(msr));
    }

    public void wrmsr(long msr, long value) {
        exec(new long[] {msr, value}, () -> {
            core().wrmsr(msr, value);
            return null;
        });
    }

    public long cr4() {
        return core().cr4();
    }

    public void writeCr4(long v) {
        exec(new long[] {v}, () -> {
            core().writeCr4(v);
            return null;
        });
    }

    /** VMCALL: a hypercall to this vCPU's hypervisor; returns RAX. */
    public long vmcall(long nr) {
        return exec(new long[] {nr}, () -> {
            throw new VmExit(VmExit.VMCALL, nr, "VMCALL");
        });
    }

    public void hlt() {
        exec(new long[0], () -> {
            throw new VmExit(VmExit.HLT, 0, "HLT");
        });
    }

    // ------------------------------------------------------------------ Key Locker

    public boolean loadiwkey(int src1, int src2, int eax) {
        return exec(new long[] {src1, src2, eax}, () -> core().keyLocker().loadiwkey(src1, src2, eax));
    }

    public int encodekey128(int src) {
        return exec(new long[] {src}, () -> core().keyLocker().encodekey128(src));
    }

    public int encodekey256(int src) {
        return exec(new long[] {src}, () -> core().keyLocker().encodekey256(src));
    }

    public boolean aesenc128kl(int reg, byte[] h) {
        return exec(new long[] {reg}, () -> core().keyLocker().aesenc128kl(reg, h));
    }

    public boolean aesdec128kl(int reg, byte[] h) {
        return exec(new long[] {reg}, () -> core().keyLocker().aesdec128kl(reg, h));
    }

    public boolean aesenc256kl(int reg, byte[] h) {
        return exec(new long[] {reg}, () -> core().keyLocker().aesenc256kl(reg, h));
    }

    public boolean aesdec256kl(int reg, byte[] h) {
        return exec(new long[] {reg}, () -> core().keyLocker().aesdec256kl(reg, h));
    }

    public boolean aesencwide128kl(byte[] h) {
        return exec(new long[0], () -> core().keyLocker().aesencwide128kl(h));
    }

    public boolean aesdecwide128kl(byte[] h) {
        return exec(new long[0], () -> core().keyLocker().aesdecwide128kl(h));
    }

    /** The handle ENCODEKEY128 (3 registers) or ENCODEKEY256 (4) just left in XMM0.. (a guest's MOVDQU to memory). */
    public byte[] handleFromXmm(int keyType) {
        int regs = keyType == Handle.KEYTYPE_AES256 ? 4 : 3;
        byte[] h = new byte[16 * regs];
        for (int i = 0; i < regs; i++) System.arraycopy(xmm().raw(i), 0, h, 16 * i, 16);
        return h;
    }

    // ------------------------------------------------------------------ memory (guest-physical)

    public void store(long gpa, byte[] data) {
        exec(new long[] {gpa}, () -> {
            vcpu.vm().kvm().guestAccess(this, gpa, data, true);
            return null;
        });
    }

    public byte[] load(long gpa, int len) {
        byte[] out = new byte[len];
        exec(new long[] {gpa}, () -> {
            vcpu.vm().kvm().guestAccess(this, gpa, out, false);
            return null;
        });
        return out;
    }

    public long load64(long gpa) {
        byte[] b = load(gpa, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (b[i] & 0xff);
        return v;
    }

    public void store64(long gpa, long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) b[i] = (byte) (v >>> (8 * i));
        store(gpa, b);
    }

    // ------------------------------------------------------------------ nested VMX

    /**
     * VMLAUNCH of an L2 guest with {@code controls} (the L1 hypervisor's VMCS12): exits to L0, which
     * merges the controls into the VMCS02 and runs {@code l2} on this vCPU. Exits of L2 that L1 asked
     * for (LOADIWKEY exiting in its tertiary controls, MSRs in its bitmap, CPUID always) are reflected
     * to {@code handler}, which runs as L1; the rest L0 handles itself. Returns when L2 finishes.
     */
    public void vmlaunch(Vmcs12 controls, GuestProgram l2, L1ExitHandler handler) {
        if (level != 1) throw new IllegalStateException("the model nests one level (L1 launching L2)");
        if (controls == null || l2 == null || handler == null) throw new IllegalArgumentException("vmlaunch needs controls, an L2 program and an exit handler");
        vcpu.vm().kvm().nestedLaunch(this, controls);
        int saved = vcpu.cpl;
        try {
            l2.run(new GuestCpu(vcpu, 2, controls, handler, this));
        } finally {
            vcpu.cpl = saved;
        }
    }

    @Override
    public String toString() {
        return "GuestCpu[" + vcpu + ", L" + level + "]";
    }

    static byte[] copy(byte[] b) {
        return Arrays.copyOf(b, b.length);
    }
}
