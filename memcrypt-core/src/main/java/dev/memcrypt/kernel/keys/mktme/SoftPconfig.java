package dev.memcrypt.kernel.keys.mktme;

import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.controller.KeyTable;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * A stand-in for PCONFIG over plain per-package {@link KeyTable}s, for kernel tests and the
 * keyctl tool when no full machine model is wanted. It applies the MKTME_KEY_PROGRAM result
 * checks in the architectural order (SPEC-FACTS §1: command 1, KeyID 3, algorithm 4, busy 5,
 * entropy 2) and lets tests inject statuses per package.
 */
public final class SoftPconfig implements KeyTableProgrammer {
    private final KeyTable[] tables;
    private final int[] cpuToPackage;
    private final int maxKeyId;
    private final Entropy entropy;
    private final Deque<ProgramStatus>[] injected;
    private long calls;

    /**
     * @param packages     number of packages
     * @param cpusPerPackage logical CPUs per package (CPU n is in package n / cpusPerPackage)
     * @param nrKeyIds     KeyIDs 1..nrKeyIds are programmable
     */
    @SuppressWarnings("unchecked")
    public SoftPconfig(int packages, int cpusPerPackage, int nrKeyIds, Entropy entropy) {
        if (packages < 1 || cpusPerPackage < 1) throw new IllegalArgumentException("need >= 1 package and CPU, got " + packages + "x" + cpusPerPackage);
        tables = new KeyTable[packages];
        injected = new Deque[packages];
        for (int i = 0; i < packages; i++) {
            tables[i] = new KeyTable(nrKeyIds + 1);
            injected[i] = new ArrayDeque<>();
        }
        cpuToPackage = new int[packages * cpusPerPackage];
        for (int c = 0; c < cpuToPackage.length; c++) cpuToPackage[c] = c / cpusPerPackage;
        this.maxKeyId = nrKeyIds;
        this.entropy = entropy;
    }

    public int packages() {
        return tables.length;
    }

    public int cpus() {
        return cpuToPackage.length;
    }

    public int packageOf(int cpu) {
        return cpuToPackage[cpu];
    }

    public KeyTable table(int pkg) {
        return tables[pkg];
    }

    /** The next {@code times} programmings on {@code pkg} return {@code st} without touching the table. */
    public synchronized void inject(int pkg, ProgramStatus st, int times) {
        for (int i = 0; i < times; i++) injected[pkg].add(st);
    }

    public synchronized void clearInjections() {
        for (Deque<ProgramStatus> d : injected) d.clear();
    }

    /** PCONFIG executions so far. */
    public synchronized long calls() {
        return calls;
    }

    @Override
    public ProgramStatus program(int cpu, KeyProgram p) {
        if (cpu < 0 || cpu >= cpuToPackage.length) throw new IllegalArgumentException("no CPU " + cpu);
        int pkg = cpuToPackage[cpu];
        synchronized (this) {
            calls++;
            ProgramStatus inj = injected[pkg].poll();
            if (inj != null) return inj;
        }
        if (p.command() > KeyProgram.CMD_NO_ENCRYPT) return ProgramStatus.INVALID_PROG_CMD;
        if (p.keyId() == 0 || p.keyId() > maxKeyId) return ProgramStatus.INVALID_KEYID;
        if (p.algorithms() != 1) return ProgramStatus.INVALID_ENC_ALG;
        KeyTable t = tables[pkg];
        if (!t.tryLock()) return ProgramStatus.DEVICE_BUSY;
        try {
            switch (p.command()) {
                case KeyProgram.CMD_SET_KEY_DIRECT -> t.setKey(p.keyId(), XtsKey.of(p.field1(), p.field2()));
                case KeyProgram.CMD_SET_KEY_RANDOM -> {
                    byte[] d = new byte[16], w = new byte[16];
                    try {
                        if (!entropy.fill(d) || !entropy.fill(w)) return ProgramStatus.ENTROPY_ERROR;
                        for (int i = 0; i < 16; i++) {
                            d[i] ^= p.field1()[i];
                            w[i] ^= p.field2()[i];
                        }
                        t.setRandomKey(p.keyId(), XtsKey.of(d, w));
                    } finally {
                        Arrays.fill(d, (byte) 0);
                        Arrays.fill(w, (byte) 0);
                    }
                }
                case KeyProgram.CMD_CLEAR_KEY -> t.clear(p.keyId());
                default -> t.noEncrypt(p.keyId());
            }
            return ProgramStatus.SUCCESS;
        } finally {
            t.unlock();
        }
    }
}
