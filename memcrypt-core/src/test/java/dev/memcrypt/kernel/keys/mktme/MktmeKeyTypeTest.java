package dev.memcrypt.kernel.keys.mktme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.KeysFixture;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.util.Hex;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MktmeKeyTypeTest {
    static final String K = "00112233445566778899aabbccddeeff";
    static final String T = "ffeeddccbbaa99887766554433221100";
    static final String USER = "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T;
    static final String CPU = "type=cpu algorithm=aes-xts-128";

    final KeysFixture f = new KeysFixture();

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    int add(Task t, String name, String opts) throws ErrnoException {
        return f.svc.addKey(t, "mktme", name, b(opts), KeyService.KEY_SPEC_USER_KEYRING);
    }

    Errno err(Executable e) {
        return assertThrows(ErrnoException.class, e::run).errno();
    }

    interface Executable {
        void run() throws Exception;
    }

    int keyIdOf(int serial) {
        Key k = f.svc.acquire(serial);
        try {
            return MktmeKeyType.keyIdOf(k);
        } finally {
            f.svc.release(k);
        }
    }

    void consistent() {
        List<String> v = MktmeInvariants.check(f.svc, f.mktme, f.pconfig::table, null);
        assertEquals(List.of(), v);
    }

    @Test
    void eaccesWithoutSysResourceOrSysAdmin() throws ErrnoException {
        assertEquals(Errno.EACCES, err(() -> add(f.alice, "m", CPU)));
        Task res = Task.spawn(Cred.parse("uid=1000 caps=CAP_SYS_RESOURCE"));
        Task adm = Task.spawn(Cred.parse("uid=1001 caps=CAP_SYS_ADMIN"));
        Task other = Task.spawn(Cred.parse("uid=1002 caps=CAP_NET_ADMIN,CAP_SYS_NICE"));
        add(res, "m", CPU);
        add(adm, "m", CPU);
        assertEquals(Errno.EACCES, err(() -> add(other, "m", CPU)));
        // update re-checks in preparse
        int id = add(f.root, "r", CPU);
        f.svc.setPerm(f.root, id, 0x3f3f3f3f);
        assertEquals(Errno.EACCES, err(() -> f.svc.update(f.alice, id, b("type=clear"))));
        consistent();
    }

    @Test
    void enokeyWhenAllKeyIdsTakenAndFreeAgainAfterInvalidate() throws ErrnoException {
        int[] ids = new int[7];
        for (int i = 0; i < 7; i++) ids[i] = add(f.root, "m" + i, CPU);
        long[] quotaBefore = f.svc.quotaUsage(0);
        int liveBefore = f.svc.liveKeys().size();
        assertEquals(Errno.ENOKEY, err(() -> add(f.root, "m7", CPU)));
        assertEquals(liveBefore, f.svc.liveKeys().size(), "no half-created key");
        assertArrayEquals(quotaBefore, f.svc.quotaUsage(0), "quota returned");
        int freed = keyIdOf(ids[3]);
        f.svc.invalidate(f.root, ids[3]);
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.mktme.keyIds().state(freed));
        int again = add(f.root, "m7", CPU);
        assertEquals(freed, keyIdOf(again));
        consistent();
    }

    @Test
    void keyIdFreedOnlyByGcWhenAutoGcOff() throws ErrnoException {
        f.svc.setAutoGc(false);
        int id = add(f.root, "m", CPU);
        int keyId = keyIdOf(id);
        f.svc.invalidate(f.root, id);
        assertEquals(MktmeKeyIds.State.ASSIGNED, f.mktme.keyIds().state(keyId));
        f.svc.gc();
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.mktme.keyIds().state(keyId));
    }

    @Test
    void ebusyOnUpdateWhileReferenced() throws ErrnoException {
        int id = add(f.root, "m", CPU);
        int keyId = keyIdOf(id);
        f.mktme.keyIds().get(keyId); // a VMA (encrypt_mprotect) reference
        assertEquals(Errno.EBUSY, err(() -> f.svc.update(f.root, id, b("type=clear"))));
        assertEquals(KeyTable.Mode.KEY, f.pconfig.table(0).get(keyId).mode(), "unchanged");
        // the key goes away but the VMA keeps the KeyID
        f.svc.invalidate(f.root, id);
        assertEquals(MktmeKeyIds.State.REF_KILLED, f.mktme.keyIds().state(keyId));
        consistent2(keyId, 1);
        f.mktme.keyIds().put(keyId);
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.mktme.keyIds().state(keyId));
        consistent();
    }

    void consistent2(int keyId, int extra) {
        assertEquals(List.of(), MktmeInvariants.check(f.svc, f.mktme, f.pconfig::table, java.util.Map.of(keyId, extra)));
    }

    @Test
    void updateReprogramsEveryPackage() throws ErrnoException {
        int id = add(f.root, "m", CPU);
        int keyId = keyIdOf(id);
        f.svc.update(f.root, id, b("type=clear"));
        for (int p = 0; p < 2; p++) assertEquals(KeyTable.Mode.TME, f.pconfig.table(p).get(keyId).mode());
        f.svc.update(f.root, id, b("type=no-encrypt"));
        for (int p = 0; p < 2; p++) assertEquals(KeyTable.Mode.NO_ENCRYPT, f.pconfig.table(p).get(keyId).mode());
        f.svc.update(f.root, id, b(USER));
        for (int p = 0; p < 2; p++) {
            byte[] got = f.pconfig.table(p).get(keyId).key().copyBytes();
            assertEquals(K + T, Hex.of(got));
        }
        consistent();
    }

    @Test
    void cpuKeysAreRandomPerPackage() throws ErrnoException {
        int keyId = keyIdOf(add(f.root, "m", CPU));
        assertNotEquals(Hex.of(f.pconfig.table(0).get(keyId).key().copyBytes()), Hex.of(f.pconfig.table(1).get(keyId).key().copyBytes()));
    }

    @Test
    void programmingFailureOnOnePackageRollsBackOnAll() throws ErrnoException {
        f.pconfig.inject(1, ProgramStatus.INVALID_ENC_ALG, 1);
        assertEquals(Errno.ENOKEY, err(() -> add(f.root, "m", USER)));
        for (int p = 0; p < 2; p++) assertEquals(KeyTable.Mode.TME, f.pconfig.table(p).get(1).mode(), "package " + p + " cleared");
        assertEquals(7, f.mktme.keyIds().available());
        consistent();
    }

    @Test
    void retriesBusyAndEntropyUpToTenTimes() throws ErrnoException {
        f.pconfig.inject(1, ProgramStatus.DEVICE_BUSY, 5);
        f.pconfig.inject(1, ProgramStatus.ENTROPY_ERROR, 4);
        int id = add(f.root, "m", CPU); // 9 failures then success on the 10th try
        consistent();
        f.pconfig.inject(0, ProgramStatus.DEVICE_BUSY, 10);
        assertEquals(Errno.ENOKEY, err(() -> add(f.root, "m2", CPU)));
        f.pconfig.clearInjections();
        assertEquals(6, f.mktme.keyIds().available());
        assertTrue(id > 0);
        consistent();
    }

    @Test
    void failedUpdateLeavesKeyClearedEverywhere() throws ErrnoException {
        int id = add(f.root, "m", USER);
        int keyId = keyIdOf(id);
        f.pconfig.inject(1, ProgramStatus.INVALID_KEYID, 1);
        assertEquals(Errno.ENOKEY, err(() -> f.svc.update(f.root, id, b(CPU))));
        assertEquals(MktmeOptions.Type.CLEAR, f.mktme.programmedType(keyId));
        for (int p = 0; p < 2; p++) assertEquals(KeyTable.Mode.TME, f.pconfig.table(p).get(keyId).mode());
        assertFalse(f.mktme.keyIds().lock.isLocked(), "map lock released");
        consistent();
    }

    @Test
    void keyDataWipedUnlessSaved() throws ErrnoException {
        int keyId = keyIdOf(add(f.root, "u", USER));
        assertFalse(f.mktme.vaulted(keyId));
        KeysFixture s = new KeysFixture(2, 2, 7, true);
        int sid = s.svc.addKey(s.root, "mktme", "u", b(USER), KeyService.KEY_SPEC_USER_KEYRING);
        Key k = s.svc.acquire(sid);
        int skid = MktmeKeyType.keyIdOf(k);
        s.svc.release(k);
        assertTrue(s.mktme.vaulted(skid));
        int cid = s.svc.addKey(s.root, "mktme", "c", b(CPU), KeyService.KEY_SPEC_USER_KEYRING);
        Key ck = s.svc.acquire(cid);
        assertFalse(s.mktme.vaulted(MktmeKeyType.keyIdOf(ck)), "only user keys are vaulted");
        s.svc.release(ck);
        s.svc.invalidate(s.root, sid);
        assertFalse(s.mktme.vaulted(skid), "vault entry wiped with the KeyID");
    }

    @Test
    void describeAndProcKeys() throws ErrnoException {
        int id = add(f.root, "mykey", CPU);
        assertEquals("mktme;0;0;3d010000;mykey", f.svc.describe(f.root, id));
        assertTrue(f.svc.procKeys(f.root).contains("mktme     mykey: 36"));
        assertEquals(Errno.EOPNOTSUPP, err(() -> f.svc.read(f.root, id)));
    }

    @Test
    void revokedKeyKeepsKeyIdUntilGcDelayThenFreesIt() throws ErrnoException {
        int id = add(f.root, "m", CPU);
        int keyId = keyIdOf(id);
        f.svc.revoke(f.root, id);
        assertEquals(MktmeKeyIds.State.ASSIGNED, f.mktme.keyIds().state(keyId));
        f.clock.advance(java.time.Duration.ofSeconds(301));
        f.svc.gc();
        assertEquals(MktmeKeyIds.State.AVAILABLE, f.mktme.keyIds().state(keyId));
        consistent();
    }

    @Test
    void acquireKeyIdForVmaChecksViewAndType() throws ErrnoException {
        int id = add(f.root, "m", CPU);
        int keyId = f.mktme.acquireKeyIdForTask(f.svc, f.root, id);
        assertEquals(2, f.mktme.keyIds().refCount(keyId));
        assertEquals(Errno.EACCES, err(() -> f.mktme.acquireKeyIdForTask(f.svc, f.alice, id)));
        int user = f.svc.addKey(f.root, "user", "u", b("x"), KeyService.KEY_SPEC_USER_KEYRING);
        assertEquals(Errno.ENOKEY, err(() -> f.mktme.acquireKeyIdForTask(f.svc, f.root, user)));
        assertEquals(Errno.ENOKEY, err(() -> f.mktme.acquireKeyIdForTask(f.svc, f.root, 424242)));
        f.svc.revoke(f.root, id);
        assertEquals(Errno.ENOKEY, err(() -> f.mktme.acquireKeyIdForTask(f.svc, f.root, id)));
        f.mktme.keyIds().put(keyId);
    }

    // ------------------------------------------------------------------ CPU hotplug

    /** 3 packages of 2 CPUs; package 2 starts offline. */
    static final class Hot {
        final KeysFixture.MutableClock clock = new KeysFixture.MutableClock();
        final KeyService svc = new KeyService(clock, new SplittableRandom(1), KeyService.Limits.linuxDefaults());
        final SoftPconfig pc = new SoftPconfig(3, 2, 7, Entropy.seeded(3));
        final MktmeKeyType type;
        final Task root = Task.spawn(Cred.root());

        Hot(boolean save) {
            type = new MktmeKeyType(new MktmeKeyIds(7), pc, Entropy.seeded(4), save);
            for (int cpu = 0; cpu < 4; cpu++) type.cpuOnlineAtBoot(cpu, pc.packageOf(cpu));
            svc.registerType(type);
        }

        int add(String opts) throws ErrnoException {
            return svc.addKey(root, "mktme", "k" + opts.length() + svc.liveKeys().size(), b(opts), KeyService.KEY_SPEC_USER_KEYRING);
        }

        List<String> check() {
            return MktmeInvariants.check(svc, type, pc::table, null);
        }
    }

    @Test
    void hotplugNoKeysNewCpuBecomesLead() throws ErrnoException {
        Hot h = new Hot(false);
        h.type.cpuOnline(4, 2);
        assertEquals(4, h.type.leadCpus().get(2));
        long calls = h.pc.calls();
        h.type.cpuOnline(5, 2); // package already has a lead: nothing to program
        assertEquals(calls, h.pc.calls());
    }

    @Test
    void hotplugWithUserKeysWithoutSavekeysIsEperm() throws ErrnoException {
        Hot h = new Hot(false);
        h.add(USER);
        assertEquals(Errno.EPERM, assertThrows(ErrnoException.class, () -> h.type.cpuOnline(4, 2)).errno());
        assertNull(h.type.leadCpus().get(2));
        assertEquals(List.of(), h.check());
    }

    @Test
    void hotplugWithCpuKeysOnlyProgramsNewPackage() throws ErrnoException {
        Hot h = new Hot(false);
        h.add(CPU);
        h.add("type=no-encrypt");
        h.type.cpuOnline(4, 2);
        assertEquals(KeyTable.Mode.KEY, h.pc.table(2).get(1).mode());
        assertEquals(KeyTable.Mode.NO_ENCRYPT, h.pc.table(2).get(2).mode());
        assertEquals(List.of(), h.check());
    }

    @Test
    void hotplugWithSavekeysReprogramsUserKeysFromVault() throws ErrnoException {
        Hot h = new Hot(true);
        h.add(USER);
        h.add(CPU);
        h.type.cpuOnline(4, 2);
        assertEquals(K + T, Hex.of(h.pc.table(2).get(1).key().copyBytes()));
        assertEquals(List.of(), h.check());
    }

    @Test
    void hotplugProgrammingFailureFailsWholePackage() throws ErrnoException {
        Hot h = new Hot(true);
        h.add(USER);
        h.add(CPU);
        h.pc.inject(2, ProgramStatus.SUCCESS, 1); // KeyID 1 "succeeds" without touching the table...
        h.pc.inject(2, ProgramStatus.INVALID_ENC_ALG, 1); // ...KeyID 2 fails
        assertEquals(Errno.ENOKEY, assertThrows(ErrnoException.class, () -> h.type.cpuOnline(4, 2)).errno());
        assertNull(h.type.leadCpus().get(2));
        for (int k = 1; k <= 2; k++) assertEquals(KeyTable.Mode.TME, h.pc.table(2).get(k).mode());
        h.type.cpuOnline(4, 2); // a later attempt can succeed
        assertEquals(List.of(), h.check());
    }

    @Test
    void hotplugTeardownAlwaysSucceedsAndLeadMoves() throws ErrnoException {
        Hot h = new Hot(false);
        h.add(USER);
        assertEquals(0, h.type.leadCpus().get(0));
        h.type.cpuOffline(0);
        assertEquals(1, h.type.leadCpus().get(0));
        h.type.cpuOffline(1);
        assertNull(h.type.leadCpus().get(0));
        // the package is gone: new keys program only package 1
        h.add(CPU);
        assertEquals(List.of(), h.check());
        // with user keys and no savekeys, the package cannot come back
        assertEquals(Errno.EPERM, assertThrows(ErrnoException.class, () -> h.type.cpuOnline(0, 0)).errno());
    }
}
