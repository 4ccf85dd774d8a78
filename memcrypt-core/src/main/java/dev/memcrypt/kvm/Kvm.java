package dev.memcrypt.kvm;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.InvalidOpcodeFault;
import dev.memcrypt.hw.cpu.VmExit;
import dev.memcrypt.hw.cpu.VmxNonRoot;
import dev.memcrypt.hw.cpu.XmmFile;
import dev.memcrypt.hw.keylocker.IwKey;
import dev.memcrypt.hw.keylocker.KeyLockerMsrs;
import dev.memcrypt.hw.keylocker.KeyLockerPlatform;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.task.Task;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hypervisor (a model of KVM on VMX with MKTME and Key Locker).
 *
 * <h2>Memory encryption: VM keys are mktme keys</h2>
 * KVM runs on a booted host {@link Kernel} and takes its KeyIDs from the kernel's mktme key service,
 * as in the MKTME thread: a VM's memory key is an mktme key. Either the caller names one
 * ({@link VmOptions#keySerial}, any mktme key the host root task can view), or KVM, as host root,
 * adds one ({@code add_key("mktme", "kvm:...", "type=user algorithm=aes-xts-128 key=.. tweak=..")}
 * with random bytes from the platform entropy, wiped after use; or {@code type=cpu} on request).
 * Each VM then holds one reference on the key's KeyID through the same counter a VMA uses
 * ({@link dev.memcrypt.kernel.keys.mktme.MktmeKeyIds#get}/{@code put}), so the KeyID is free only
 * when the key is gone and no VM or VMA references it. Clustering: the VMs of a key group share
 * one key serial and so one KeyID. Its EPT leaf entries carry that KeyID, so all guest memory is
 * encrypted under it in DRAM. Destroying a VM flushes its lines, frees its frames and drops its
 * reference; with the last VM on a key KVM added, KVM updates that key to {@code type=clear}
 * (CLEAR_KEY everywhere, after WBINVD: the flush rule of SPEC-FACTS §1) and invalidates it.
 *
 * <p>Why user-type keys by default: the model decrypts with the accessing package's key table, so
 * type=cpu (a different random key per package) only works while a VM's vCPUs stay on one package,
 * and does not survive S3. Reprogramming after S3 or a package's power-up is the kernel's
 * (hotplug path, mktme_savekeys vault); KVM keeps no key bytes. {@link #create(Machine)} boots a
 * host kernel with {@code mktme_savekeys clearcpuid=keylocker} for callers that have none.
 *
 * <h2>Key Locker virtualization (seed 002)</h2>
 * Guest LOADIWKEY exits (tertiary control "LOADIWKEY exiting", exit reason 69); KVM captures the
 * operands into the vCPU's opaque IWKey and loads it into the core; vcpu_load/vcpu_put load it and
 * clear it. The backup MSRs exit and are emulated per VM with shadow statuses. KeySource 1 is not
 * exposed (CPUID.19H:ECX[1] = 0; LOADIWKEY with it gets #GP). Host and guests use Key Locker
 * exclusively: a host kernel with Key Locker enabled means no Key Locker for guests. VMs with Key
 * Locker cannot migrate. Nested: an L1 may set LOADIWKEY exiting for its L2
 * (IA32_VMX_PROCBASED_CTLS3 reports it), and L0 reflects those exits to L1.
 *
 * <p>Every exit is traced ({@link #trace()}). Not thread-safe, like the machine.
 */
public final class Kvm {
    static final Object RETRY = new Object();
    /** IA32_VMX_PROCBASED_CTLS3: allowed-1 settings of the tertiary controls (SDM Vol. 3D A.3.4). */
    public static final int IA32_VMX_PROCBASED_CTLS3 = 0x492;
    /** CPUID.1:ECX[5]: VMX. */
    public static final int CPUID1_ECX_VMX = 1 << 5;

    /**
     * Options of a new VM. {@code keyGroup}: the cluster sharing one key (null: none);
     * {@code keySerial}: an existing mktme key to use (0: the group's, or one KVM adds);
     * {@code keyType}: the type of a key KVM adds, "user" (default) or "cpu".
     */
    public record VmOptions(String keyGroup, boolean keyLocker, boolean nested, int keySerial, String keyType) {
        public VmOptions {
            if (keySerial < 0) throw new IllegalArgumentException("key serial must be positive, got " + keySerial);
            if (keyType == null) keyType = "user";
            if (!keyType.equals("user") && !keyType.equals("cpu")) throw new IllegalArgumentException("VM key type must be user or cpu, got '" + keyType + "'");
        }

        public VmOptions(String keyGroup, boolean keyLocker, boolean nested) {
            this(keyGroup, keyLocker, nested, 0, "user");
        }

        public static VmOptions defaults() {
            return new VmOptions(null, true, false);
        }

        public VmOptions withKey(int serial) {
            return new VmOptions(keyGroup, keyLocker, nested, serial, keyType);
        }
    }

    private final Kernel host;
    private final Task hostTask; // host root: adds and views the VM keys
    private final Machine machine;
    private final FrameAllocator frames;
    private final boolean klForGuests;
    private final Map<String, Vm> vms = new LinkedHashMap<>();
    private final Map<String, Integer> groups = new HashMap<>(); // key group -> key serial
    private final Map<Integer, Integer> vmsOnKey = new HashMap<>(); // key serial -> VMs using it
    private final java.util.Set<Integer> addedKeys = new java.util.HashSet<>(); // serials KVM added (it clears and invalidates them)
    private final List<ExitRecord> trace = new ArrayList<>();
    private final Vcpu[] loaded;
    private final XmmFile[] hostXmm;
    private final long[] hostCr4;
    private final long[] hostRflags;
    private final int[] hostCpl;
    private long seq;

    private Kvm(Kernel host, FrameAllocator frames, boolean klForGuests) {
        this.host = host;
        this.hostTask = host.initTask();
        this.machine = host.machine();
        this.frames = frames;
        this.klForGuests = klForGuests;
        int n = machine.cores().size();
        loaded = new Vcpu[n];
        hostXmm = new XmmFile[n];
        hostCr4 = new long[n];
        hostRflags = new long[n];
        hostCpl = new int[n];
        for (int i = 0; i < n; i++) hostXmm[i] = new XmmFile();
    }

    /**
     * KVM on the booted {@code host} kernel's machine, with guest memory and EPT tables from
     * {@code frames}. VM keys come from the host's mktme key service. When the host uses Key Locker
     * ({@link Kernel#usesKeyLocker()}), guests get none (exclusive use, seed 002).
     */
    public static Kvm create(Kernel host, FrameAllocator frames) {
        if (host == null || frames == null) throw new IllegalArgumentException("host kernel and frames are required");
        boolean kl = host.machine().config().keyLocker() && !host.usesKeyLocker();
        return new Kvm(host, frames, kl);
    }

    /** KVM on the booted {@code host}, owning the machine's whole free frame range. */
    public static Kvm create(Kernel host) {
        if (host == null) throw new IllegalArgumentException("host kernel is required");
        return create(host, host.machine().frameAllocator());
    }

    /** Boot arguments of the host kernel {@link #create(Machine)} boots: VM keys survive S3 and hotplug, Key Locker left to guests. */
    public static final String IMPLICIT_HOST_CMDLINE = "mktme_savekeys clearcpuid=keylocker";

    /** KVM on a host kernel booted on {@code machine} with {@link #IMPLICIT_HOST_CMDLINE}. */
    public static Kvm create(Machine machine) {
        if (machine == null) throw new IllegalArgumentException("machine is required");
        return create(Kernel.boot(machine, IMPLICIT_HOST_CMDLINE));
    }

    /** The host kernel KVM runs on. */
    public Kernel host() {
        return host;
    }

    public Machine machine() {
        return machine;
    }

    /** Whether Key Locker can be exposed to guests (enumerated, and the host does not use it). */
    public boolean keyLockerForGuests() {
        return klForGuests;
    }

    /** All VM exits so far, in order. */
    public List<ExitRecord> trace() {
        return List.copyOf(trace);
    }

    public Vm vm(String name) {
        Vm v = vms.get(name);
        if (v == null) throw new IllegalArgumentException("no VM named '" + name + "'");
        return v;
    }

    public List<Vm> vms() {
        return List.copyOf(vms.values());
    }

    // ------------------------------------------------------------------ VMs and KeyIDs

    /**
     * Creates a VM: its key (the named one, its group's, or one KVM adds as host root), a reference
     * on that key's KeyID, EPT, vCPUs. Key Locker is exposed if asked for and available. ENOKEY when
     * no KeyID is free, programming fails, there is no entropy, MKTME is off, or the named serial is
     * not a live mktme key; EACCES when host root may not view it; EINVAL for a group bound to
     * another key.
     */
    public Vm createVm(String name, long memBytes, int vcpus, VmOptions opts) {
        if (name == null || name.isBlank() || vms.containsKey(name)) throw new IllegalArgumentException("VM name '" + name + "' empty or taken");
        if (memBytes <= 0 || (memBytes & 0xfff) != 0) throw new IllegalArgumentException("guest memory must be a positive multiple of 4096, got " + memBytes);
        if (vcpus < 1 || vcpus > 64) throw new IllegalArgumentException("vcpus must be 1..64, got " + vcpus);
        if (opts == null) opts = VmOptions.defaults();
        MktmeKeyType mktme = host.mktme();
        if (mktme == null) throw new KvmException("ENOKEY", "the host kernel has no mktme key service (MKTME not enabled)");
        String group = opts.keyGroup();
        Integer bound = group == null ? null : groups.get(group);
        int serial = opts.keySerial();
        if (serial != 0 && bound != null && bound != serial) throw new KvmException("EINVAL", "key group " + group + " uses key " + bound + ", not " + serial);
        if (serial == 0 && bound != null) serial = bound;
        boolean added = false;
        if (serial == 0) {
            serial = addVmKey(group != null ? "kvm:group:" + group : "kvm:vm:" + name, opts.keyType());
            added = true;
        }
        int keyId;
        try {
            keyId = mktme.acquireKeyIdForTask(host.keys(), hostTask, serial);
        } catch (ErrnoException e) {
            if (added) dropKey(serial, false);
            throw new KvmException(e.errno().name(), "key " + serial + " gives no KeyID for VM " + name);
        }
        Ept ept;
        try {
            ept = new Ept(machine, frames, hostCpu());
        } catch (RuntimeException e) { // out of frames: nothing may stay referenced
            mktme.keyIds().put(keyId);
            if (added) dropKey(serial, false);
            throw e;
        }
        if (added) addedKeys.add(serial);
        if (group != null) groups.putIfAbsent(group, serial);
        vmsOnKey.merge(serial, 1, Integer::sum);
        Vm vm = new Vm(this, name, memBytes, vcpus, keyId, serial, group, opts.keyLocker() && klForGuests, opts.nested(), ept);
        vms.put(name, vm);
        return vm;
    }

    /**
     * add_key("mktme") as host root into its user keyring, with key bytes from the platform entropy
     * for type=user. The payload is built as bytes (no String holds key hex) and wiped after.
     */
    private int addVmKey(String description, String type) {
        byte[] k = new byte[32];
        byte[] payload;
        if (type.equals("user")) {
            byte[] head = "type=user algorithm=aes-xts-128 key=".getBytes(StandardCharsets.US_ASCII);
            byte[] mid = " tweak=".getBytes(StandardCharsets.US_ASCII);
            payload = new byte[head.length + 32 + mid.length + 32];
            if (!machine.entropy().fill(k)) throw new KvmException("ENOKEY", "no entropy for the VM key");
            System.arraycopy(head, 0, payload, 0, head.length);
            hex(k, 0, payload, head.length);
            System.arraycopy(mid, 0, payload, head.length + 32, mid.length);
            hex(k, 16, payload, head.length + 32 + mid.length);
        } else {
            payload = "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.US_ASCII);
        }
        try {
            return host.keys().addKey(hostTask, "mktme", description, payload, KeyService.KEY_SPEC_USER_KEYRING);
        } catch (ErrnoException e) {
            throw new KvmException(e.errno().name(), "add_key(mktme) for " + description + " failed");
        } finally {
            Arrays.fill(k, (byte) 0);
            Arrays.fill(payload, (byte) 0);
        }
    }

    private static void hex(byte[] src, int from, byte[] out, int at) {
        final byte[] digits = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 16; i++) {
            out[at + 2 * i] = digits[(src[from + i] >> 4) & 0xf];
            out[at + 2 * i + 1] = digits[src[from + i] & 0xf];
        }
    }

    /** A key KVM added loses its last VM: optionally reprogram it as type=clear (after WBINVD), then invalidate it. */
    private void dropKey(int serial, boolean clear) {
        try {
            if (clear) {
                machine.wbinvdAll();
                host.keys().update(hostTask, serial, "type=clear".getBytes(StandardCharsets.US_ASCII));
            }
        } catch (ErrnoException e) {
            // EBUSY: a VMA still references the KeyID (the key then dies with its last reference)
        } finally {
            try {
                host.keys().invalidate(hostTask, serial);
            } catch (ErrnoException e) {
                // already gone (revoked or invalidated by someone else)
            }
        }
    }

    /** KeyID → number of live VMs referencing it (each holds one reference in the host's MktmeKeyIds). */
    public Map<Integer, Integer> keyIdReferences() {
        Map<Integer, Integer> m = new java.util.TreeMap<>();
        for (Vm v : vms.values()) m.merge(v.keyId(), 1, Integer::sum);
        return m;
    }

    void destroy(Vm vm) {
        for (Vcpu v : vm.vcpus()) v.put();
        int cpu = hostCpu();
        for (Map.Entry<Long, Long> e : vm.frames.entrySet()) {
            machine.clflushRange(cpu, e.getValue(), vm.keyId(), 4096);
            frames.free(e.getValue());
        }
        vm.frames.clear();
        if (vm.backup != null) vm.backup.destroy();
        for (Vcpu v : vm.vcpus()) if (v.iwKey != null) v.iwKey.destroy();
        vms.remove(vm.name());
        host.mktme().keyIds().put(vm.keyId());
        int serial = vm.keySerial();
        int left = vmsOnKey.merge(serial, -1, Integer::sum);
        if (left == 0) {
            vmsOnKey.remove(serial);
            groups.values().removeIf(s -> s == serial);
            if (addedKeys.remove(serial)) dropKey(serial, true);
        }
    }

    private int hostCpu() {
        for (Core c : machine.cores()) if (c.online()) return c.id();
        throw new IllegalStateException("no online cpu");
    }

    // ------------------------------------------------------------------ scheduling

    /** One time slice of guest code: {@code slice} counts from 0. */
    @FunctionalInterface
    public interface GuestStep {
        void run(GuestCpu cpu, int slice);
    }

    /**
     * A round-robin scheduler: for each of {@code slices} time slices, every vCPU in {@code vcpus}
     * runs one step on a physical CPU from {@code pcpus}; the assignment rotates each slice, so
     * vCPUs move between cores (and packages) and share them, with vcpu_put/vcpu_load at each
     * switch. Returns the number of vCPU switches (loads onto a core that held something else).
     */
    public int runRoundRobin(List<Vcpu> vcpus, int[] pcpus, int slices, GuestStep step) {
        if (vcpus.isEmpty() || pcpus.length == 0 || slices < 0) throw new IllegalArgumentException("need vCPUs, physical CPUs and slices >= 0");
        int switches = 0;
        for (int s = 0; s < slices; s++) {
            for (int i = 0; i < vcpus.size(); i++) {
                Vcpu v = vcpus.get(i);
                int p = pcpus[(i + s) % pcpus.length];
                if (loaded[p] != v) switches++;
                int slice = s;
                v.run(p, g -> step.run(g, slice));
            }
        }
        return switches;
    }

    // ------------------------------------------------------------------ power events

    /** Puts every loaded vCPU (the freeze before S3 or a CPU going offline saves guest state). */
    public void putAll() {
        for (Vcpu v : loaded) if (v != null) v.put();
    }

    /** S3 with VMs: every vCPU put first, so guest registers and IWKeys are saved; reloaded at the next vcpu_load. */
    public void suspendToRam() {
        putAll();
        host.suspendToRam();
    }

    /**
     * Resume: the host kernel's resume path reprograms every KeyID in use (VM keys are mktme keys:
     * user keys from the mktme_savekeys vault) and restores the host's IWKey if it uses Key Locker.
     * Returns the KeyIDs the kernel could not reprogram.
     */
    public List<Integer> resumeFromRam() {
        return host.resumeFromRam();
    }

    /** CPU hotplug through the host kernel: a package powering up gets every KeyID in use programmed (EPERM, ENOKEY as the kernel says). */
    public void cpuOnline(int cpu) {
        try {
            host.cpuOnline(cpu);
        } catch (ErrnoException e) {
            throw new KvmException(e.errno().name(), "cpu " + cpu + " refused online by the host kernel");
        }
    }

    /** CPU hotplug with VMs: the vCPU loaded on {@code cpu} is put before the core goes offline. */
    public void cpuOffline(int cpu) {
        Vcpu v = loaded[cpu];
        if (v != null) v.put();
        host.cpuOffline(cpu);
    }

    // ------------------------------------------------------------------ vCPU load/put bookkeeping

    Vcpu loadedOn(int pcpu) {
        return loaded[pcpu];
    }

    void setLoaded(int pcpu, Vcpu v) {
        loaded[pcpu] = v;
    }

    void saveHost(Core c) {
        int i = c.id();
        hostXmm[i].copyFrom(c.xmm());
        hostCr4[i] = c.cr4();
        hostRflags[i] = c.rflags();
        hostCpl[i] = c.cpl();
    }

    void restoreHost(Core c) {
        int i = c.id();
        c.xmm().copyFrom(hostXmm[i]);
        hostXmm[i].clear();
        c.setCpl(0);
        c.writeCr4(hostCr4[i]);
        c.setRflags(hostRflags[i]);
        c.setCpl(hostCpl[i]);
    }

    // ------------------------------------------------------------------ VMCS controls

    /** The VMCS02/VMCS01 controls for the guest level {@code g} runs at. */
    VmxNonRoot controlsFor(GuestCpu g) {
        Vm vm = g.vcpu().vm();
        long tertiary = vm.keyLocker() ? VmxNonRoot.TERTIARY_LOADIWKEY_EXITING : 0;
        long cr4 = Core.CR4_KL | Core.CR4_VMXE;
        if (g.level() == 2) {
            if (g.vmcs12().wantsLoadiwkeyExit()) tertiary |= VmxNonRoot.TERTIARY_LOADIWKEY_EXITING;
            cr4 |= g.vmcs12().cr4Mask();
        }
        return new VmxNonRoot(tertiary, m -> true, m -> true, cr4);
    }

    void nestedLaunch(GuestCpu l1, Vmcs12 c) {
        Vcpu v = l1.vcpu();
        record(l1, VmExit.VMLAUNCH, 0, "L0");
        if (!v.vm().nested() || (v.cr4() & Core.CR4_VMXE) == 0) throw new InvalidOpcodeFault("VMLAUNCH outside VMX operation");
        long allowed = allowedTertiary(v.vm());
        if ((c.primaryControls() & Vmcs12.PRIMARY_ACTIVATE_TERTIARY) != 0 && (c.tertiaryControls() & ~allowed) != 0) {
            throw new KvmException("VMfailValid", String.format("VM entry with invalid control field: tertiary controls 0x%x, allowed 0x%x", c.tertiaryControls(), allowed));
        }
    }

    private static long allowedTertiary(Vm vm) {
        return vm.keyLocker() ? VmxNonRoot.TERTIARY_LOADIWKEY_EXITING : 0;
    }

    // ------------------------------------------------------------------ exits

    private void record(GuestCpu g, int reason, long qual, String by) {
        Vcpu v = g.vcpu();
        trace.add(new ExitRecord(++seq, v.vm().name(), v.index(), g.level(), reason, qual, by, v.pcpu()));
    }

    /** Reflect this L2 exit to L1? (SDM Vol. 3C §26.1.3 for L1's controls; CPUID always exits.) */
    private static boolean l1Wants(GuestCpu g, VmExit e, long[] ops) {
        Vmcs12 c = g.vmcs12();
        return switch (e.reason()) {
            case VmExit.CPUID, VmExit.VMCALL, VmExit.HLT -> true;
            case VmExit.RDMSR, VmExit.WRMSR -> c.msrExits().test(ops[0]);
            case VmExit.LOADIWKEY -> c.wantsLoadiwkeyExit();
            case VmExit.CR_ACCESS -> ((ops[0] ^ g.vcpu().cr4()) & c.cr4Mask()) != 0;
            default -> false;
        };
    }

    /** Handles an exit in root operation: a value completing the guest's instruction, or RETRY. */
    Object handleExit(GuestCpu g, VmExit e, long[] ops) {
        if (g.level() == 2 && l1Wants(g, e, ops)) {
            record(g, e.reason(), e.qualification(), "L1");
            return g.l1Handler().handle(g.l1(), new L1ExitHandler.L2Exit(e.reason(), e.qualification(), ops.clone()));
        }
        record(g, e.reason(), e.qualification(), "L0");
        Vcpu v = g.vcpu();
        Core c = v.core();
        return switch (e.reason()) {
            case VmExit.CPUID -> cpuid(v, c, (int) ops[0], (int) ops[1]);
            case VmExit.RDMSR -> rdmsr(v, ops[0]);
            case VmExit.WRMSR -> {
                wrmsr(v, c, ops[0], ops[1]);
                yield null;
            }
            case VmExit.CR_ACCESS -> {
                long val = ops[0];
                if ((val & Core.CR4_KL) != 0 && !v.vm().keyLocker()) throw new GeneralProtectionFault("CR4.KL: Key Locker not exposed to this guest");
                if ((val & Core.CR4_VMXE) != 0 && !v.vm().nested()) throw new GeneralProtectionFault("CR4.VMXE: VMX not exposed to this guest");
                c.writeCr4(val);
                yield null;
            }
            case VmExit.LOADIWKEY -> loadiwkey(v, c, (int) ops[0], (int) ops[1], (int) ops[2]);
            case VmExit.EPT_VIOLATION -> {
                eptViolation(v, e.qualification());
                yield RETRY;
            }
            case VmExit.VMCALL -> 0L;
            case VmExit.HLT -> null;
            default -> throw new IllegalStateException("unhandled exit " + e.reason());
        };
    }

    private CpuidResult cpuid(Vcpu v, Core c, int leaf, int sub) {
        Vm vm = v.vm();
        CpuidResult h = c.cpuid(leaf, sub);
        return switch (leaf) {
            case 1 -> new CpuidResult(h.eax(), h.ebx(), h.ecx() | Core.CPUID1_ECX_HYPERVISOR | (vm.nested() ? CPUID1_ECX_VMX : 0), h.edx());
            case 7 -> sub != 0 ? h : new CpuidResult(h.eax(), h.ebx(),
                    // guests run without paging in the model, so protection keys (PKU, and OSPKE, the host's CR4.PKE) are hidden
                    h.ecx() & ~Core.CPUID7_ECX_TME & ~Core.CPUID7_ECX_PKU & ~Core.CPUID7_ECX_OSPKE & (vm.keyLocker() ? ~0 : ~KeyLockerUnit.CPUID7_ECX_KL),
                    h.edx() & ~Core.CPUID7_EDX_PCONFIG);
            case KeyLockerUnit.CPUID_LEAF -> !vm.keyLocker() || sub != 0 ? CpuidResult.ZERO : new CpuidResult(h.eax(),
                    (h.ebx() & (KeyLockerUnit.EBX_WIDE | KeyLockerUnit.EBX_BACKUP_MSRS)) | ((v.cr4() & Core.CR4_KL) != 0 ? KeyLockerUnit.EBX_AESKLE : 0),
                    h.ecx() & ~KeyLockerUnit.ECX_KEYSOURCE1, 0);
            case 0x1b -> CpuidResult.ZERO;
            default -> h;
        };
    }

    private long rdmsr(Vcpu v, long msr) {
        Vm vm = v.vm();
        if (vm.keyLocker()) {
            if (msr == KeyLockerMsrs.IA32_COPY_STATUS) return v.shadowCopyStatus;
            if (msr == KeyLockerMsrs.IA32_IWKEYBACKUP_STATUS) return vm.shadowBackupStatus;
        }
        if (msr == IA32_VMX_PROCBASED_CTLS3 && vm.nested()) return allowedTertiary(vm);
        throw new GeneralProtectionFault(String.format("RDMSR 0x%x not available to the guest", msr));
    }

    private void wrmsr(Vcpu v, Core c, long msr, long value) {
        Vm vm = v.vm();
        if (vm.keyLocker() && (msr == KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM || msr == KeyLockerMsrs.IA32_COPY_PLATFORM_TO_LOCAL)) {
            if (value != 1) throw new GeneralProtectionFault(String.format("WRMSR 0x%x with 0x%x", msr, value));
            if (msr == KeyLockerMsrs.IA32_COPY_LOCAL_TO_PLATFORM) {
                if (v.iwKey.noBackup()) {
                    v.shadowCopyStatus = 0;
                    return;
                }
                if (vm.backup != null) vm.backup.destroy();
                vm.backup = v.iwKey.copy();
                vm.shadowBackupStatus = KeyLockerPlatform.BACKUP_VALID;
                v.shadowCopyStatus = KeyLockerMsrs.COPY_SUCCESS;
            } else {
                if (vm.backup == null) {
                    v.shadowCopyStatus = 0;
                    return;
                }
                setVcpuIwKey(v, c, vm.backup.copy());
                vm.shadowBackupStatus |= KeyLockerPlatform.BACKUP_CONSUMED;
                v.shadowCopyStatus = KeyLockerMsrs.COPY_SUCCESS;
            }
            return;
        }
        throw new GeneralProtectionFault(String.format("WRMSR 0x%x not available to the guest", msr));
    }

    /** The trapped LOADIWKEY (seed 002 handle_loadiwkey): KeySource 1 is not exposed, so only KeySource 0 loads. */
    private Boolean loadiwkey(Vcpu v, Core c, int src1, int src2, int eax) {
        int keySource = eax >>> KeyLockerUnit.LOADIWKEY_KEYSOURCE_SHIFT & KeyLockerUnit.LOADIWKEY_KEYSOURCE_MASK;
        if ((eax & KeyLockerUnit.LOADIWKEY_RESERVED) != 0) throw new GeneralProtectionFault("LOADIWKEY EAX[31:5] not zero");
        if (keySource != 0) throw new GeneralProtectionFault("LOADIWKEY KeySource " + keySource + " not available to the guest");
        boolean noBackup = (eax & KeyLockerUnit.LOADIWKEY_NOBACKUP) != 0;
        if (noBackup && (c.keyLocker().cpuid19().ecx() & KeyLockerUnit.ECX_NOBACKUP) == 0) throw new GeneralProtectionFault("LOADIWKEY NoBackup not enumerated");
        setVcpuIwKey(v, c, KeyLockerUnit.captureOperands(c.xmm(), src1, src2, noBackup));
        c.setStatusFlags(false);
        return Boolean.TRUE;
    }

    private void setVcpuIwKey(Vcpu v, Core c, IwKey k) {
        IwKey old = v.iwKey;
        v.iwKey = k;
        c.keyLocker().vmmLoad(k);
        if (old != null && old != k) old.destroy();
    }

    private void eptViolation(Vcpu v, long gpa) {
        Vm vm = v.vm();
        long page = gpa & ~0xfffL;
        if (gpa < 0 || gpa >= vm.memBytes()) throw new KvmException("EFAULT", String.format("guest-physical 0x%x beyond the VM's %d bytes", gpa, vm.memBytes()));
        int cpu = v.pcpu();
        long frame = frames.alloc();
        machine.pstore(cpu, frame, vm.keyId(), new byte[4096]); // zero through the new KeyID (seed 001)
        vm.ept().map(cpu, page, frame, vm.keyId(), Ept.RWX);
        vm.frames.put(page, frame);
    }

    /** The processor's guest access: EPT walk, then the caches under the entry's KeyID; EPT violation if unmapped. */
    void guestAccess(GuestCpu g, long gpa, byte[] buf, boolean write) {
        Vcpu v = g.vcpu();
        Vm vm = v.vm();
        int cpu = v.pcpu();
        int done = 0;
        while (done < buf.length) {
            long a = gpa + done;
            int n = (int) Math.min(buf.length - done, 4096 - (a & 0xfff));
            long leaf = vm.ept().walk(cpu, a);
            if ((leaf & (write ? Ept.W : Ept.R)) == 0) throw new VmExit(VmExit.EPT_VIOLATION, a, "EPT violation");
            long hpa = vm.ept().hpaOf(leaf) | (a & 0xfff);
            int keyId = vm.ept().keyIdOf(leaf);
            if (write) {
                byte[] chunk = java.util.Arrays.copyOfRange(buf, done, done + n);
                machine.pstore(cpu, hpa, keyId, chunk);
            } else {
                System.arraycopy(machine.pload(cpu, hpa, keyId, n), 0, buf, done, n);
            }
            done += n;
        }
    }
}
