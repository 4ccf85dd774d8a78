package dev.memcrypt.kernel.keylocker;

import static dev.memcrypt.hw.keylocker.KeyLockerMsrs.*;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.XmmFile;
import dev.memcrypt.hw.keylocker.KeyLockerPlatform;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The kernel's Key Locker setup, after Linux intel-staging/keylocker arch/x86/kernel/keylocker.c
 * (SPEC-FACTS §3): at boot CPU 0 sets CR4.KL, checks AESKLE and the CPL0-only restriction, loads a
 * random IWKey (KeySource 1 with up to 10 retries when enumerated, else kernel random bytes with
 * KeySource 0) and backs it up to the platform; every other CPU, a CPU coming online and every
 * CPU after resume copies the backup in (IA32_COPY_PLATFORM_TO_LOCAL) and checks IA32_COPY_STATUS.
 * Any failure disables Key Locker for the rest of the boot ({@link #enabled()} false), like Linux.
 *
 * <p>{@link dev.memcrypt.kernel.boot.Kernel#boot} runs {@link #boot} when CPUID enumerates Key
 * Locker and calls {@link #cpuOnline} and {@link #resume} from its hotplug and resume paths; the
 * standalone {@link #boot} (no kernel) stays for tests of the raw steps.
 *
 * <p>The random key exists only in XMM0-2 of CPU 0 for the one LOADIWKEY; they are zeroed right
 * after. Messages go to {@link #log()} (dmesg lines).
 */
public final class KernelKeyLocker {
    /** LOADIWKEY retries when KeySource 1 reports no entropy (Linux LOADIWKEY_RETRY_LOOPS). */
    public static final int LOADIWKEY_RETRY_LOOPS = 10;
    /** Polls of IA32_IWKEYBACKUP_STATUS after a backup (Linux IWKEY_BACKUP_STATUS_RETRY_LOOPS is 100000; the model is immediate). */
    public static final int BACKUP_STATUS_POLLS = 100;

    private final Machine machine;
    private final List<String> log = new ArrayList<>();
    private boolean enabled;
    private boolean backupValid;

    private KernelKeyLocker(Machine machine) {
        this.machine = machine;
    }

    /** Boot-time setup on CPU 0, then the other online CPUs. Never throws for a missing feature: it logs and stays disabled. */
    public static KernelKeyLocker boot(Machine m) {
        KernelKeyLocker k = new KernelKeyLocker(m);
        k.setup();
        return k;
    }

    public boolean enabled() {
        return enabled;
    }

    /** Kernel log lines ("x86/keylocker: ..."). */
    public List<String> log() {
        return List.copyOf(log);
    }

    public Machine machine() {
        return machine;
    }

    private void setup() {
        Core c0 = machine.core(0);
        if (!machine.config().keyLocker()) {
            say("not supported");
            return;
        }
        c0.writeCr4(c0.cr4() | Core.CR4_KL);
        CpuidResult r = c0.cpuid(KeyLockerUnit.CPUID_LEAF, 0);
        if ((r.ebx() & KeyLockerUnit.EBX_AESKLE) == 0 || (r.eax() & KeyLockerUnit.EAX_CPL0_ONLY) == 0) {
            say("not fully supported");
            disable();
            return;
        }
        if (!loadRandom(c0, (r.ecx() & KeyLockerUnit.ECX_KEYSOURCE1) != 0)) {
            say("failed to load internal key");
            disable();
            return;
        }
        if ((r.ebx() & KeyLockerUnit.EBX_BACKUP_MSRS) != 0) {
            c0.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
            for (int i = 0; i < BACKUP_STATUS_POLLS && !backupValid; i++) {
                backupValid = (c0.rdmsr(IA32_IWKEYBACKUP_STATUS) & KeyLockerPlatform.BACKUP_VALID) != 0;
            }
        }
        if (!backupValid) {
            say("no valid internal key backup; other CPUs cannot use Key Locker");
            disable();
            return;
        }
        enabled = true;
        for (Core c : machine.cores()) {
            if (c.id() == 0 || !c.online()) continue;
            if (!restore(c.id())) return;
        }
        say("Enabled.");
    }

    private boolean loadRandom(Core c, boolean hwRand) {
        XmmFile x = c.xmm();
        byte[] r = new byte[48];
        try {
            for (int attempt = 0; attempt < (hwRand ? LOADIWKEY_RETRY_LOOPS : 1); attempt++) {
                if (!machine.entropy().fill(r)) continue; // get_random_bytes() failing: retry
                x.set(0, Arrays.copyOfRange(r, 0, 16));
                x.set(1, Arrays.copyOfRange(r, 16, 32));
                x.set(2, Arrays.copyOfRange(r, 32, 48));
                boolean ok = c.keyLocker().loadiwkey(2, 1, hwRand ? 1 << KeyLockerUnit.LOADIWKEY_KEYSOURCE_SHIFT : 0);
                if (ok) return true;
            }
            return false;
        } finally {
            Arrays.fill(r, (byte) 0);
            x.zero(0);
            x.zero(1);
            x.zero(2);
        }
    }

    /** Copies the platform backup into {@code cpu}'s IWKey (CPU bring-up, hotplug, resume); false disables Key Locker. */
    public boolean restore(int cpu) {
        if (!enabled) return false;
        Core c = machine.core(cpu);
        c.writeCr4(c.cr4() | Core.CR4_KL);
        c.wrmsr(IA32_COPY_PLATFORM_TO_LOCAL, 1);
        if ((c.rdmsr(IA32_COPY_STATUS) & COPY_SUCCESS) == 0) {
            say("failed to restore internal key on CPU " + cpu + "; disabled");
            disable();
            return false;
        }
        return true;
    }

    /** CPU hotplug "online" callback: the CPU came up with no IWKey; restore it. */
    public boolean cpuOnline(int cpu) {
        return restore(cpu);
    }

    /** Brings {@code cpu} online on the machine and runs the hotplug callback. */
    public boolean cpuUp(int cpu) {
        machine.cpuOnline(cpu);
        return cpuOnline(cpu);
    }

    /** Resume callback after S3: every online CPU restores the IWKey from the platform backup. */
    public boolean resume() {
        if (!enabled) return false;
        for (Core c : machine.cores()) {
            if (c.online() && !restore(c.id())) return false;
        }
        return true;
    }

    /** Suspends the machine to RAM and resumes it, running the resume callback (a full S3 cycle). */
    public boolean s3Cycle() {
        machine.suspendToRam();
        machine.resumeFromRam();
        return resume();
    }

    private void disable() {
        enabled = false;
        for (Core c : machine.cores()) {
            if (c.online() && c.cpl() == 0) c.writeCr4(c.cr4() & ~Core.CR4_KL);
        }
    }

    private void say(String s) {
        log.add("x86/keylocker: " + s);
    }

    @Override
    public String toString() {
        return "KernelKeyLocker[" + (enabled ? "enabled" : "disabled") + "]";
    }
}
