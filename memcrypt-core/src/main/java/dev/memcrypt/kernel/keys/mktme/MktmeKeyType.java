package dev.memcrypt.kernel.keys.mktme;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Capability;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyType;
import dev.memcrypt.kernel.keys.Preparsed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The "mktme" key type (seed 000, patches 10-13 of the MKTME API RFC v2; SPEC-FACTS §2): a user
 * key that owns a hardware KeyID, programmed on every package through one lead CPU per package.
 *
 * <p>Design notes.
 * <ul>
 * <li>Locks, in order: the key's semaphore (held by the service around instantiate/update) →
 *     {@link #hotplug} (cpus_read_lock: programming and hotplug exclude each other, so a package
 *     coming online sees every KeyID) → {@link MktmeKeyIds#lock} (mktme_lock).
 * <li>Programming retries ENTROPY_ERROR and DEVICE_BUSY up to {@link #MAX_RETRIES} times per
 *     package, re-trying only the packages that failed. Any final failure clears the KeyID on every
 *     package (so no package keeps a key the others lack) and gives ENOKEY; instantiate then frees
 *     the KeyID; a failed update leaves the key as type=clear (model choice: consistent, and stated).
 * <li>Key bytes live in the preparsed options (wiped by free_preparse), in per-call
 *     {@link KeyProgram}s (wiped after each PCONFIG) and, with {@code mktme_savekeys}, in the vault
 *     entry of a user-type KeyID (wiped when the KeyID is released). Nothing else keeps them.
 * <li>The seed's bugs and how this class avoids each are listed in MktmeSeedBugsTest.
 * </ul>
 */
public final class MktmeKeyType implements KeyType {
    /** Retries for ENTROPY_ERROR and DEVICE_BUSY (Intel RFC tree: 10). */
    public static final int MAX_RETRIES = 10;
    /** sizeof(struct mktme_payload): u32 keyid_ctrl + 16-byte data key + 16-byte tweak key. */
    public static final int PAYLOAD_QUOTALEN = 36;

    /** What a mktme key holds: its KeyID and the kind last programmed. No key bytes. */
    public record MktmeKey(int keyId, MktmeOptions.Type type) {}

    /** How to (re)program a KeyID on a new package; vault holds user key bytes only with savekeys. */
    private static final class Program {
        final MktmeOptions.Type type;
        final int ctrl;
        final byte[] vault; // data key || tweak key, or null

        Program(MktmeOptions.Type type, int ctrl, byte[] vault) {
            this.type = type;
            this.ctrl = ctrl;
            this.vault = vault;
        }

        void wipe() {
            if (vault != null) Arrays.fill(vault, (byte) 0);
        }
    }

    private final MktmeKeyIds ids;
    private final KeyTableProgrammer programmer;
    private final Entropy entropy;
    private final boolean saveKeys;
    private final ReentrantReadWriteLock hotplug = new ReentrantReadWriteLock();
    /** Online CPUs → package; package → lead CPU. Hotplug lock. */
    private final TreeMap<Integer, Integer> cpuPackage = new TreeMap<>();
    private final TreeMap<Integer, Integer> leads = new TreeMap<>();
    /** KeyID → how it is programmed, while the KeyID is in use. Map lock. */
    private final Map<Integer, Program> programs = new HashMap<>();

    /**
     * @param ids        the KeyID map (KeyIDs 1..N enumerated at boot)
     * @param programmer PCONFIG on a CPU
     * @param entropy    kernel randomness XORed into SET_KEY_RANDOM fields
     * @param saveKeys   the {@code mktme_savekeys} boot parameter
     */
    public MktmeKeyType(MktmeKeyIds ids, KeyTableProgrammer programmer, Entropy entropy, boolean saveKeys) {
        this.ids = ids;
        this.programmer = programmer;
        this.entropy = entropy;
        this.saveKeys = saveKeys;
        ids.setReleaseHook(keyId -> {
            Program p = programs.remove(keyId);
            if (p != null) p.wipe();
        });
    }

    @Override
    public String name() {
        return "mktme";
    }

    public MktmeKeyIds keyIds() {
        return ids;
    }

    public boolean saveKeys() {
        return saveKeys;
    }

    /** The KeyID of a live mktme key (0 if it has none). */
    public static int keyIdOf(Key key) {
        return key.payload() instanceof MktmeKey mk ? mk.keyId() : 0;
    }

    /** The kind a KeyID is currently programmed as, or null if the KeyID is not in use. */
    public MktmeOptions.Type programmedType(int keyId) {
        ids.lock.lock();
        try {
            Program p = programs.get(keyId);
            return p == null ? null : p.type;
        } finally {
            ids.lock.unlock();
        }
    }

    /** Whether the vault holds key bytes for {@code keyId}. */
    public boolean vaulted(int keyId) {
        ids.lock.lock();
        try {
            Program p = programs.get(keyId);
            return p != null && p.vault != null;
        } finally {
            ids.lock.unlock();
        }
    }

    /**
     * For encrypt_mprotect (SPEC-FACTS §2): looks up {@code serial} for {@code t} with view
     * permission, and takes one KeyID reference for the caller (a VMA), which it must drop with
     * {@code keyIds().put(keyId)}. EACCES without view permission; ENOKEY if the serial is not a
     * live, valid mktme key.
     */
    public int acquireKeyIdForTask(dev.memcrypt.kernel.keys.KeyService svc, dev.memcrypt.kernel.task.Task t, int serial) throws ErrnoException {
        Key k;
        try {
            k = svc.lookupForTask(t, serial, dev.memcrypt.kernel.keys.KeyPerm.VIEW);
        } catch (ErrnoException e) {
            throw e.errno() == Errno.EACCES ? e : Errno.ENOKEY.exception();
        }
        try {
            if (k.type() != this || !(k.payload() instanceof MktmeKey mk) || mk.keyId() == 0) throw Errno.ENOKEY.exception();
            ids.get(mk.keyId());
            return mk.keyId();
        } finally {
            svc.release(k);
        }
    }

    // ------------------------------------------------------------------ key type operations

    /** Checks CAP_SYS_RESOURCE (or CAP_SYS_ADMIN) then the option grammar. No locks held. */
    @Override
    public void preparse(Preparsed prep) throws ErrnoException {
        if (!prep.cred().capable(Capability.CAP_SYS_RESOURCE) && !prep.cred().capable(Capability.CAP_SYS_ADMIN)) {
            throw Errno.EACCES.exception();
        }
        prep.payload = MktmeOptions.parse(prep.data());
        prep.quotalen = PAYLOAD_QUOTALEN;
    }

    @Override
    public void freePreparse(Preparsed prep) {
        if (prep.payload instanceof MktmeOptions o) o.destroy();
        prep.payload = null;
    }

    /** Reserves a KeyID and programs it everywhere. Held: the key's semaphore (write). */
    @Override
    public void instantiate(Key key, Preparsed prep) throws ErrnoException {
        MktmeOptions o = (MktmeOptions) prep.payload;
        hotplug.readLock().lock();
        try {
            int keyId = ids.reserve(key);
            if (keyId == 0) throw Errno.ENOKEY.exception();
            if (programAll(keyId, o) != ProgramStatus.SUCCESS) {
                ids.kill(keyId, key);
                throw Errno.ENOKEY.exception();
            }
            ids.lock.lock();
            try {
                programs.put(keyId, new Program(o.type(), o.keyIdCtrl(), vaultCopy(o)));
            } finally {
                ids.lock.unlock();
            }
            key.setPayload(new MktmeKey(keyId, o.type()));
        } finally {
            hotplug.readLock().unlock();
        }
    }

    @Override
    public boolean supportsUpdate() {
        return true;
    }

    /**
     * Reprograms the key's KeyID, only while the key holds the sole reference (else EBUSY).
     * Held: the key's semaphore (write); takes the hotplug read lock and the map lock, and
     * releases both on every path (seed 000 returned with the map lock held on EINVAL and EBUSY).
     */
    @Override
    public void update(Key key, Preparsed prep) throws ErrnoException {
        MktmeOptions o = (MktmeOptions) prep.payload;
        hotplug.readLock().lock();
        ids.lock.lock();
        try {
            if (!(key.payload() instanceof MktmeKey mk) || mk.keyId() == 0) throw Errno.EINVAL.exception();
            int keyId = mk.keyId();
            if (ids.refCount(keyId) > 1) throw Errno.EBUSY.exception();
            ProgramStatus st = programAll(keyId, o);
            Program old = programs.get(keyId);
            if (st == ProgramStatus.SUCCESS) {
                programs.put(keyId, new Program(o.type(), o.keyIdCtrl(), vaultCopy(o)));
                key.setPayload(new MktmeKey(keyId, o.type()));
            } else {
                programs.put(keyId, new Program(MktmeOptions.Type.CLEAR, KeyProgram.CMD_CLEAR_KEY | KeyProgram.ALG_AES_XTS_128, null));
                key.setPayload(new MktmeKey(keyId, MktmeOptions.Type.CLEAR));
            }
            if (old != null) old.wipe();
            if (st != ProgramStatus.SUCCESS) throw Errno.ENOKEY.exception();
        } finally {
            ids.lock.unlock();
            hotplug.readLock().unlock();
        }
    }

    /** Drops the key's KeyID reference (the KeyID stays in use while VMAs hold it). No locks held. */
    @Override
    public void destroy(Key key) {
        if (key.payload() instanceof MktmeKey mk && mk.keyId() != 0) ids.kill(mk.keyId(), key);
        key.setPayload(null);
    }

    // ------------------------------------------------------------------ programming

    private byte[] vaultCopy(MktmeOptions o) {
        if (!saveKeys || o.type() != MktmeOptions.Type.USER) return null;
        byte[] v = new byte[32];
        System.arraycopy(o.dataKey(), 0, v, 0, 16);
        System.arraycopy(o.tweakKey(), 0, v, 16, 16);
        return v;
    }

    private KeyProgram build(int keyId, int ctrl, byte[] f1, byte[] f2) {
        KeyProgram kp = new KeyProgram(keyId, ctrl, f1, f2);
        if ((ctrl & 0xff) == KeyProgram.CMD_SET_KEY_RANDOM) {
            // Independent kernel entropy per field (seed 000 XORed the same bytes into both).
            byte[] e = new byte[16];
            for (byte[] field : new byte[][] {kp.field1(), kp.field2()}) {
                if (!entropy.fill(e)) Arrays.fill(e, (byte) 0); // the CPU's own randomness still applies
                for (int i = 0; i < 16; i++) field[i] ^= e[i];
            }
            Arrays.fill(e, (byte) 0);
        }
        return kp;
    }

    private ProgramStatus programOne(int cpu, int keyId, int ctrl, byte[] f1, byte[] f2) {
        KeyProgram kp = build(keyId, ctrl, f1, f2);
        try {
            return programmer.program(cpu, kp);
        } finally {
            kp.destroy();
        }
    }

    /** Programs {@code keyId} on every lead CPU; on failure clears it everywhere. Hotplug lock held. */
    private ProgramStatus programAll(int keyId, MktmeOptions o) {
        List<Integer> targets = new ArrayList<>(leads.values());
        boolean[] done = new boolean[targets.size()];
        ProgramStatus last = ProgramStatus.SUCCESS;
        int remaining = targets.size();
        for (int attempt = 0; attempt < MAX_RETRIES && remaining > 0; attempt++) {
            boolean fatal = false;
            for (int i = 0; i < targets.size(); i++) {
                if (done[i]) continue;
                ProgramStatus st = programOne(targets.get(i), keyId, o.keyIdCtrl(), o.dataKey(), o.tweakKey());
                if (st == ProgramStatus.SUCCESS) {
                    done[i] = true;
                    remaining--;
                } else {
                    last = st;
                    if (!st.retryable()) {
                        fatal = true;
                        break;
                    }
                }
            }
            if (fatal) break;
            if (remaining > 0) Thread.yield();
        }
        if (remaining == 0) return ProgramStatus.SUCCESS;
        for (int cpu : targets) clearWithRetries(cpu, keyId);
        return last;
    }

    private void clearWithRetries(int cpu, int keyId) {
        for (int attempt = 0; attempt < MAX_RETRIES * 10; attempt++) {
            ProgramStatus st = programOne(cpu, keyId, KeyProgram.CMD_CLEAR_KEY | KeyProgram.ALG_AES_XTS_128, null, null);
            if (!st.retryable()) return;
            Thread.yield();
        }
    }

    // ------------------------------------------------------------------ CPU hotplug (patch 13)

    /** Boot: CPUs online before the key service starts (no keys yet). */
    public void cpuOnlineAtBoot(int cpu, int pkg) {
        hotplug.writeLock().lock();
        try {
            cpuPackage.put(cpu, pkg);
            leads.putIfAbsent(pkg, cpu);
        } finally {
            hotplug.writeLock().unlock();
        }
    }

    /**
     * A CPU comes online. Its package already has a lead: nothing to do. No KeyID in use: it
     * becomes the lead. User-type keys in use without mktme_savekeys: EPERM. Otherwise every KeyID
     * in use is programmed on the new package; any failure fails the whole package with ENOKEY
     * (what was programmed there is cleared again).
     */
    public void cpuOnline(int cpu, int pkg) throws ErrnoException {
        hotplug.writeLock().lock();
        try {
            if (cpuPackage.containsKey(cpu)) return;
            if (!leads.containsKey(pkg)) {
                ids.lock.lock();
                try {
                    if (!programs.isEmpty()) {
                        boolean userKeys = programs.values().stream().anyMatch(p -> p.type == MktmeOptions.Type.USER && p.vault == null);
                        if (userKeys && !saveKeys) throw Errno.EPERM.exception();
                        if (!programPackage(cpu, null)) throw Errno.ENOKEY.exception();
                    }
                } finally {
                    ids.lock.unlock();
                }
                leads.put(pkg, cpu);
            }
            cpuPackage.put(cpu, pkg);
        } finally {
            hotplug.writeLock().unlock();
        }
    }

    /**
     * Programs every KeyID in use on {@code cpu}'s package (hotplug lock and map lock held). With
     * {@code lost} null (hotplug) any failure clears what was programmed and returns false; with a
     * list (resume) user keys without vault bytes and failed KeyIDs are skipped and listed.
     */
    private boolean programPackage(int cpu, List<Integer> lost) {
        List<Integer> programmed = new ArrayList<>();
        for (Map.Entry<Integer, Program> e : new TreeMap<>(programs).entrySet()) {
            Program p = e.getValue();
            if (lost != null && p.type == MktmeOptions.Type.USER && p.vault == null) {
                if (!lost.contains(e.getKey())) lost.add(e.getKey());
                continue;
            }
            byte[] f1 = null, f2 = null;
            if (p.vault != null) {
                f1 = Arrays.copyOfRange(p.vault, 0, 16);
                f2 = Arrays.copyOfRange(p.vault, 16, 32);
            }
            try {
                ProgramStatus st = ProgramStatus.DEVICE_BUSY;
                for (int attempt = 0; attempt < MAX_RETRIES && st.retryable(); attempt++) {
                    st = programOne(cpu, e.getKey(), p.ctrl, f1, f2);
                }
                if (st != ProgramStatus.SUCCESS) {
                    clearWithRetries(cpu, e.getKey());
                    if (lost != null) {
                        if (!lost.contains(e.getKey())) lost.add(e.getKey());
                        continue;
                    }
                    for (int k : programmed) clearWithRetries(cpu, k);
                    return false;
                }
                programmed.add(e.getKey());
            } finally {
                if (f1 != null) Arrays.fill(f1, (byte) 0);
                if (f2 != null) Arrays.fill(f2, (byte) 0);
            }
        }
        return true;
    }

    /**
     * Resume after S3: every package lost its key table, so every KeyID in use is programmed again
     * through each package's lead CPU, from the vault for user keys (mktme_savekeys). type=cpu keys
     * get a fresh random key (their old memory contents are gone with the old key); user keys with
     * no vault bytes cannot be restored. Returns the KeyIDs left unprogrammed (they fall back to the
     * TME key), in order; resume itself cannot be refused.
     */
    public List<Integer> resume() {
        hotplug.writeLock().lock();
        ids.lock.lock();
        try {
            List<Integer> lost = new ArrayList<>();
            for (int cpu : leads.values()) programPackage(cpu, lost);
            java.util.Collections.sort(lost);
            return lost;
        } finally {
            ids.lock.unlock();
            hotplug.writeLock().unlock();
        }
    }

    /** A CPU goes offline. Always succeeds; if it was its package's lead, another online CPU of the package takes over. */
    public void cpuOffline(int cpu) {
        hotplug.writeLock().lock();
        try {
            Integer pkg = cpuPackage.remove(cpu);
            if (pkg == null) return;
            if (leads.get(pkg) == cpu) {
                leads.remove(pkg);
                for (Map.Entry<Integer, Integer> e : cpuPackage.entrySet()) {
                    if (e.getValue().equals(pkg)) {
                        leads.put(pkg, e.getKey());
                        break;
                    }
                }
            }
        } finally {
            hotplug.writeLock().unlock();
        }
    }

    /** Package → lead CPU (a copy). */
    public Map<Integer, Integer> leadCpus() {
        hotplug.readLock().lock();
        try {
            return new TreeMap<>(leads);
        } finally {
            hotplug.readLock().unlock();
        }
    }

    /** KeyIDs in use → programmed kind (a copy). */
    public Map<Integer, MktmeOptions.Type> programmedKeyIds() {
        ids.lock.lock();
        try {
            Map<Integer, MktmeOptions.Type> m = new TreeMap<>();
            programs.forEach((k, p) -> m.put(k, p.type));
            return m;
        } finally {
            ids.lock.unlock();
        }
    }
}
