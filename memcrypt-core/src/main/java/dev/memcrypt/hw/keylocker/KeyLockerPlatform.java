package dev.memcrypt.hw.keylocker;

/**
 * The platform-scoped IWKey backup storage (SPEC-FACTS §3 "Backup MSRs"): written by
 * IA32_COPY_LOCAL_TO_PLATFORM, read by IA32_COPY_PLATFORM_TO_LOCAL, reported by
 * IA32_IWKEYBACKUP_STATUS. It survives a core's power loss and S3; a new power-on starts empty.
 *
 * <p>Model choices: "backup consumed" (status bit 3) is set once the backup has been copied to a
 * core and cleared by a new backup; {@link #injectStorageError} makes the next copies fail with
 * status bit 2 until cleared, standing in for a storage read/write error.
 */
public final class KeyLockerPlatform {
    /** IA32_IWKEYBACKUP_STATUS bit 0: the backup is valid. */
    public static final long BACKUP_VALID = 1;
    /** IA32_IWKEYBACKUP_STATUS bit 2: backup storage read/write error. */
    public static final long BACKUP_STORAGE_ERROR = 1 << 2;
    /** IA32_IWKEYBACKUP_STATUS bit 3: the backup has been consumed (copied to a core). */
    public static final long BACKUP_CONSUMED = 1 << 3;

    private IwKey backup; // architectural, never readable
    private boolean storageError;
    private boolean lastError;
    private boolean consumed;

    /** IA32_IWKEYBACKUP_STATUS as RDMSR returns it. */
    public synchronized long status() {
        return (backup != null ? BACKUP_VALID : 0) | (lastError ? BACKUP_STORAGE_ERROR : 0) | (consumed ? BACKUP_CONSUMED : 0);
    }

    public synchronized boolean valid() {
        return backup != null;
    }

    /** Fault injection: while on, every backup and restore fails with the storage-error status. */
    public synchronized void injectStorageError(boolean on) {
        storageError = on;
    }

    /** Copies {@code iw} into the backup; false (backup unchanged) on NoBackup or a storage error. */
    synchronized boolean store(IwKey iw) {
        if (storageError) {
            lastError = true;
            return false;
        }
        lastError = false;
        if (iw.noBackup()) return false;
        if (backup != null) backup.destroy();
        backup = iw.copy();
        consumed = false;
        return true;
    }

    /** A copy of the backup for a core, or null when there is none or storage fails. */
    synchronized IwKey load() {
        if (storageError) {
            lastError = true;
            return null;
        }
        lastError = false;
        if (backup == null) return null;
        consumed = true;
        return backup.copy();
    }

    @Override
    public String toString() {
        return "KeyLockerPlatform[backup " + (backup != null ? "valid" : "empty") + "]";
    }
}
