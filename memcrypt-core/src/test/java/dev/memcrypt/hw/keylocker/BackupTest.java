package dev.memcrypt.hw.keylocker;

import static dev.memcrypt.hw.keylocker.KeyLockerMsrs.*;
import static dev.memcrypt.hw.keylocker.KeyLockerTest.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** IWKey backup MSRs, power loss and S3 (SPEC-FACTS §3 "Backup MSRs"). */
class BackupTest {
    static boolean works(Core c, byte[] h) {
        c.xmm().set(3, FIPS_PT);
        return c.keyLocker().aesenc128kl(3, h) && java.util.Arrays.equals(FIPS_CT128, c.xmm().get(3));
    }

    @Test
    void backupThenRestoreOnAnotherCore() {
        Machine m = Hw.machine();
        Core a = klCore(m);
        byte[] h = encode128(a, FIPS_K128, 0);
        assertEquals(0, a.rdmsr(IA32_IWKEYBACKUP_STATUS));
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        assertEquals(COPY_SUCCESS, a.rdmsr(IA32_COPY_STATUS));
        assertEquals(KeyLockerPlatform.BACKUP_VALID, a.rdmsr(IA32_IWKEYBACKUP_STATUS));
        Core b = m.core(3);
        b.writeCr4(Core.CR4_KL);
        assertFalse(works(b, h));
        b.wrmsr(IA32_COPY_PLATFORM_TO_LOCAL, 1);
        assertEquals(COPY_SUCCESS, b.rdmsr(IA32_COPY_STATUS));
        assertEquals(KeyLockerPlatform.BACKUP_VALID | KeyLockerPlatform.BACKUP_CONSUMED, b.rdmsr(IA32_IWKEYBACKUP_STATUS));
        assertTrue(works(b, h));
    }

    @Test
    void noBackupKeyIsNotCopied() {
        Machine m = Hw.machine();
        Core a = m.core(0);
        a.writeCr4(Core.CR4_KL);
        assertTrue(a.keyLocker().loadiwkey(2, 1, 1)); // NoBackup
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        assertEquals(0, a.rdmsr(IA32_COPY_STATUS));
        assertEquals(0, a.rdmsr(IA32_IWKEYBACKUP_STATUS) & KeyLockerPlatform.BACKUP_VALID);
    }

    @Test
    void restoreWithoutBackupFails() {
        Machine m = Hw.machine();
        Core a = klCore(m);
        long gen = a.keyLocker().iwKeyGeneration();
        a.wrmsr(IA32_COPY_PLATFORM_TO_LOCAL, 1);
        assertEquals(0, a.rdmsr(IA32_COPY_STATUS));
        assertEquals(gen, a.keyLocker().iwKeyGeneration());
    }

    @Test
    void storageErrorReportedInBackupStatus() {
        Machine m = Hw.machine();
        Core a = klCore(m);
        m.keyLockerPlatform().injectStorageError(true);
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        assertEquals(0, a.rdmsr(IA32_COPY_STATUS));
        assertEquals(KeyLockerPlatform.BACKUP_STORAGE_ERROR, a.rdmsr(IA32_IWKEYBACKUP_STATUS));
        m.keyLockerPlatform().injectStorageError(false);
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        assertEquals(KeyLockerPlatform.BACKUP_VALID, a.rdmsr(IA32_IWKEYBACKUP_STATUS));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 2, 3, 0x100, -1})
    void copyMsrsOtherValuesGp(long v) {
        Core a = klCore(Hw.machine());
        assertThrows(GeneralProtectionFault.class, () -> a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, v));
        assertThrows(GeneralProtectionFault.class, () -> a.wrmsr(IA32_COPY_PLATFORM_TO_LOCAL, v));
    }

    @Test
    void writeOnlyAndReadOnlyMsrsGp() {
        Core a = klCore(Hw.machine());
        assertThrows(GeneralProtectionFault.class, () -> a.rdmsr(IA32_COPY_LOCAL_TO_PLATFORM));
        assertThrows(GeneralProtectionFault.class, () -> a.rdmsr(IA32_COPY_PLATFORM_TO_LOCAL));
        assertThrows(GeneralProtectionFault.class, () -> a.wrmsr(IA32_COPY_STATUS, 1));
        assertThrows(GeneralProtectionFault.class, () -> a.wrmsr(IA32_IWKEYBACKUP_STATUS, 1));
    }

    @Test
    void backupMsrsAbsentWithoutEnumerationGp() {
        Core a = klCore(Hw.machine());
        a.keyLocker().setEnumeration(7, KeyLockerUnit.EBX_WIDE, 3);
        assertThrows(GeneralProtectionFault.class, () -> a.rdmsr(IA32_COPY_STATUS));
        assertThrows(GeneralProtectionFault.class, () -> a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1));
        Core n = Hw.machine("keylocker=false").core(0);
        assertThrows(GeneralProtectionFault.class, () -> n.rdmsr(IA32_IWKEYBACKUP_STATUS));
    }

    @Test
    void corePowerOffLosesIwKeyAndRestoreBringsItBack() {
        Machine m = Hw.machine();
        Core a = klCore(m, 1, Hw.bytes(16, 7), Hw.bytes(32, 8));
        byte[] h = encode128(a, FIPS_K128, 0);
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        m.cpuOffline(1);
        m.cpuOnline(1);
        assertEquals(0, a.cr4() & Core.CR4_KL, "CR4 reset");
        assertTrue(a.keyLocker().holdsResetKey());
        a.writeCr4(Core.CR4_KL);
        assertFalse(works(a, h), "IWKey lost");
        a.wrmsr(IA32_COPY_PLATFORM_TO_LOCAL, 1);
        assertTrue(works(a, h));
    }

    @Test
    void backupAndRestoreSurviveS3() {
        Machine m = Hw.machine();
        Core a = klCore(m);
        byte[] h = encode128(a, FIPS_K128, 0);
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        m.pstore(0, 0x300000, 0, FIPS_PT);
        m.suspendToRam();
        assertTrue(m.suspended());
        assertThrows(IllegalArgumentException.class, () -> m.pload(0, 0x300000, 0, 16));
        m.resumeFromRam();
        assertArrayEquals(FIPS_PT, m.pload(0, 0x300000, 0, 16), "DRAM kept (self-refresh), TME key kept");
        for (Core c : m.cores()) {
            assertTrue(c.keyLocker().holdsResetKey(), "IWKey lost on cpu" + c.id());
            c.writeCr4(Core.CR4_KL);
            assertFalse(works(c, h));
            assertEquals(KeyLockerPlatform.BACKUP_VALID, c.rdmsr(IA32_IWKEYBACKUP_STATUS) & KeyLockerPlatform.BACKUP_VALID);
            c.wrmsr(IA32_COPY_PLATFORM_TO_LOCAL, 1);
            assertEquals(COPY_SUCCESS, c.rdmsr(IA32_COPY_STATUS));
            assertTrue(works(c, h), "handle works again on cpu" + c.id());
        }
    }

    @Test
    void newPowerOnHasNoBackup() {
        Machine m = Hw.machine();
        Core a = klCore(m);
        a.wrmsr(IA32_COPY_LOCAL_TO_PLATFORM, 1);
        Machine m2 = Hw.machine();
        assertEquals(0, m2.core(0).rdmsr(IA32_IWKEYBACKUP_STATUS));
    }
}
