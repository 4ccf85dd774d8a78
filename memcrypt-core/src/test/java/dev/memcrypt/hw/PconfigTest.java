package dev.memcrypt.hw;

import static dev.memcrypt.hw.cpu.KeyProgram.ALG_AES_XTS_128;
import static org.junit.jupiter.api.Assertions.*;

import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.InvalidOpcodeFault;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;
import dev.memcrypt.hw.cpu.PconfigStatus;
import dev.memcrypt.hw.cpu.TmeMsrs;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import org.junit.jupiter.api.Test;

/** PCONFIG leaf 0 MKTME_KEY_PROGRAM: every check in SPEC-FACTS order, status codes, flags. */
class PconfigTest {
    static final byte[] K1 = Hw.key16(1), K2 = Hw.key16(2);

    static byte[] prog(int keyId, int cmd, int alg) {
        return KeyProgram.build(keyId, cmd, alg, 0, K1, K2);
    }

    /** Places a struct at a physical address and runs the architectural form. */
    static PconfigResult raw(Machine m, int cpu, long rax, long pa, byte[] s) {
        m.pstore(cpu, pa, 0, s);
        return m.core(cpu).pconfig(rax, pa);
    }

    static PconfigStatus st(Machine m, byte[] s) {
        return m.core(0).pconfig(s).status();
    }

    // ---- #UD

    @Test
    void pconfigAtCpl3Ud() {
        Machine m = Hw.machine();
        m.core(0).setCpl(3);
        assertThrows(InvalidOpcodeFault.class, () -> m.core(0).pconfig(prog(1, 0, 1)));
    }

    @Test
    void pconfigNotEnumeratedUd() {
        Machine m = Hw.machine("pconfig=false");
        assertThrows(InvalidOpcodeFault.class, () -> m.core(0).pconfig(prog(1, 0, 1)));
    }

    @Test
    void udCheckedBeforeGp() {
        Machine m = Hw.machine("activate=false");
        m.core(0).setCpl(1);
        assertThrows(InvalidOpcodeFault.class, () -> raw(m, 0, 7, 0x10040, prog(1, 0, 1)));
    }

    // ---- #GP before the structure is read

    @Test
    void pconfigLeafNotZeroGp() {
        Machine m = Hw.machine();
        assertThrows(GeneralProtectionFault.class, () -> raw(m, 0, 1, 0x10000, prog(1, 0, 1)));
        assertTrue(raw(m, 0, 1L << 32, 0x10000, prog(1, 0, 1)).ok(), "only EAX (low 32 bits) selects the leaf");
    }

    @Test
    void pconfigActivateNotLockedGp() {
        Machine m = Hw.machine("activate=false");
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(prog(1, 0, 1)));
    }

    @Test
    void pconfigTmeLockedButDisabledGp() {
        Machine m = Hw.machine("activate=false");
        m.core(0).wrmsr(TmeMsrs.IA32_TME_ACTIVATE, 0);
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(prog(1, 0, 1)));
    }

    @Test
    void pconfigKeyIdBitsZeroGp() {
        Machine m = Hw.machine("keyid_bits=0");
        assertTrue(m.tme().active());
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(prog(1, 0, 1)));
    }

    @Test
    void pconfigMisalignedStructGp() {
        Machine m = Hw.machine();
        for (long off : new long[] {8, 64, 128, 255}) {
            assertTrue(assertThrows(GeneralProtectionFault.class, () -> raw(m, 0, 0, 0x10000 + off, prog(1, 0, 1))).getMessage().contains("aligned"));
        }
    }

    @Test
    void leafCheckedBeforeAlignment() {
        Machine m = Hw.machine();
        assertTrue(assertThrows(GeneralProtectionFault.class, () -> raw(m, 0, 2, 0x10040, prog(1, 0, 1))).getMessage().contains("leaf"));
    }

    // ---- #GP on structure contents

    @Test
    void pconfigKeyIdCtrlReservedBitsGp() {
        Machine m = Hw.machine();
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(KeyProgram.build(1, 0, 1, 0x80, K1, K2)));
    }

    @Test
    void pconfigReservedBytes6To63Gp() {
        Machine m = Hw.machine();
        for (int off : new int[] {6, 7, 32, 63}) {
            byte[] s = prog(1, 0, 1);
            s[off] = 1;
            assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(s), "offset " + off);
        }
    }

    @Test
    void pconfigKeyField1HighBytesGp() {
        Machine m = Hw.machine();
        byte[] s = prog(1, 0, 1);
        s[KeyProgram.OFF_KEY_FIELD_1 + 16] = 1;
        assertTrue(assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(s)).getMessage().contains("16..63"));
    }

    @Test
    void pconfigKeyField2HighBytesGp() {
        Machine m = Hw.machine();
        byte[] s = prog(1, 0, 1);
        s[KeyProgram.OFF_KEY_FIELD_2 + 63] = 1;
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(s));
    }

    @Test
    void keyByteGpCheckedBeforeStatusCodes() {
        Machine m = Hw.machine();
        byte[] s = KeyProgram.build(0, 9, 0, 0, K1, K2); // would be INVALID_PROG_CMD
        s[KeyProgram.OFF_KEY_FIELD_1 + 20] = 1;
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(s));
    }

    @Test
    void faultsLeaveKeyTableUnchanged() {
        Machine m = Hw.machine();
        long g = m.pkg(0).keyTable().generation();
        byte[] s = prog(1, 0, 1);
        s[10] = 1;
        assertThrows(GeneralProtectionFault.class, () -> m.core(0).pconfig(s));
        assertEquals(g, m.pkg(0).keyTable().generation());
    }

    // ---- status codes, in order 1, 3, 4, 5, 2

    @Test
    void pconfigInvalidCommandStatus1() {
        Machine m = Hw.machine();
        assertEquals(PconfigStatus.INVALID_PROG_CMD, st(m, prog(1, 4, 1)));
        assertEquals(PconfigStatus.INVALID_PROG_CMD, st(m, prog(1, 0xff, 1)));
    }

    @Test
    void invalidCommandCheckedBeforeKeyId() {
        assertEquals(PconfigStatus.INVALID_PROG_CMD, st(Hw.machine(), prog(0, 4, 0)));
    }

    @Test
    void pconfigKeyIdZeroStatus3() {
        assertEquals(PconfigStatus.INVALID_KEYID, st(Hw.machine(), prog(0, 0, 1)));
    }

    @Test
    void pconfigKeyIdAboveKeyIdBitsStatus3() {
        Machine m = Hw.machine("keyid_bits=4", "max_keys=63");
        assertEquals(PconfigStatus.SUCCESS, st(m, prog(15, 0, 1)));
        assertEquals(PconfigStatus.INVALID_KEYID, st(m, prog(16, 0, 1)));
        assertEquals(PconfigStatus.INVALID_KEYID, st(m, prog(0xffff, 0, 1)));
    }

    @Test
    void pconfigKeyIdAboveMaxKeysStatus3() {
        Machine m = Hw.machine("max_keys=10");
        assertEquals(PconfigStatus.SUCCESS, st(m, prog(10, 0, 1)));
        assertEquals(PconfigStatus.INVALID_KEYID, st(m, prog(11, 0, 1)));
    }

    @Test
    void invalidKeyIdCheckedBeforeAlgorithm() {
        assertEquals(PconfigStatus.INVALID_KEYID, st(Hw.machine(), prog(0, 0, 0)));
    }

    @Test
    void pconfigAlgorithmNotExactlyAesXts128Status4() {
        Machine m = Hw.machine();
        for (int alg : new int[] {0, 2, 3, 4, 0x8000}) assertEquals(PconfigStatus.INVALID_ENC_ALG, st(m, prog(1, 0, alg)), "alg " + alg);
    }

    @Test
    void pconfigAlgorithmNotActivatedStatus4EvenForClearAndNoEncrypt() {
        Machine m = Hw.machine("activate=false");
        m.core(0).wrmsr(TmeMsrs.IA32_TME_ACTIVATE, TmeMsrs.ACT_ENABLE | 6L << TmeMsrs.ACT_KEYID_BITS_SHIFT); // ALGS = 0
        for (int cmd = 0; cmd < 4; cmd++) assertEquals(PconfigStatus.INVALID_ENC_ALG, st(m, prog(1, cmd, 1)), "cmd " + cmd);
    }

    @Test
    void invalidAlgorithmCheckedBeforeBusy() throws Exception {
        Machine m = Hw.machine();
        try (AutoCloseable h = m.pkg(0).holdKeyTableLock(1)) {
            assertEquals(PconfigStatus.INVALID_ENC_ALG, st(m, prog(1, 0, 2)));
        }
    }

    @Test
    void pconfigOtherCoreOfPackageProgrammingStatus5() throws Exception {
        Machine m = Hw.machine();
        try (AutoCloseable h = m.pkg(0).holdKeyTableLock(1)) {
            assertEquals(PconfigStatus.DEVICE_BUSY, st(m, prog(1, 0, 1)));
            assertTrue(m.core(2).pconfig(prog(1, 0, 1)).ok(), "package 1 has its own key table");
        }
        assertEquals(PconfigStatus.SUCCESS, st(m, prog(1, 0, 1)), "retry after the other core finished");
    }

    @Test
    void pconfigConcurrentThreadHoldingKeyTableLockStatus5() throws Exception {
        Machine m = Hw.machine();
        KeyTable kt = m.pkg(0).keyTable();
        var locked = new java.util.concurrent.CountDownLatch(1);
        var release = new java.util.concurrent.CountDownLatch(1);
        Thread t = new Thread(() -> {
            kt.tryLock();
            locked.countDown();
            try {
                release.await();
            } catch (InterruptedException ignored) {
            }
            kt.unlock();
        });
        t.start();
        locked.await();
        assertEquals(PconfigStatus.DEVICE_BUSY, st(m, prog(1, 0, 1)));
        release.countDown();
        t.join();
        assertEquals(PconfigStatus.SUCCESS, st(m, prog(1, 0, 1)));
    }

    @Test
    void busyCheckedBeforeEntropy() throws Exception {
        Machine m = Hw.machine();
        m.setEntropy(d -> false);
        try (AutoCloseable h = m.pkg(0).holdKeyTableLock(1)) {
            assertEquals(PconfigStatus.DEVICE_BUSY, st(m, prog(1, 1, 1)));
        }
    }

    @Test
    void pconfigSetKeyRandomWithoutEntropyStatus2() {
        Machine m = Hw.machine();
        long g = m.pkg(0).keyTable().generation();
        m.setEntropy(d -> false);
        assertEquals(PconfigStatus.ENTROPY_ERROR, st(m, prog(1, 1, 1)));
        assertEquals(g, m.pkg(0).keyTable().generation(), "failed programming changes nothing");
        assertEquals(PconfigStatus.SUCCESS, st(m, prog(1, 0, 1)), "SET_KEY_DIRECT needs no entropy");
    }

    // ---- flags

    @Test
    void failureSetsZfAndClearsOtherArithmeticFlags() {
        PconfigResult r = Hw.machine().core(0).pconfig(prog(0, 0, 1));
        assertEquals(3, r.rax());
        assertTrue(r.zf());
        assertEquals(0, r.rflags() & (PconfigResult.CF | PconfigResult.PF | PconfigResult.AF | PconfigResult.SF | PconfigResult.OF));
    }

    @Test
    void successClearsZf() {
        PconfigResult r = Hw.machine().core(0).pconfig(prog(1, 0, 1));
        assertEquals(0, r.rax());
        assertFalse(r.zf());
        assertEquals(0, r.rflags() & (PconfigResult.CF | PconfigResult.PF | PconfigResult.AF | PconfigResult.SF | PconfigResult.OF | PconfigResult.ZF));
    }

    @Test
    void statusNamesAreOutcomes() {
        assertEquals("INVALID_KEYID", PconfigStatus.INVALID_KEYID.outcomeName());
        assertEquals("DEVICE_BUSY", PconfigStatus.DEVICE_BUSY.outcomeName());
        assertEquals("#GP", new GeneralProtectionFault("x").outcomeName());
        assertEquals("#UD", new InvalidOpcodeFault("x").outcomeName());
    }

    // ---- effects

    @Test
    void setKeyDirectInstallsKeyFieldsLow16Bytes() {
        Machine m = Hw.machine();
        assertTrue(Hw.direct(m, 0, 7, K1, K2).ok());
        KeyTable.Entry e = m.pkg(0).keyTable().get(7);
        assertEquals(KeyTable.Mode.KEY, e.mode());
        byte[] k = e.key().copyBytes();
        assertArrayEquals(K1, java.util.Arrays.copyOf(k, 16));
        assertArrayEquals(K2, java.util.Arrays.copyOfRange(k, 16, 32));
        assertEquals(KeyTable.Mode.TME, m.pkg(1).keyTable().get(7).mode(), "only the executing core's package");
    }

    @Test
    void setKeyRandomXorsCpuRandomWithKeyFields() {
        Machine m = Hw.machine();
        byte[] rnd = Hw.bytes(32, 99);
        m.setEntropy(d -> {
            System.arraycopy(rnd, 0, d, 0, d.length);
            return true;
        });
        assertTrue(m.core(0).pconfig(5, PconfigCommand.SET_KEY_RANDOM, ALG_AES_XTS_128, K1, K2).ok());
        byte[] k = m.pkg(0).keyTable().get(5).key().copyBytes();
        for (int i = 0; i < 16; i++) {
            assertEquals((byte) (rnd[i] ^ K1[i]), k[i]);
            assertEquals((byte) (rnd[16 + i] ^ K2[i]), k[16 + i]);
        }
    }

    @Test
    void clearKeyAndNoEncryptSetModes() {
        Machine m = Hw.machine();
        Hw.direct(m, 0, 3, K1, K2);
        assertTrue(m.core(0).pconfig(3, PconfigCommand.CLEAR_KEY, ALG_AES_XTS_128, null, null).ok());
        assertEquals(KeyTable.Mode.TME, m.pkg(0).keyTable().get(3).mode());
        assertTrue(m.core(0).pconfig(3, PconfigCommand.NO_ENCRYPT, ALG_AES_XTS_128, null, null).ok());
        assertEquals(KeyTable.Mode.NO_ENCRYPT, m.pkg(0).keyTable().get(3).mode());
    }

    @Test
    void reprogrammingWipesTheOldKey() {
        Machine m = Hw.machine();
        Hw.direct(m, 0, 3, K1, K2);
        XtsKey old = m.pkg(0).keyTable().get(3).key();
        Hw.direct(m, 0, 3, K2, K1);
        assertTrue(old.isDestroyed());
    }

    @Test
    void pconfigWithPagingReadsStructAtLinearAddress() {
        Machine m = Hw.machine();
        var pt = new PageTableBuilder(m, 0, m.frameAllocator(), 0);
        pt.map(0x7000_0000L, 0x20_0000L, 0, Pte.RW);
        m.mmu(0).writeCr3(pt.cr3());
        m.core(0).setPagingEnabled(true);
        m.mmu(0).store(0x7000_0000L, prog(9, 0, 1));
        assertTrue(m.core(0).pconfig(0, 0x7000_0000L).ok());
        assertEquals(KeyTable.Mode.KEY, m.pkg(0).keyTable().get(9).mode());
        assertThrows(PageFault.class, () -> m.core(0).pconfig(0, 0x7100_0000L));
    }

    @Test
    void convenienceFormClearsScratchPage() {
        Machine m = Hw.machine();
        Core c = m.core(1);
        c.pconfig(4, PconfigCommand.SET_KEY_DIRECT, ALG_AES_XTS_128, K1, K2);
        assertArrayEquals(new byte[256], m.pload(1, m.scratchPage(1), 0, 256));
    }
}
