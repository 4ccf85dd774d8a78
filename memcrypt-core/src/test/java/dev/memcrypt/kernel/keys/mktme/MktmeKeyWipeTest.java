package dev.memcrypt.kernel.keys.mktme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.KeyType;
import dev.memcrypt.kernel.keys.KeysFixture;
import dev.memcrypt.kernel.keys.Preparsed;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.util.Hex;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Key bytes are zero once the service is done with them (issue 4, "Wiping"; seed bug 9): the
 * preparsed payload buffer (the service's copy of the caller's data), and the data/tweak key
 * arrays of the parsed {@link MktmeOptions}, after instantiate, update and every failure, with and
 * without mktme_savekeys. The arrays are held by reference (a spy type around the real mktme
 * type captures them), so the assertions look at the very bytes the kernel had.
 */
class MktmeKeyWipeTest {
    static final String K = "00112233445566778899aabbccddeeff";
    static final String T = "ffeeddccbbaa99887766554433221100";
    static final String USER = "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T;
    static final String CPU_WITH_ENTROPY = "type=cpu algorithm=aes-xts-128 key=" + K + " tweak=" + T;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static boolean allZero(byte[] a) {
        for (byte x : a) if (x != 0) return false;
        return true;
    }

    /** What one preparse saw: the payload buffer and the parsed key arrays, by reference. */
    record Seen(Preparsed prep, byte[] data, MktmeOptions options, byte[] dataKey, byte[] tweakKey) {}

    /** The real mktme type, with every preparse's arrays recorded (while they still hold the key). */
    static final class Spy implements KeyType {
        final MktmeKeyType real;
        final List<Seen> seen = new ArrayList<>();
        final List<Boolean> liveAtInstantiate = new ArrayList<>();

        Spy(MktmeKeyType real) {
            this.real = real;
        }

        @Override
        public String name() {
            return real.name();
        }

        @Override
        public void preparse(Preparsed prep) throws ErrnoException {
            try {
                real.preparse(prep);
            } finally {
                MktmeOptions o = prep.payload instanceof MktmeOptions m ? m : null;
                seen.add(new Seen(prep, prep.data(), o, o == null ? null : o.dataKey(), o == null ? null : o.tweakKey()));
            }
        }

        @Override
        public void freePreparse(Preparsed prep) {
            real.freePreparse(prep);
        }

        @Override
        public void instantiate(Key key, Preparsed prep) throws ErrnoException {
            Seen s = seen.getLast();
            liveAtInstantiate.add(s.dataKey() != null && K.equals(Hex.of(s.dataKey())) && !allZero(s.data()));
            real.instantiate(key, prep);
        }

        @Override
        public boolean supportsUpdate() {
            return real.supportsUpdate();
        }

        @Override
        public void update(Key key, Preparsed prep) throws ErrnoException {
            real.update(key, prep);
        }

        @Override
        public void destroy(Key key) {
            real.destroy(key);
        }

        @Override
        public String describe(Key key) {
            return real.describe(key);
        }
    }

    final KeysFixture.MutableClock clock = new KeysFixture.MutableClock();
    final Task root = Task.spawn(Cred.root());

    Spy boot(int nrKeyIds, boolean saveKeys) {
        KeyService svc = new KeyService(clock, new SplittableRandom(3), KeyService.Limits.linuxDefaults());
        SoftPconfig pc = new SoftPconfig(2, 2, nrKeyIds, Entropy.seeded(4));
        MktmeKeyType t = new MktmeKeyType(new MktmeKeyIds(nrKeyIds), pc, Entropy.seeded(5), saveKeys);
        for (int cpu = 0; cpu < pc.cpus(); cpu++) t.cpuOnlineAtBoot(cpu, pc.packageOf(cpu));
        Spy spy = new Spy(t);
        svc.registerType(spy);
        this.svc = svc;
        return spy;
    }

    KeyService svc;

    int add(String name, String opts) throws ErrnoException {
        return svc.addKey(root, "mktme", name, b(opts), KeyService.KEY_SPEC_USER_KEYRING);
    }

    static void assertWiped(Seen s) {
        assertTrue(allZero(s.data()), "preparsed payload buffer zeroed");
        assertArrayEquals(new byte[s.data().length], s.prep().data(), "the Preparsed's own buffer is the one checked");
        if (s.options() != null) {
            assertNotNull(s.dataKey(), "options with key=");
            assertArrayEquals(new byte[16], s.dataKey(), "options' data key zeroed");
            assertArrayEquals(new byte[16], s.tweakKey(), "options' tweak key zeroed");
            assertNull(s.prep().payload, "free_preparse released the options");
        }
    }

    @Test
    void payloadAndOptionKeysZeroAfterInstantiate() throws ErrnoException {
        Spy spy = boot(3, false);
        byte[] callers = b(USER);
        svc.addKey(root, "mktme", "u", callers, KeyService.KEY_SPEC_USER_KEYRING);
        assertEquals(List.of(true), spy.liveAtInstantiate, "the captured arrays held the key when instantiate ran");
        assertEquals(1, spy.seen.size());
        assertWiped(spy.seen.getFirst());
        assertEquals(USER, new String(callers, StandardCharsets.UTF_8), "the caller's own buffer is copied, not modified");
    }

    @Test
    void payloadAndOptionKeysZeroAfterInstantiateWithSaveKeys() throws ErrnoException {
        Spy spy = boot(3, true);
        int id = add("u", USER);
        assertEquals(List.of(true), spy.liveAtInstantiate);
        assertWiped(spy.seen.getFirst());
        Key k = svc.acquire(id);
        try {
            assertTrue(spy.real.vaulted(MktmeKeyType.keyIdOf(k)), "savekeys keeps its own copy, not the options' arrays");
        } finally {
            svc.release(k);
        }
    }

    @Test
    void cpuKeyEntropyZeroAfterInstantiate() throws ErrnoException {
        Spy spy = boot(3, false);
        add("c", CPU_WITH_ENTROPY);
        assertWiped(spy.seen.getFirst());
    }

    @Test
    void payloadAndOptionKeysZeroAfterFailedInstantiate() throws ErrnoException {
        Spy spy = boot(1, false);
        add("a", USER);
        assertEquals(Errno.ENOKEY, assertThrows(ErrnoException.class, () -> add("b", USER)).errno());
        assertEquals(2, spy.seen.size());
        assertEquals(List.of(true, true), spy.liveAtInstantiate);
        for (Seen s : spy.seen) assertWiped(s);
    }

    @Test
    void payloadAndOptionKeysZeroAfterUpdateAndFailedUpdate() throws ErrnoException {
        Spy spy = boot(3, false);
        int id = add("u", CPU_WITH_ENTROPY);
        svc.update(root, id, b(USER));
        int keyId;
        Key k = svc.acquire(id);
        try {
            keyId = MktmeKeyType.keyIdOf(k);
        } finally {
            svc.release(k);
        }
        spy.real.keyIds().get(keyId); // a VMA reference: the next update is EBUSY
        assertEquals(Errno.EBUSY, assertThrows(ErrnoException.class, () -> svc.update(root, id, b(USER))).errno());
        assertEquals(3, spy.seen.size());
        for (Seen s : spy.seen) assertWiped(s);
    }

    @Test
    void payloadZeroAfterFailedParse() {
        Spy spy = boot(3, false);
        String[] bad = {
            USER + " bogus=1", // seed bug 9: every option parsed, then an unknown one
            USER + " key=" + K, // repeated option after key bytes were parsed
            "type=clear key=" + K + " tweak=" + T, // key bytes parsed, then rejected for the type
            "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T.substring(0, 31) + "g",
        };
        for (String p : bad) {
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> add("m", p)).errno(), p);
        }
        assertEquals(bad.length, spy.seen.size());
        for (Seen s : spy.seen) {
            assertNull(s.options(), "no options survive a failed parse");
            assertWiped(s);
        }
    }

    @Test
    void payloadZeroAfterCapabilityFailure() throws ErrnoException {
        Spy spy = boot(3, false);
        Task alice = Task.spawn(Cred.parse("uid=1000 gid=1000"));
        assertEquals(Errno.EACCES, assertThrows(ErrnoException.class,
                () -> svc.addKey(alice, "mktme", "u", b(USER), KeyService.KEY_SPEC_USER_KEYRING)).errno());
        assertEquals(1, spy.seen.size());
        assertWiped(spy.seen.getFirst());
    }

    /** The parser's own key/tweak arrays, for payloads rejected after key bytes were decoded. */
    @Test
    void parserKeyArraysZeroWhenParseFails() {
        String[] bad = {
            USER + " bogus=1",
            USER + " tweak=" + T,
            "type=clear key=" + K + " tweak=" + T,
            "type=no-encrypt key=" + K,
            "type=user key=" + K + " tweak=" + T, // algorithm missing: rejected at the end
            "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T.substring(0, 31) + "g", // tweak half decoded
            "type=user algorithm=aes-xts-128 key=" + K.substring(0, 30) + "zz tweak=" + T, // key half decoded
        };
        for (String p : bad) {
            List<byte[]> arrays = new ArrayList<>();
            ErrnoException e = assertThrows(ErrnoException.class, () -> MktmeOptions.parse(b(p), arrays::add), p);
            assertEquals(Errno.EINVAL, e.errno(), p);
            assertFalse(arrays.isEmpty(), "the payload decoded key bytes before failing: " + p);
            for (byte[] a : arrays) assertArrayEquals(new byte[16], a, p);
        }
    }

    @Test
    void parserKeyArraysAreTheOptionsArraysAndDestroyZeroesThem() throws ErrnoException {
        List<byte[]> arrays = new ArrayList<>();
        MktmeOptions o = MktmeOptions.parse(b(USER), arrays::add);
        assertEquals(2, arrays.size());
        assertTrue(arrays.get(0) == o.dataKey() && arrays.get(1) == o.tweakKey(), "no other copies");
        assertEquals(K, Hex.of(arrays.get(0)));
        assertEquals(T, Hex.of(arrays.get(1)));
        o.destroy();
        for (byte[] a : arrays) assertArrayEquals(new byte[16], a);
    }
}
