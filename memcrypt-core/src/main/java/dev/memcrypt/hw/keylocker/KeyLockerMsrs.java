package dev.memcrypt.hw.keylocker;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.Msr;
import java.util.List;

/**
 * The Key Locker backup MSRs (SPEC-FACTS §3; Intel SDM Vol. 4 Table 2-2; Linux
 * arch/x86/include/asm/msr-index.h and intel-staging/keylocker arch/x86/kernel/keylocker.c).
 * They exist when CPUID.19H:EBX[4] = 1; otherwise any access is #GP like an undefined MSR.
 */
public final class KeyLockerMsrs {
    private KeyLockerMsrs() {}

    /** 0xD91 IA32_COPY_LOCAL_TO_PLATFORM (write-only): write 1 copies IWKey to the platform backup. */
    public static final int IA32_COPY_LOCAL_TO_PLATFORM = 0xd91;
    /** 0xD92 IA32_COPY_PLATFORM_TO_LOCAL (write-only): write 1 copies the backup to IWKey. */
    public static final int IA32_COPY_PLATFORM_TO_LOCAL = 0xd92;
    /** 0x990 IA32_COPY_STATUS (read-only, per core): bit 0 = the last copy on this core succeeded. */
    public static final int IA32_COPY_STATUS = 0x990;
    /** 0x991 IA32_IWKEYBACKUP_STATUS (read-only, platform): bit 0 valid, bit 2 storage error, bit 3 consumed. */
    public static final int IA32_IWKEYBACKUP_STATUS = 0x991;
    /** IA32_COPY_STATUS bit 0. */
    public static final long COPY_SUCCESS = 1;

    public static List<Msr> all() {
        return List.of(
                new Reg(IA32_COPY_LOCAL_TO_PLATFORM, "IA32_COPY_LOCAL_TO_PLATFORM"),
                new Reg(IA32_COPY_PLATFORM_TO_LOCAL, "IA32_COPY_PLATFORM_TO_LOCAL"),
                new Reg(IA32_COPY_STATUS, "IA32_COPY_STATUS"),
                new Reg(IA32_IWKEYBACKUP_STATUS, "IA32_IWKEYBACKUP_STATUS"));
    }

    private record Reg(int address, String name) implements Msr {
        @Override
        public long read(Core core) {
            KeyLockerUnit u = core.keyLocker();
            u.requireBackupMsrs(name);
            return switch (address) {
                case IA32_COPY_STATUS -> u.copyStatus();
                case IA32_IWKEYBACKUP_STATUS -> core.machine().keyLockerPlatform().status();
                default -> throw new GeneralProtectionFault("RDMSR of write-only " + name);
            };
        }

        @Override
        public void write(Core core, long value) {
            KeyLockerUnit u = core.keyLocker();
            u.requireBackupMsrs(name);
            switch (address) {
                case IA32_COPY_LOCAL_TO_PLATFORM -> {
                    if (value != 1) throw new GeneralProtectionFault(String.format("WRMSR %s with 0x%x (only 1 is defined)", name, value));
                    u.copyLocalToPlatform();
                }
                case IA32_COPY_PLATFORM_TO_LOCAL -> {
                    if (value != 1) throw new GeneralProtectionFault(String.format("WRMSR %s with 0x%x (only 1 is defined)", name, value));
                    u.copyPlatformToLocal();
                }
                default -> throw new GeneralProtectionFault("WRMSR to read-only " + name);
            }
        }
    }
}
