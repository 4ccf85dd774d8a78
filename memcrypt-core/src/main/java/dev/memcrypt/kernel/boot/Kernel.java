package dev.memcrypt.kernel.boot;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.TmeMsrs;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keylocker.KernelKeyLocker;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MachinePconfig;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The kernel booted on a {@link Machine}. Boot enumerates MKTME the way Linux does
 * (arch/x86/kernel/cpu/intel.c detect_tme, intel_pconfig.c): CPUID.7.0:ECX[13] TME,
 * CPUID.7.0:EDX[18] PCONFIG and leaf 0x1B target MKTME; IA32_TME_ACTIVATE must be locked and
 * enabled by firmware (else MKTME is off); KeyIDs 1..min(2^KEYID_BITS - 1, MK_TME_MAX_KEYS)
 * (IA32_TME_CAPABILITY[50:36]) are handed to the mktme key type. Boot messages go to
 * {@link #dmesg()}.
 *
 * <p>Key Locker: when CPUID.7.0:ECX[23] enumerates it, boot runs {@link KernelKeyLocker} (random
 * IWKey on CPU 0, platform backup, restore on the other CPUs); {@link #cpuOnline} and
 * {@link #resumeFromRam} restore IWKey from the platform backup on the CPUs that come up.
 *
 * <p>Kernel command line: {@code mktme_savekeys} turns on the key vault; {@code clearcpuid=keylocker}
 * (Linux's clearcpuid= with the feature's name; other names are ignored) leaves Key Locker unused by
 * the host, e.g. for KVM guests, since host and guests use it exclusively. Other words are kept in
 * {@link #cmdline()} and ignored.
 */
public final class Kernel {
    private final Machine machine;
    private final Map<String, String> cmdline;
    private final KeyService keys;
    private final MktmeKeyType mktme; // null when MKTME is not available
    private final KernelKeyLocker keyLocker; // null when Key Locker is not enumerated or cleared
    private final List<String> dmesg = Collections.synchronizedList(new ArrayList<>());
    private final Process init;

    private Kernel(Machine machine, Map<String, String> cmdline, InstantSource clock, long seed) {
        this.machine = machine;
        this.cmdline = cmdline;
        this.keys = new KeyService(clock, new SplittableRandom(seed), KeyService.Limits.linuxDefaults());
        this.mktme = setUpMktme();
        this.keyLocker = setUpKeyLocker();
        this.init = Process.spawn(Cred.root());
    }

    /** Boots with the system clock and a fixed serial seed. */
    public static Kernel boot(Machine machine, String cmdline) {
        return boot(machine, cmdline, InstantSource.system(), 0x6b657973L);
    }

    public static Kernel boot(Machine machine, String cmdline, InstantSource clock, long serialSeed) {
        Map<String, String> args = new LinkedHashMap<>();
        if (cmdline != null) {
            for (String w : cmdline.strip().split("\\s+")) {
                if (w.isEmpty()) continue;
                int eq = w.indexOf('=');
                args.put(eq < 0 ? w : w.substring(0, eq), eq < 0 ? "" : w.substring(eq + 1));
            }
        }
        return new Kernel(machine, args, clock, serialSeed);
    }

    private MktmeKeyType setUpMktme() {
        Core bsp = machine.core(0);
        CpuidResult l7 = bsp.cpuid(7, 0);
        if ((l7.ecx() & Core.CPUID7_ECX_TME) == 0) {
            log("x86/tme: not supported by CPU");
            return null;
        }
        long act = bsp.rdmsr(TmeMsrs.IA32_TME_ACTIVATE);
        long cap = bsp.rdmsr(TmeMsrs.IA32_TME_CAPABILITY);
        if ((act & TmeMsrs.ACT_LOCK) == 0 || (act & TmeMsrs.ACT_ENABLE) == 0) {
            log("x86/tme: not enabled by BIOS");
            return null;
        }
        log("x86/tme: enabled by BIOS");
        int keyIdBits = (int) ((act >>> TmeMsrs.ACT_KEYID_BITS_SHIFT) & 0xf);
        int maxKeys = (int) ((cap >>> TmeMsrs.CAP_MAX_KEYS_SHIFT) & 0x7fff);
        if (keyIdBits == 0) {
            log("x86/mktme: disabled by BIOS");
            return null;
        }
        int nr = Math.min((1 << keyIdBits) - 1, maxKeys);
        log("x86/mktme: enabled by BIOS");
        log("x86/mktme: " + nr + " KeyIDs available");
        if ((l7.edx() & Core.CPUID7_EDX_PCONFIG) == 0 || !pconfigHasMktmeTarget(bsp)) {
            log("x86/mktme: PCONFIG MKTME target not enumerated; key service disabled");
            return null;
        }
        boolean save = cmdline.containsKey("mktme_savekeys");
        MktmeKeyType t = new MktmeKeyType(new MktmeKeyIds(nr), new MachinePconfig(machine), machine.entropy(), save);
        for (Core c : machine.cores()) if (c.online()) t.cpuOnlineAtBoot(c.id(), c.pkg().id());
        keys.registerType(t);
        if (save) log("mktme: mktme_savekeys: key data of user-type keys is kept for CPU hotplug");
        return t;
    }

    private KernelKeyLocker setUpKeyLocker() {
        if ((machine.core(0).cpuid(7, 0).ecx() & KeyLockerUnit.CPUID7_ECX_KL) == 0) return null;
        String clear = cmdline.get("clearcpuid");
        if (clear != null && java.util.Arrays.asList(clear.split(",")).contains("keylocker")) {
            log("x86/keylocker: disabled by clearcpuid=keylocker");
            return null;
        }
        KernelKeyLocker k = KernelKeyLocker.boot(machine);
        k.log().forEach(this::log);
        return k;
    }

    private static boolean pconfigHasMktmeTarget(Core c) {
        for (int sub = 0; sub < 64; sub++) {
            CpuidResult r = c.cpuid(0x1b, sub);
            if ((r.eax() & 0xfff) == 0) return false;
            if ((r.eax() & 0xfff) == Core.CPUID1B_TYPE_TARGETS
                    && (r.ebx() == Core.PCONFIG_TARGET_MKTME || r.ecx() == Core.PCONFIG_TARGET_MKTME || r.edx() == Core.PCONFIG_TARGET_MKTME)) {
                return true;
            }
        }
        return false;
    }

    private void log(String s) {
        dmesg.add(s);
    }

    public Machine machine() {
        return machine;
    }

    public KeyService keys() {
        return keys;
    }

    /** The kernel's Key Locker (null when the CPU does not enumerate it or clearcpuid=keylocker); see {@link KernelKeyLocker#enabled()}. */
    public KernelKeyLocker keyLocker() {
        return keyLocker;
    }

    /** Whether the host kernel uses Key Locker (then KVM offers none to guests). */
    public boolean usesKeyLocker() {
        return keyLocker != null && keyLocker.enabled();
    }

    /** The mktme key type, or null when MKTME is off (add_key("mktme") then gives ENODEV). */
    public MktmeKeyType mktme() {
        return mktme;
    }

    public Map<String, String> cmdline() {
        return Collections.unmodifiableMap(cmdline);
    }

    public List<String> dmesg() {
        synchronized (dmesg) {
            return List.copyOf(dmesg);
        }
    }

    /** The init process (pid 1 of this kernel's view; root). */
    public Task initTask() {
        return init.mainThread();
    }

    /** A new process running with {@code cred}. */
    public Task spawn(Cred cred) {
        return Process.spawn(cred).mainThread();
    }

    /**
     * Brings a CPU online (the machine powers its package if needed), then runs the mktme hotplug
     * callback; if that refuses (EPERM, ENOKEY) the CPU is taken offline again and the error returned.
     */
    public void cpuOnline(int cpu) throws ErrnoException {
        synchronized (machine) {
            machine.cpuOnline(cpu);
        }
        if (mktme != null) mktmeOnline(cpu);
        if (keyLocker != null && keyLocker.enabled()) {
            int before = keyLocker.log().size();
            synchronized (machine) {
                keyLocker.cpuOnline(cpu);
            }
            keyLocker.log().stream().skip(before).forEach(this::log);
        }
    }

    private void mktmeOnline(int cpu) throws ErrnoException {
        try {
            mktme.cpuOnline(cpu, machine.core(cpu).pkg().id());
        } catch (ErrnoException e) {
            synchronized (machine) {
                machine.cpuOffline(cpu);
            }
            log("mktme: CPU " + cpu + " refused online: " + e.errno().name());
            throw e;
        }
    }

    /** S3 suspend: the machine writes back its caches and powers down (key tables and IWKeys lost). */
    public void suspendToRam() {
        synchronized (machine) {
            machine.suspendToRam();
        }
        log("PM: suspend entry (deep)");
    }

    /**
     * Resume from S3: the CPUs come back, the mktme key service reprograms every KeyID in use on
     * every package (from the vault for user keys; see {@link MktmeKeyType#resume()}) and Key
     * Locker restores IWKey on every CPU from the platform backup. Returns the KeyIDs that could not
     * be reprogrammed (user keys without mktme_savekeys), each also logged.
     */
    public List<Integer> resumeFromRam() {
        synchronized (machine) {
            machine.resumeFromRam();
        }
        log("PM: suspend exit");
        List<Integer> lost = mktme == null ? List.of() : mktme.resume();
        for (int k : lost) log("mktme: KeyID " + k + " lost its key across suspend (no mktme_savekeys)");
        if (keyLocker != null && keyLocker.enabled()) {
            int before = keyLocker.log().size();
            synchronized (machine) {
                keyLocker.resume();
            }
            keyLocker.log().stream().skip(before).forEach(this::log);
        }
        return lost;
    }

    /** Takes a CPU offline; always succeeds for the key service (the lead role moves). */
    public void cpuOffline(int cpu) {
        if (mktme != null) mktme.cpuOffline(cpu);
        synchronized (machine) {
            machine.cpuOffline(cpu);
        }
    }

    /** Errno helper for callers that need "no mktme" as an error. */
    public MktmeKeyType requireMktme() throws ErrnoException {
        if (mktme == null) throw Errno.ENODEV.exception();
        return mktme;
    }
}
