package dev.memcrypt.hw;

import static dev.memcrypt.hw.cpu.TmeMsrs.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import org.junit.jupiter.api.Test;

/** IA32_TME_CAPABILITY, IA32_TME_ACTIVATE, exclusion and partitioning MSRs (SPEC-FACTS §1 "MSRs"). */
class TmeMsrTest {
    /** Enable, new key, KEYID_BITS = 6, AES-XTS-128 allowed. */
    static final long GOOD = ACT_ENABLE | 6L << ACT_KEYID_BITS_SHIFT | 1L << ACT_ALGS_SHIFT;

    static Core sw(String... more) {
        String[] opts = new String[more.length + 1];
        opts[0] = "activate=false";
        System.arraycopy(more, 0, opts, 1, more.length);
        return Hw.machine(opts).core(0);
    }

    static String gp(Runnable r) {
        return assertThrows(GeneralProtectionFault.class, r::run).getMessage();
    }

    // ---- IA32_TME_CAPABILITY

    @Test
    void rdmsrCapabilityAlgorithmBits() {
        assertEquals(0b0101, sw("algorithms=5").rdmsr(IA32_TME_CAPABILITY) & 0xf);
    }

    @Test
    void rdmsrCapabilityBypassBit31() {
        assertEquals(CAP_BYPASS, sw("bypass_supported=true").rdmsr(IA32_TME_CAPABILITY) & CAP_BYPASS);
        assertEquals(0, sw("bypass_supported=false").rdmsr(IA32_TME_CAPABILITY) & CAP_BYPASS);
    }

    @Test
    void rdmsrCapabilityMaxKeyIdBits35to32() {
        assertEquals(7, (sw("max_keyid_bits=7").rdmsr(IA32_TME_CAPABILITY) >>> 32) & 0xf);
    }

    @Test
    void rdmsrCapabilityMaxKeys50to36() {
        assertEquals(40, (sw("max_keys=40").rdmsr(IA32_TME_CAPABILITY) >>> 36) & 0x7fff);
    }

    @Test
    void wrmsrCapabilityReadOnlyGp() {
        Core c = sw();
        long before = c.rdmsr(IA32_TME_CAPABILITY);
        gp(() -> c.wrmsr(IA32_TME_CAPABILITY, before));
        assertEquals(before, c.rdmsr(IA32_TME_CAPABILITY));
    }

    @Test
    void rdmsrTmeMsrsWithoutTmeGp() {
        Core c = sw("tme=false");
        for (int msr : new int[] {IA32_TME_CAPABILITY, IA32_TME_ACTIVATE, IA32_TME_EXCLUDE_MASK, IA32_TME_EXCLUDE_BASE, IA32_MKTME_KEYID_PARTITIONING}) {
            gp(() -> c.rdmsr(msr));
        }
    }

    // ---- IA32_TME_ACTIVATE: #GP rules in SPEC-FACTS order

    @Test
    void wrmsrActivateTmeNotEnumeratedGp() {
        Core c = sw("tme=false");
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD)).contains("not enumerated"));
    }

    @Test
    void wrmsrActivateAfterLockGp() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, GOOD);
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD)).contains("locked"));
    }

    @Test
    void wrmsrActivateLockedCheckedBeforeReservedBits() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, GOOD);
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 1L << 8)).contains("locked"));
    }

    @Test
    void wrmsrActivateReservedBitsGp() {
        for (int bit : new int[] {8, 20, 30, 36, 40, 47}) {
            Core c = sw();
            assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 1L << bit)).contains("reserved"), "bit " + bit);
            assertEquals(0, c.rdmsr(IA32_TME_ACTIVATE) & ACT_LOCK, "a faulting write does not lock");
        }
    }

    @Test
    void wrmsrActivateBypassWithoutSupportGp() {
        Core c = sw("bypass_supported=false");
        gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | ACT_BYPASS));
    }

    @Test
    void wrmsrActivateReservedCheckedBeforePolicy() {
        Core c = sw();
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 1L << 9 | 5L << ACT_POLICY_SHIFT)).contains("reserved"));
    }

    @Test
    void wrmsrActivatePolicyNotInCapabilityGp() {
        Core c = sw("algorithms=1");
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 1L << ACT_POLICY_SHIFT)).contains("policy"));
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 2L << ACT_POLICY_SHIFT)).contains("policy"));
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 9L << ACT_POLICY_SHIFT)).contains("policy"));
    }

    @Test
    void wrmsrActivatePolicyInCapabilityAccepted() {
        Core c = sw("algorithms=5");
        c.wrmsr(IA32_TME_ACTIVATE, GOOD | 2L << ACT_POLICY_SHIFT);
        assertEquals(2, (c.rdmsr(IA32_TME_ACTIVATE) >>> ACT_POLICY_SHIFT) & 0xf);
    }

    @Test
    void wrmsrActivatePolicyCheckedBeforeKeyIdBits() {
        Core c = sw("algorithms=1", "max_keyid_bits=6");
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, ACT_ENABLE | 1L << ACT_POLICY_SHIFT | 9L << ACT_KEYID_BITS_SHIFT)).contains("policy"));
    }

    @Test
    void wrmsrActivateKeyIdBitsAboveMaxGp() {
        Core c = sw("max_keyid_bits=6");
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, ACT_ENABLE | 7L << ACT_KEYID_BITS_SHIFT | 1L << ACT_ALGS_SHIFT)).contains("MAX_KEYID_BITS"));
    }

    @Test
    void wrmsrActivateKeyIdBitsWithoutEnableGp() {
        Core c = sw();
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, 4L << ACT_KEYID_BITS_SHIFT | 1L << ACT_ALGS_SHIFT)).contains("enable = 0"));
    }

    @Test
    void wrmsrActivateKeyIdBitsCheckedBeforeAlgs() {
        Core c = sw();
        assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, 4L << ACT_KEYID_BITS_SHIFT | 1L << 60)).contains("enable = 0"));
    }

    @Test
    void wrmsrActivateReservedAlgsGp() {
        for (int bit : new int[] {49, 50, 51, 52, 63}) {
            Core c = sw("algorithms=1");
            assertTrue(gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD | 1L << bit)).contains("CRYPTO_ALGS"), "bit " + bit);
        }
    }

    @Test
    void wrmsrActivateSupportedAlgAccepted() {
        Core c = sw("algorithms=5");
        c.wrmsr(IA32_TME_ACTIVATE, GOOD | 1L << 50);
        assertEquals(0b101, (c.rdmsr(IA32_TME_ACTIVATE) >>> ACT_ALGS_SHIFT) & 0xffff);
    }

    @Test
    void wrmsrActivateFirstSuccessfulWriteLocksAndReadsBack011() {
        Core c = sw();
        assertEquals(0, c.rdmsr(IA32_TME_ACTIVATE));
        c.wrmsr(IA32_TME_ACTIVATE, GOOD);
        long v = c.rdmsr(IA32_TME_ACTIVATE);
        assertEquals(0b011, v & 0b111);
        assertEquals(6, (v >>> ACT_KEYID_BITS_SHIFT) & 0xf);
        assertEquals(6, c.machine().keyIdBits());
        assertEquals(63, c.machine().maxKeyId());
    }

    @Test
    void wrmsrActivateRngFailureReadsBack000AndStaysUnlocked() {
        Core c = sw();
        c.machine().setEntropy(dst -> false);
        c.wrmsr(IA32_TME_ACTIVATE, GOOD);
        assertEquals(0, c.rdmsr(IA32_TME_ACTIVATE) & 0b111);
        assertFalse(c.machine().tme().active());
        assertEquals(0, c.machine().keyIdBits());
        c.machine().setEntropy(Entropy.seeded(3));
        c.wrmsr(IA32_TME_ACTIVATE, GOOD); // retry succeeds
        assertEquals(0b011, c.rdmsr(IA32_TME_ACTIVATE) & 0b111);
    }

    @Test
    void wrmsrActivateRestoreWithoutSavedKeyReadsBack000() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, GOOD | ACT_KEY_SELECT);
        assertEquals(0, c.rdmsr(IA32_TME_ACTIVATE) & 0b111);
    }

    @Test
    void wrmsrActivateSaveKeyBitReadsBack() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, GOOD | ACT_SAVE_KEY);
        assertEquals(ACT_SAVE_KEY | 0b011, c.rdmsr(IA32_TME_ACTIVATE) & 0xf);
        assertTrue(c.machine().tme().hasSavedKey());
    }

    @Test
    void wrmsrActivateDisabledLocksWithTmeOff() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, 0);
        assertEquals(ACT_LOCK, c.rdmsr(IA32_TME_ACTIVATE));
        assertFalse(c.machine().tme().active());
        gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD));
        Machine m = c.machine();
        m.pstore(0, 0x5000, 0, Hw.bytes(64, 1));
        m.clflush(0, 0x5000, 0);
        assertArrayEquals(Hw.bytes(64, 1), m.dram().read(0x5000, 64), "TME off: plaintext in DRAM");
    }

    @Test
    void firmwareActivationLocksAtPowerOn() {
        Machine m = Hw.machine();
        assertEquals(0b011, m.core(1).rdmsr(IA32_TME_ACTIVATE) & 0b111);
        assertEquals(6, m.keyIdBits());
    }

    @Test
    void activateIsPlatformWideSameValueOnEveryCore() {
        Machine m = Hw.machine();
        for (Core c : m.cores()) assertEquals(m.core(0).rdmsr(IA32_TME_ACTIVATE), c.rdmsr(IA32_TME_ACTIVATE));
    }

    @Test
    void bypassLeavesKeyIdZeroPlaintext() {
        Machine m = Hw.machine("bypass=true");
        m.pstore(0, 0x3000, 0, Hw.bytes(128, 2));
        m.clflushRange(0, 0x3000, 0, 128);
        assertArrayEquals(Hw.bytes(128, 2), m.dram().read(0x3000, 128));
        assertEquals(ACT_BYPASS, m.core(0).rdmsr(IA32_TME_ACTIVATE) & ACT_BYPASS);
    }

    // ---- exclusion range

    @Test
    void wrmsrExcludeMaskAndBaseReadBack() {
        Core c = sw();
        c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x3fff_ffff_f000L | EXCL_ENABLE);
        c.wrmsr(IA32_TME_EXCLUDE_BASE, 0x10_0000L);
        assertEquals(0x3fff_ffff_f000L | EXCL_ENABLE, c.rdmsr(IA32_TME_EXCLUDE_MASK));
        assertEquals(0x10_0000L, c.rdmsr(IA32_TME_EXCLUDE_BASE));
    }

    @Test
    void wrmsrExcludeMaskReservedBitsGp() {
        Core c = sw("maxphyaddr=46");
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x3fff_ffff_f000L | 1));
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x3fff_ffff_f000L | 1L << 46));
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x3fff_ffff_f000L | 1L << 63));
    }

    @Test
    void wrmsrExcludeMaskNonContiguousGp() {
        Core c = sw("maxphyaddr=46");
        assertTrue(gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x3fff_fff0_f000L | EXCL_ENABLE)).contains("contiguous"));
        assertTrue(gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x1fff_ffff_f000L | EXCL_ENABLE)).contains("contiguous"));
    }

    @Test
    void wrmsrExcludeBaseReservedBitsGp() {
        Core c = sw("maxphyaddr=46");
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_BASE, 0x1000 | 0x800));
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_BASE, 1L << 46));
    }

    @Test
    void wrmsrExcludeMaskAfterLockGp() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, GOOD);
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0x3fff_ffff_f000L | EXCL_ENABLE));
    }

    @Test
    void wrmsrExcludeBaseAfterLockGp() {
        Core c = sw();
        c.wrmsr(IA32_TME_ACTIVATE, GOOD);
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_BASE, 0x10_0000L));
    }

    @Test
    void wrmsrExcludeWithoutTmeGp() {
        Core c = sw("tme=false");
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_MASK, 0));
        gp(() -> c.wrmsr(IA32_TME_EXCLUDE_BASE, 0));
    }

    // ---- IA32_MKTME_KEYID_PARTITIONING

    @Test
    void rdmsrPartitioningCountsMktmeKeyIdsLimitedByMaxKeys() {
        assertEquals(63, Hw.machine().core(0).rdmsr(IA32_MKTME_KEYID_PARTITIONING));
        assertEquals(40, Hw.machine("max_keys=40").core(0).rdmsr(IA32_MKTME_KEYID_PARTITIONING));
        assertEquals(0, sw().rdmsr(IA32_MKTME_KEYID_PARTITIONING), "0 before activation");
    }

    @Test
    void rdmsrPartitioningHighHalfTdxKeyIdsZero() {
        assertEquals(0, Hw.machine().core(0).rdmsr(IA32_MKTME_KEYID_PARTITIONING) >>> 32);
    }

    @Test
    void wrmsrPartitioningReadOnlyGp() {
        gp(() -> Hw.machine().core(0).wrmsr(IA32_MKTME_KEYID_PARTITIONING, 0));
    }

    // ---- generic

    @Test
    void undefinedMsrGp() {
        Core c = sw();
        assertTrue(gp(() -> c.rdmsr(0x12345)).contains("undefined"));
        gp(() -> c.wrmsr(0x985, 0));
        gp(() -> c.rdmsr(-1));
    }

    @Test
    void rdmsrAndWrmsrAtCpl3Gp() {
        Core c = sw();
        c.setCpl(3);
        gp(() -> c.rdmsr(IA32_TME_CAPABILITY));
        gp(() -> c.wrmsr(IA32_TME_ACTIVATE, GOOD));
        c.setCpl(0);
        assertEquals(0, c.rdmsr(IA32_TME_ACTIVATE), "no write happened at CPL 3");
    }
}
