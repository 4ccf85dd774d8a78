package dev.memcrypt.kernel.keys.mktme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bugs found in seed 000's mktme_keys.c (RFC v2 patch 10), each shown not to occur here.
 * <ol>
 * <li>mktme_update_key returns -EINVAL and -EBUSY with mktme_map_lock held.
 * <li>mktme_program_keyid programs one key table (the calling CPU's package) only.
 * <li>No retry of ENTROPY_ERROR / DEVICE_BUSY.
 * <li>No rollback when programming fails part-way (no package loop at all).
 * <li>The same kernel entropy is XORed into both key fields of SET_KEY_RANDOM.
 * <li>The hardware programming struct is freed with key bytes in it (kmem_cache_free, not zeroed);
 *     kern_entropy stays on the stack.
 * <li>mktme_program_err[ret] is indexed with -ENOMEM or any unexpected status (out of bounds).
 * <li>prep->quotalen = sizeof(mktme_payload) charges a pointer's size, not the payload's.
 * <li>mktme_preparse_key leaks (unwiped) the payload when option parsing fails.
 * <li>kmemdup(prep->data, datalen + 1) reads one byte past the caller's data.
 * <li>An unknown option gives token -1 and test_and_set_bit(-1, ...) before the switch's EINVAL.
 * <li>hex2bin(…, 16) accepts 33+ hex digits (extra ignored); no exact-length check.
 * <li>type=clear / no-encrypt accept (and ignore) algorithm=, key=, tweak=.
 * <li>CLEAR and NO_ENCRYPT are programmed without the algorithm bit, which PCONFIG rejects
 *     (INVALID_ENC_ALG), so type=clear can never work.
 * <li>mktme_destroy_key runs for keys whose instantiation failed: keyid 0 → key_put_encrypt_ref(0).
 * <li>mktme_destroy_key drops the reference without mktme_map_lock and leaves the key pointer in
 *     the map (a later lookup can match a freed key).
 * <li>Update checks the reference count then programs; a VMA reference may appear between
 *     (only safe because the lock is held — and then leaked, see 1).
 * </ol>
 */
class MktmeSeedBugsTest {
    static final String K = "00112233445566778899aabbccddeeff";
    static final String T = "ffeeddccbbaa99887766554433221100";
    static final String USER = "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T;
    static final String CPU = "type=cpu algorithm=aes-xts-128";

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Records every program it forwards (the object, and a copy of the fields at call time). */
    static final class Recorder implements KeyTableProgrammer {
        final KeyTableProgrammer next;
        final List<KeyProgram> seen = new ArrayList<>();
        final List<byte[]> fields = new ArrayList<>();
        final List<Integer> cpus = new ArrayList<>();
        /** Runs before each program is forwarded (on the programming thread); null: none. */
        volatile java.util.function.Consumer<KeyProgram> before;

        Recorder(KeyTableProgrammer next) {
            this.next = next;
        }

        @Override
        public ProgramStatus program(int cpu, KeyProgram p) {
            java.util.function.Consumer<KeyProgram> b = before;
            if (b != null) b.accept(p); // outside the monitor, so a blocked hook holds no Recorder lock
            return record(cpu, p);
        }

        private synchronized ProgramStatus record(int cpu, KeyProgram p) {
            seen.add(p);
            cpus.add(cpu);
            byte[] f = new byte[32];
            System.arraycopy(p.field1(), 0, f, 0, 16);
            System.arraycopy(p.field2(), 0, f, 16, 16);
            fields.add(f);
            return next.program(cpu, p);
        }
    }

    final KeysFixture.MutableClock clock = new KeysFixture.MutableClock();
    final KeyService svc = new KeyService(clock, new SplittableRandom(5), KeyService.Limits.linuxDefaults());
    final SoftPconfig pc = new SoftPconfig(2, 2, 3, Entropy.seeded(1));
    final Recorder rec = new Recorder(pc);
    final MktmeKeyType type = new MktmeKeyType(new MktmeKeyIds(3), rec, Entropy.seeded(2), false);
    final Task root = Task.spawn(Cred.root());

    {
        for (int cpu = 0; cpu < 4; cpu++) type.cpuOnlineAtBoot(cpu, pc.packageOf(cpu));
        svc.registerType(type);
    }

    int add(String name, String opts) throws ErrnoException {
        return svc.addKey(root, "mktme", name, b(opts), KeyService.KEY_SPEC_USER_KEYRING);
    }

    int keyIdOf(int serial) {
        Key k = svc.acquire(serial);
        try {
            return MktmeKeyType.keyIdOf(k);
        } finally {
            svc.release(k);
        }
    }

    boolean otherThreadCanTakeMapLock() throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                boolean got = type.keyIds().lock.tryLock(2, TimeUnit.SECONDS);
                if (got) type.keyIds().lock.unlock();
                return got;
            } catch (InterruptedException e) {
                return false;
            }
        }).get();
    }

    @Test
    void seedBug1_updateErrorPathReleasesLock() throws Exception {
        int id = add("m", CPU);
        int keyId = keyIdOf(id);
        type.keyIds().get(keyId);
        assertEquals(Errno.EBUSY, assertThrows(ErrnoException.class, () -> svc.update(root, id, b("type=clear"))).errno());
        assertTrue(otherThreadCanTakeMapLock(), "EBUSY path released the map lock");
        type.keyIds().put(keyId);
        pc.inject(0, ProgramStatus.INVALID_KEYID, 1);
        assertEquals(Errno.ENOKEY, assertThrows(ErrnoException.class, () -> svc.update(root, id, b(CPU))).errno());
        assertTrue(otherThreadCanTakeMapLock(), "ENOKEY path released the map lock");
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> svc.update(root, id, b("type=bogus"))).errno());
        assertTrue(otherThreadCanTakeMapLock(), "EINVAL path released the map lock");
    }

    @Test
    void seedBug2_programsEveryPackageThroughItsLeadCpu() throws ErrnoException {
        add("m", USER);
        assertEquals(List.of(0, 2), rec.cpus);
        for (int p = 0; p < 2; p++) assertEquals(K + T, Hex.of(pc.table(p).get(1).key().copyBytes()));
    }

    @Test
    void seedBug3_retriesEntropyAndBusy() throws ErrnoException {
        pc.inject(0, ProgramStatus.ENTROPY_ERROR, 3);
        pc.inject(1, ProgramStatus.DEVICE_BUSY, 3);
        add("m", CPU);
        assertEquals(2 + 3 + 3, rec.cpus.size());
    }

    @Test
    void seedBug4_partialFailureRollsBackEveryPackage() {
        pc.inject(1, ProgramStatus.INVALID_ENC_ALG, 1);
        assertThrows(ErrnoException.class, () -> add("m", USER));
        for (int p = 0; p < 2; p++) assertEquals(KeyTable.Mode.TME, pc.table(p).get(1).mode());
        assertEquals(3, type.keyIds().available());
    }

    @Test
    void seedBug5_independentKernelEntropyPerKeyField() throws ErrnoException {
        add("m", CPU);
        byte[] f = rec.fields.get(0);
        assertFalse(Arrays.equals(Arrays.copyOfRange(f, 0, 16), Arrays.copyOfRange(f, 16, 32)));
    }

    @Test
    void seedBug6_programStructWipedAfterUse() throws ErrnoException {
        add("m", USER);
        for (KeyProgram p : rec.seen) {
            assertTrue(p.isDestroyed());
            assertThrows(IllegalStateException.class, p::field1);
        }
        assertFalse(rec.seen.get(0).toString().contains("0011"));
    }

    @Test
    void seedBug7_statusCodesAreBounded() {
        assertThrows(IllegalArgumentException.class, () -> ProgramStatus.ofCode(-12));
        assertThrows(IllegalArgumentException.class, () -> ProgramStatus.ofCode(6));
        for (ProgramStatus s : ProgramStatus.values()) assertEquals(s, ProgramStatus.ofCode(s.code()));
    }

    @Test
    void seedBug8_quotaChargesThePayloadNotAPointer() throws ErrnoException {
        long before = svc.quotaUsage(0)[1];
        add("m", CPU); // the first add also creates root's two user keyrings
        long ringBytes = "_uid.0".length() + 1 + "_uid_ses.0".length() + 1;
        assertEquals(before + ringBytes + "m".length() + 1 + MktmeKeyType.PAYLOAD_QUOTALEN, svc.quotaUsage(0)[1]);
    }

    @Test
    void seedBug9_failedParseLeavesNothingBehind() throws ErrnoException {
        add("warmup", CPU);
        long[] q = svc.quotaUsage(0);
        int live = svc.liveKeys().size();
        assertThrows(ErrnoException.class, () -> add("m", "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T + " bogus=1"));
        assertEquals(live, svc.liveKeys().size());
        assertEquals(q[0], svc.quotaUsage(0)[0]);
        assertEquals(q[1], svc.quotaUsage(0)[1]);
        // and nothing unwiped: the key and tweak the parser had decoded before the bad option are zero
        // (the preparsed payload buffer itself: MktmeKeyWipeTest#payloadZeroAfterFailedParse)
        List<byte[]> decoded = new ArrayList<>();
        assertThrows(ErrnoException.class, () -> MktmeOptions.parse(b(USER + " bogus=1"), decoded::add));
        assertEquals(2, decoded.size(), "key and tweak were decoded before the unknown option");
        for (byte[] a : decoded) assertTrue(Arrays.equals(new byte[16], a), "decoded key bytes wiped");
    }

    @Test
    void seedBug10_noOverreadAtThe1024Limit() throws ErrnoException {
        String exactly = CPU + " ".repeat(1024 - CPU.length());
        add("m", exactly);
        assertThrows(ErrnoException.class, () -> add("n", exactly + " "));
    }

    @Test
    void seedBug11_unknownOptionIsEinval() {
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> add("m", CPU + " nosuch=1")).errno());
    }

    @Test
    void seedBug12_hexMustBeExactly32Digits() {
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class,
                () -> add("m", "type=user algorithm=aes-xts-128 key=" + K + "00 tweak=" + T)).errno());
    }

    @Test
    void seedBug13_clearRejectsKeyOptions() {
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> add("m", "type=clear key=" + K)).errno());
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> add("m", "type=no-encrypt algorithm=aes-xts-128")).errno());
    }

    @Test
    void seedBug14_clearAndNoEncryptCarryTheAlgorithmBit() throws ErrnoException {
        int c = add("c", "type=clear");
        int n = add("n", "type=no-encrypt");
        assertEquals(KeyTable.Mode.NO_ENCRYPT, pc.table(1).get(keyIdOf(n)).mode());
        assertNotEquals(0, keyIdOf(c));
        for (KeyProgram p : rec.seen) assertEquals(1, p.algorithms());
    }

    @Test
    void seedBug15_destroyOfFailedKeyTouchesNoKeyId() throws ErrnoException {
        add("a", CPU);
        add("b", CPU);
        add("c", CPU);
        MktmeKeyIds.Snapshot before = type.keyIds().snapshot();
        assertEquals(Errno.ENOKEY, assertThrows(ErrnoException.class, () -> add("d", CPU)).errno());
        MktmeKeyIds.Snapshot after = type.keyIds().snapshot();
        assertEquals(Arrays.toString(before.refs()), Arrays.toString(after.refs()));
        assertEquals(Arrays.toString(before.states()), Arrays.toString(after.states()));
    }

    @Test
    void seedBug16_destroyClearsTheMapEntryUnderTheLock() throws ErrnoException {
        int id = add("m", CPU);
        Key k = svc.acquire(id);
        int keyId = MktmeKeyType.keyIdOf(k);
        svc.release(k);
        svc.invalidate(root, id);
        assertEquals(0, type.keyIds().keyIdOf(k), "no dangling key pointer");
        assertEquals(MktmeKeyIds.State.AVAILABLE, type.keyIds().state(keyId));
        assertTrue(k.isDead());
    }

    @Test
    void seedBug17_referenceTakenDuringUpdateWaitsForIt() throws Exception {
        int id = add("m", CPU);
        int keyId = keyIdOf(id);
        // Park the update inside its first PCONFIG: after its reference-count check, before
        // programming is done. A VMA reference requested exactly then must wait for the update.
        CountDownLatch programming = new CountDownLatch(1), release = new CountDownLatch(1);
        List<Integer> refsWhileProgramming = java.util.Collections.synchronizedList(new ArrayList<>());
        rec.before = p -> {
            if (p.command() != KeyProgram.CMD_CLEAR_KEY) return;
            refsWhileProgramming.add(type.keyIds().refCount(keyId)); // the updater holds the map lock (reentrant)
            if (programming.getCount() == 0) return;
            programming.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        Throwable[] updateFailure = {null};
        Thread updater = new Thread(() -> {
            try {
                svc.update(root, id, b("type=clear"));
            } catch (Throwable t) {
                updateFailure[0] = t;
            }
        }, "updater");
        Thread vma = new Thread(() -> type.keyIds().get(keyId), "vma");
        updater.start();
        try {
            assertTrue(programming.await(30, TimeUnit.SECONDS), "update reached PCONFIG");
            vma.start();
            // wait (no timing assertion) until the VMA thread is queued on the map lock the update holds
            while (!type.keyIds().lock.hasQueuedThread(vma)) {
                assertTrue(vma.isAlive(), "the reference was taken while update was programming");
                Thread.onSpinWait();
            }
            assertTrue(type.keyIds().lock.isLocked() && !type.keyIds().lock.isHeldByCurrentThread());
        } finally {
            release.countDown();
        }
        updater.join();
        vma.join();
        rec.before = null;
        assertEquals(null, updateFailure[0], "update succeeds: the reference came after its check");
        assertEquals(List.of(1, 1), refsWhileProgramming, "no new reference while either package was programmed");
        assertEquals(MktmeOptions.Type.CLEAR, type.programmedType(keyId));
        for (int p = 0; p < 2; p++) assertEquals(KeyTable.Mode.TME, pc.table(p).get(keyId).mode(), "package " + p + " cleared");
        assertEquals(2, type.keyIds().refCount(keyId), "the VMA's reference landed after the update");
        // and now that the reference exists, a further update is EBUSY
        assertEquals(Errno.EBUSY, assertThrows(ErrnoException.class, () -> svc.update(root, id, b(CPU))).errno());
        type.keyIds().put(keyId);
    }
}
