package dev.memcrypt.kernel.boot;

import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.Hw;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.keylocker.AesKlXts;
import dev.memcrypt.kernel.keylocker.KernelKeyLocker;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Kernel.boot sets Key Locker up when CPUID enumerates it; the kernel's hotplug and resume paths restore IWKey. */
class KernelKeyLockerWiringTest {
    static final byte[] KEY = Hw.bytes(32, 5);
    static final byte[] PT = Hw.bytes(512, 6);

    static byte[] enc(AesKlXts x, int cpu) {
        byte[] out = new byte[PT.length];
        assertEquals(0, x.encrypt(cpu, new byte[16], PT, 0, PT.length, out, 0), "AES-KL accepted the handle on cpu" + cpu);
        return out;
    }

    @Test
    void bootSetsUpKeyLockerWhenEnumerated() {
        Machine m = Hw.machine();
        Kernel k = Kernel.boot(m, "");
        assertNotNull(k.keyLocker());
        assertTrue(k.usesKeyLocker());
        assertTrue(k.dmesg().contains("x86/keylocker: Enabled."), k.dmesg().toString());
        for (Core c : m.cores()) {
            assertNotEquals(0, c.cr4() & Core.CR4_KL, "CR4.KL on cpu" + c.id());
            assertFalse(c.keyLocker().holdsResetKey(), "IWKey loaded on cpu" + c.id());
        }
    }

    @Test
    void bootWithoutKeyLockerOrWithClearcpuidLeavesItAlone() {
        Kernel none = Kernel.boot(Hw.machine("keylocker=false"), "");
        assertNull(none.keyLocker());
        assertFalse(none.usesKeyLocker());
        Machine m = Hw.machine();
        Kernel cleared = Kernel.boot(m, "mktme_savekeys clearcpuid=pcid,keylocker");
        assertNull(cleared.keyLocker());
        assertTrue(cleared.dmesg().contains("x86/keylocker: disabled by clearcpuid=keylocker"));
        for (Core c : m.cores()) {
            assertEquals(0, c.cr4() & Core.CR4_KL);
            assertTrue(c.keyLocker().holdsResetKey(), "no IWKey loaded on cpu" + c.id());
        }
    }

    @Test
    void cpuOnlineThroughTheKernelRestoresIwKey() throws ErrnoException {
        Machine m = Hw.machine();
        Kernel k = Kernel.boot(m, "");
        AesKlXts x = AesKlXts.setKey(k.keyLocker(), 0, KEY.clone());
        byte[] want = enc(x, 0);
        k.cpuOffline(3);
        k.cpuOffline(2); // package 1 powers off: its cores lose IWKey
        assertTrue(m.core(3).keyLocker().holdsResetKey());
        k.cpuOnline(3);
        assertNotEquals(0, m.core(3).cr4() & Core.CR4_KL, "the hotplug callback set CR4.KL");
        assertArrayEquals(want, enc(x, 3), "the platform backup brought the boot IWKey back on cpu3");
        assertTrue(k.usesKeyLocker());
    }

    @Test
    void s3ThroughTheKernelRestoresIwKeyOnEveryCpu() {
        Machine m = Hw.machine();
        Kernel k = Kernel.boot(m, "");
        AesKlXts x = AesKlXts.setKey(k.keyLocker(), 1, KEY.clone());
        byte[] want = enc(x, 1);
        k.suspendToRam();
        assertEquals(java.util.List.of(), k.resumeFromRam());
        for (Core c : m.cores()) {
            assertNotEquals(0, c.cr4() & Core.CR4_KL);
            assertArrayEquals(want, enc(x, c.id()), "handles from before S3 work on cpu" + c.id());
        }
        assertTrue(k.dmesg().contains("PM: suspend exit"));
    }

    @Test
    void s3WithoutTheKernelResumeLeavesIwKeyLost() {
        Machine m = Hw.machine();
        Kernel k = Kernel.boot(m, "");
        AesKlXts x = AesKlXts.setKey(k.keyLocker(), 0, KEY.clone());
        k.suspendToRam();
        m.resumeFromRam(); // the machine alone: no resume callback
        m.core(0).writeCr4(m.core(0).cr4() | Core.CR4_KL);
        byte[] out = new byte[PT.length];
        assertNotEquals(0, x.encrypt(0, new byte[16], PT, 0, PT.length, out, 0), "IWKey lost: the handle is refused");
    }

    @Test
    void resumeAlsoReprogramsMktmeKeysAndReportsWhatItCannot() throws ErrnoException {
        for (String cmdline : new String[] {"mktme_savekeys", ""}) {
            Machine m = Hw.machine();
            Kernel k = Kernel.boot(m, cmdline);
            int serial = k.keys().addKey(k.initTask(), "mktme", "u", ("type=user algorithm=aes-xts-128 key=" + "ab".repeat(16) + " tweak=" + "cd".repeat(16))
                    .getBytes(StandardCharsets.US_ASCII), dev.memcrypt.kernel.keys.KeyService.KEY_SPEC_USER_KEYRING);
            var key = k.keys().acquire(serial);
            int keyId = dev.memcrypt.kernel.keys.mktme.MktmeKeyType.keyIdOf(key);
            k.keys().release(key);
            m.pstore(0, 0x600000, keyId, PT);
            k.suspendToRam();
            var lost = k.resumeFromRam();
            if (cmdline.isEmpty()) {
                assertEquals(java.util.List.of(keyId), lost);
                assertFalse(Arrays.equals(PT, m.pload(0, 0x600000, keyId, PT.length)));
            } else {
                assertEquals(java.util.List.of(), lost);
                assertArrayEquals(PT, m.pload(2, 0x600000, keyId, PT.length), "reprogrammed from the vault on every package");
                assertTrue(m.checkInvariants().isEmpty(), m.checkInvariants().toString());
            }
        }
    }

    @Test
    void kernelKeyLockerIsTheOneTheKernelUses() {
        Kernel k = Kernel.boot(Hw.machine(), "");
        KernelKeyLocker kl = k.keyLocker();
        assertSame(kl, k.keyLocker());
        assertTrue(kl.log().stream().allMatch(l -> k.dmesg().contains(l)), "Key Locker's lines are in dmesg");
    }
}
