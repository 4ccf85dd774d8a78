package dev.memcrypt.kernel.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeInvariants;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.tools.keyctl.Keyctl;
import dev.memcrypt.util.Hex;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelBootTest {
    static final String K = "00112233445566778899aabbccddeeff";
    static final String T = "ffeeddccbbaa99887766554433221100";
    static final String USER = "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T;

    static Machine machine() {
        return Machine.powerOn(MachineConfig.defaults().with("seed", "1"));
    }

    static String keyctl(Kernel k, Task t, String... argv) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int rc = new Keyctl(k.keys()).run(t, List.of(argv), java.io.InputStream.nullInputStream(),
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        if (rc != 0) throw new AssertionError("exit " + rc + ": " + e.toString(StandardCharsets.UTF_8));
        return o.toString(StandardCharsets.UTF_8).strip();
    }

    List<String> check(Kernel k) {
        return MktmeInvariants.check(k.keys(), k.mktme(), p -> k.machine().pkg(p).keyTable(), null);
    }

    @Test
    void bootEnumeratesKeyIdsFromCpuidAndMsrs() {
        Kernel k = Kernel.boot(machine(), "quiet mktme_savekeys");
        assertTrue(k.dmesg().contains("x86/tme: enabled by BIOS"), k.dmesg().toString());
        assertTrue(k.dmesg().contains("x86/mktme: 63 KeyIDs available"), k.dmesg().toString());
        assertEquals(63, k.mktme().keyIds().nrKeyIds());
        assertTrue(k.mktme().saveKeys());
        assertEquals(2, k.mktme().leadCpus().size());
    }

    @Test
    void maxKeysLimitsKeyIds() {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("seed", "1").with("max_keys", "5"));
        assertEquals(5, Kernel.boot(m, "").mktme().keyIds().nrKeyIds());
    }

    @Test
    void tmeNotActivatedMeansNoMktme() throws ErrnoException {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("seed", "1").with("activate", "false"));
        Kernel k = Kernel.boot(m, "");
        assertNull(k.mktme());
        assertTrue(k.dmesg().contains("x86/tme: not enabled by BIOS"), k.dmesg().toString());
        ErrnoException e = assertThrows(ErrnoException.class, () -> k.keys().addKey(k.initTask(), "mktme", "m",
                "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_USER_KEYRING));
        assertEquals(Errno.ENODEV, e.errno());
    }

    @Test
    void userKeyIsProgrammedOnEveryPackageThroughPconfig() {
        Kernel k = Kernel.boot(machine(), "");
        String id = keyctl(k, k.initTask(), "add", "mktme", "m", USER, "@u");
        assertTrue(Integer.parseInt(id) > 0);
        for (int p = 0; p < 2; p++) {
            KeyTable.Entry e = k.machine().pkg(p).keyTable().get(1);
            assertEquals(KeyTable.Mode.KEY, e.mode());
            assertEquals(K + T, Hex.of(e.key().copyBytes()));
        }
        assertEquals(List.of(), check(k));
        assertEquals(List.of(), k.machine().checkInvariants());
        keyctl(k, k.initTask(), "update", id, "type=clear");
        assertEquals(KeyTable.Mode.TME, k.machine().pkg(1).keyTable().get(1).mode());
        keyctl(k, k.initTask(), "invalidate", id);
        assertEquals(63, k.mktme().keyIds().available());
    }

    @Test
    void hotplugWithoutSavekeysRefusesPackageWithUserKeys() throws ErrnoException {
        Kernel k = Kernel.boot(machine(), "");
        keyctl(k, k.initTask(), "add", "mktme", "m", USER, "@u");
        k.cpuOffline(2);
        k.cpuOffline(3); // package 1 powers off and loses its key table
        assertFalse(k.mktme().leadCpus().containsKey(1));
        assertEquals(Errno.EPERM, assertThrows(ErrnoException.class, () -> k.cpuOnline(2)).errno());
        assertFalse(k.machine().isOnline(2));
        assertEquals(List.of(), check(k));
    }

    @Test
    void hotplugWithSavekeysReprogramsNewPackage() throws ErrnoException {
        Kernel k = Kernel.boot(machine(), "mktme_savekeys");
        keyctl(k, k.initTask(), "add", "mktme", "m", USER, "@u");
        keyctl(k, k.initTask(), "add", "mktme", "n", "type=no-encrypt", "@u");
        k.cpuOffline(3);
        assertEquals(2, k.mktme().leadCpus().get(1), "lead stays while a CPU of the package is online");
        k.cpuOffline(2);
        assertEquals(KeyTable.Mode.TME, k.machine().pkg(1).keyTable().get(1).mode(), "power loss");
        k.cpuOnline(3);
        assertEquals(3, k.mktme().leadCpus().get(1));
        assertEquals(K + T, Hex.of(k.machine().pkg(1).keyTable().get(1).key().copyBytes()));
        assertEquals(KeyTable.Mode.NO_ENCRYPT, k.machine().pkg(1).keyTable().get(2).mode());
        assertEquals(List.of(), check(k));
        assertEquals(List.of(), k.machine().checkInvariants());
    }

    @Test
    void entropyFailureOnPconfigIsRetriedThenEnokey() {
        Kernel k = Kernel.boot(machine(), "");
        k.machine().setEntropy(dst -> false);
        ErrnoException e = assertThrows(ErrnoException.class, () -> k.keys().addKey(k.initTask(), "mktme", "m",
                "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_USER_KEYRING));
        assertEquals(Errno.ENOKEY, e.errno());
        assertEquals(63, k.mktme().keyIds().available());
        assertEquals(List.of(), check(k));
    }
}
