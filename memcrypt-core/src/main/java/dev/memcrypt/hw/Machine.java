package dev.memcrypt.hw;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.hw.cache.CacheSystem;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.hw.controller.MemoryController;
import dev.memcrypt.hw.controller.TmeState;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuPackage;
import dev.memcrypt.hw.cpu.GeneralProtectionFault;
import dev.memcrypt.hw.cpu.Msr;
import dev.memcrypt.hw.cpu.TmeMsrs;
import dev.memcrypt.hw.keylocker.KeyLockerMsrs;
import dev.memcrypt.hw.keylocker.KeyLockerPlatform;
import dev.memcrypt.hw.memory.Dram;
import dev.memcrypt.hw.sme.SmeMsrs;
import dev.memcrypt.hw.sme.SmeState;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The MKTME platform: packages of cores with L1s, a last-level cache, a memory controller and a
 * key table per package, and sparse DRAM (SPEC-FACTS §1).
 *
 * <h2>Data path</h2>
 * <b>Store</b> {@code pstore(cpu, pa, keyId, bytes)} (or an MMU store after translation): the full
 * physical address is {@code pa | keyId << (MAXPHYADDR - KEYID_BITS)}; for each 64-byte line the
 * core's L1 is made the line's only owner (MESI, {@link CacheSystem}) and the plaintext bytes are
 * written there, dirty. Nothing is encrypted yet. When the line later leaves the package's caches
 * (eviction, CLFLUSH, WBINVD, snoop by another package, package power-off) the line's home
 * package's ({@link #homePackage}) {@link MemoryController} encrypts it with the key its own {@link KeyTable} holds for the KeyID
 * <em>at that moment</em> and stores the ciphertext in {@link Dram}.
 *
 * <p><b>Load</b> {@code pload}: L1 hit returns plaintext; else the package LLC, else other
 * packages are snooped (a dirty copy there is written back to DRAM first), else the home
 * package's controller reads DRAM and decrypts with its key table's key for the KeyID.
 *
 * <p>Model choices: DRAM is split into contiguous equal ranges, one per package (NUMA home); the
 * home package's controller and key table serve every access to its range, whichever core makes
 * it, so per-package SET_KEY_RANDOM keys are consistent ({@link #checkInvariants()} compares
 * modes, and key bytes of SET_KEY_DIRECT entries). A powered-off package's DRAM stays reachable
 * through its controller, with an empty key table. IA32_TME_ACTIVATE,
 * the exclusion range and the TME key are platform-wide. A package whose last core goes offline
 * powers off: its dirty lines are written back with its keys still present, its caches are
 * dropped, then its key table is lost; its KeyIDs fall back to the TME key until reprogrammed.
 * The top {@code cores()} pages of DRAM are a firmware scratch area ({@link #scratchPage}).
 *
 * <p>Error channels: faults are typed exceptions (hw.cpu), PCONFIG statuses are values, caller
 * bugs (bad cpu, address, KeyID, length) are IllegalArgumentException and change nothing.
 * Not thread-safe: drive a machine from one thread (concurrency of cores is modelled, not real).
 */
public final class Machine {
    private final MachineConfig config;
    private final Dram dram;
    private final TmeState tme;
    private final XtsEngine engine;
    private final CpuPackage[] pkgs;
    private final Core[] cores;
    private final MemoryController[] mcs;
    private final CacheSystem caches;
    private final Map<Integer, Msr> msrs = new HashMap<>();
    private Entropy entropy;
    private final KeyLockerPlatform keyLockerPlatform = new KeyLockerPlatform();
    private boolean[] suspendedOnline; // non-null while in S3
    /** AMD SME variant (null on an MKTME machine); {@link #cMask} is its C-bit, 0 without SME. */
    private final SmeState sme;
    private final long cMask;
    /** Bytes of DRAM per package (contiguous home ranges, page-aligned; the last package also takes the remainder). */
    private final long homeSpan;
    private final int homeShift;

    private Machine(MachineConfig config, Entropy entropy, Dram dram, XtsEngine engine) {
        this.config = config;
        this.entropy = entropy;
        this.engine = engine;
        this.dram = dram;
        this.tme = new TmeState(config.maxPhysAddr());
        int np = config.packages();
        homeSpan = Math.max(Dram.PAGE, config.dramBytes() / np & -(long) Dram.PAGE);
        homeShift = Long.bitCount(homeSpan) == 1 ? Long.numberOfTrailingZeros(homeSpan) : -1;
        pkgs = new CpuPackage[np];
        mcs = new MemoryController[np];
        for (int p = 0; p < np; p++) {
            KeyTable kt = new KeyTable(1 << config.maxKeyIdBits());
            mcs[p] = new MemoryController(p, kt, tme, dram, engine);
            pkgs[p] = new CpuPackage(p, kt, mcs[p]);
        }
        for (MemoryController mc : mcs) mc.setPeers(List.of(mcs));
        caches = new CacheSystem(np, config.coresPerPackage(), config.l1Bytes(), config.l1Ways(), config.llcBytes(), config.llcWays(), mcs,
                line -> keyIdOf(line << 6), line -> homePackage(paOf(line << 6)));
        cores = new Core[config.cores()];
        for (int p = 0; p < np; p++) {
            List<Core> cs = new ArrayList<>();
            for (int i = 0; i < config.coresPerPackage(); i++) {
                int id = p * config.coresPerPackage() + i;
                cores[id] = new Core(this, id, pkgs[p]);
                cs.add(cores[id]);
            }
            pkgs[p].setCores(cs);
        }
        Runnable settle = () -> {
            for (MemoryController mc : mcs) mc.settleAll();
        };
        tme.setChangeListener(() -> {
            settle.run();
            for (Core c : cores) if (c != null) c.mmu().flushTlb(); // KeyID bits may move: cached translations were checked against the old layout
        });
        for (CpuPackage p : pkgs) p.keyTable().setChangeListener(settle);
        dram.setHook(new Dram.Hook() {
            @Override
            public void beforeRawAccess(long pa, long len, boolean write) {
                for (MemoryController mc : mcs) mc.settleForRaw(pa, len);
            }

            @Override
            public void afterRawWrite(long pa, long len) {
                for (MemoryController mc : mcs) mc.dropReadAhead(pa, len);
            }
        });
        for (Msr m : TmeMsrs.all()) registerMsr(m);
        if (config.keyLocker()) for (Msr m : KeyLockerMsrs.all()) registerMsr(m);
        if (config.sme()) {
            byte[] k = new byte[32];
            dev.memcrypt.crypto.XtsKey key = entropy.fill(k) ? dev.memcrypt.crypto.XtsKey.of(k) : null;
            Arrays.fill(k, (byte) 0);
            sme = new SmeState(config.cBit(), key);
            sme.setChangeListener(settle);
            for (MemoryController mc : mcs) mc.setSme(sme);
            for (Msr m : SmeMsrs.all(sme, true)) registerMsr(m);
            cMask = sme.cMask();
        } else {
            sme = null;
            cMask = 0;
        }
    }

    /** Powers on a machine with entropy from the configuration's seed (SecureRandom if none). */
    public static Machine powerOn(MachineConfig config) {
        return powerOn(config, config.seed() == null ? Entropy.secure() : Entropy.seeded(config.seed()));
    }

    public static Machine powerOn(MachineConfig config, Entropy entropy) {
        return powerOn(config, entropy, new Dram(config.dramBytes()));
    }

    /**
     * Powers on with existing DRAM contents (a warm reboot or a cold-boot transplant: DRAM keeps
     * its ciphertext, while keys, caches and MSRs start over).
     */
    public static Machine powerOn(MachineConfig config, Entropy entropy, Dram dram) {
        return powerOn(config, entropy, dram, XtsEngine.best());
    }

    /** As {@link #powerOn(MachineConfig, Entropy, Dram)} with a chosen XTS engine (all engines compute the same function). */
    public static Machine powerOn(MachineConfig config, Entropy entropy, Dram dram, XtsEngine engine) {
        if (config == null || entropy == null || dram == null || engine == null) throw new IllegalArgumentException("config, entropy, dram and engine are required");
        if (dram.size() != config.dramBytes()) throw new IllegalArgumentException("DRAM size " + dram.size() + " != configured " + config.dramBytes());
        if (config.sme()) {
            if (config.tme() && config.firmwareActivate() && config.keyIdBits() > 0) throw new IllegalArgumentException("sme=true needs keyid_bits=0 (the C-bit replaces KeyIDs)");
            if (config.cBit() >= config.maxPhysAddr()) throw new IllegalArgumentException("cbit=" + config.cBit() + " must be below maxphyaddr=" + config.maxPhysAddr());
            if (config.dramBytes() > 1L << config.cBit()) throw new IllegalArgumentException("dram reaches the C-bit " + config.cBit());
        }
        Machine m = new Machine(config, entropy, dram, engine);
        m.firmware();
        return m;
    }

    /** What firmware does at power-on: the optional tweak salt, then IA32_TME_ACTIVATE written and locked. */
    private void firmware() {
        if (config.saltedTweak()) {
            byte[] s = new byte[16];
            if (entropy.fill(s)) {
                long lo = 0, hi = 0;
                for (int i = 0; i < 8; i++) {
                    lo |= (s[i] & 0xffL) << (8 * i);
                    hi |= (s[8 + i] & 0xffL) << (8 * i);
                }
                tme.setSalt(new LineTweak(lo, hi));
            }
        }
        if (config.firmwareActivate() && config.tme()) {
            long v = TmeMsrs.ACT_ENABLE | ((long) config.tmePolicy() << TmeMsrs.ACT_POLICY_SHIFT)
                    | (config.bypass() ? TmeMsrs.ACT_BYPASS : 0) | ((long) config.keyIdBits() << TmeMsrs.ACT_KEYID_BITS_SHIFT)
                    | ((long) config.algorithms() << TmeMsrs.ACT_ALGS_SHIFT);
            try {
                cores[0].wrmsr(TmeMsrs.IA32_TME_ACTIVATE, v);
            } catch (GeneralProtectionFault e) {
                throw new IllegalArgumentException("firmware could not activate TME with this configuration: " + e.getMessage());
            }
        }
        if (sme != null && config.firmwareActivate() && sme.hasKey()) {
            // BIOS: enable SME, then set HWCR[SmmLock] (SPEC-FACTS §4; model choice in SmeMsrs)
            cores[0].wrmsr(SmeMsrs.SYSCFG, cores[0].rdmsr(SmeMsrs.SYSCFG) | SmeMsrs.SYSCFG_MEM_ENCRYPTION_MOD_EN);
            cores[0].wrmsr(SmeMsrs.HWCR, SmeMsrs.HWCR_SMM_LOCK);
        }
    }

    // ------------------------------------------------------------------ parts

    public MachineConfig config() {
        return config;
    }

    public Dram dram() {
        return dram;
    }

    public TmeState tme() {
        return tme;
    }

    public XtsEngine engine() {
        return engine;
    }

    /** The SME state (C-bit, SYSCFG enable, platform key), or null if this is not an SME machine. */
    public SmeState sme() {
        return sme;
    }

    /** The C-bit as a mask ({@code 1 << cbit}) on an SME machine, else 0. Stripped from addresses before DRAM. */
    public long cBitMask() {
        return cMask;
    }

    public CacheSystem caches() {
        return caches;
    }

    public CpuPackage pkg(int i) {
        if (i < 0 || i >= pkgs.length) throw new IllegalArgumentException("no package " + i + " (0.." + (pkgs.length - 1) + ")");
        return pkgs[i];
    }

    public List<CpuPackage> packages() {
        return List.of(pkgs);
    }

    public Core core(int i) {
        if (i < 0 || i >= cores.length) throw new IllegalArgumentException("no cpu " + i + " (0.." + (cores.length - 1) + ")");
        return cores[i];
    }

    public List<Core> cores() {
        return List.of(cores);
    }

    public Mmu mmu(int cpu) {
        return core(cpu).mmu();
    }

    /** The platform-scoped Key Locker IWKey backup storage (survives core power loss and S3). */
    public KeyLockerPlatform keyLockerPlatform() {
        return keyLockerPlatform;
    }

    public Entropy entropy() {
        return entropy;
    }

    /** Replaces the hardware entropy source (e.g. with one that fails, to provoke ENTROPY_ERROR). */
    public void setEntropy(Entropy e) {
        if (e == null) throw new IllegalArgumentException("entropy must not be null");
        entropy = e;
    }

    /** Registers an MSR (other hardware features add theirs). */
    public void registerMsr(Msr m) {
        msrs.put(m.address(), m);
    }

    /** The MSR at {@code address}; #GP if the model does not define it. */
    public Msr msr(long address) {
        Msr m = address >= 0 && address <= 0xffffffffL ? msrs.get((int) address) : null;
        if (m == null) throw new GeneralProtectionFault(String.format("undefined MSR 0x%x", address));
        return m;
    }

    // ------------------------------------------------------------------ addresses

    /** KeyID bits in effect (IA32_TME_ACTIVATE[35:32] once locked and enabled, else 0). */
    public int keyIdBits() {
        return tme.keyIdBits();
    }

    /** Highest KeyID an address can carry: 2^KEYID_BITS - 1. */
    public int maxKeyId() {
        return (1 << tme.keyIdBits()) - 1;
    }

    /** KeyIDs PCONFIG can program: min(2^bits - 1, MAX_KEYS), 0 before activation (IA32_MKTME_KEYID_PARTITIONING[31:0]). */
    public int mktmeKeyIds() {
        return Math.min(maxKeyId(), config.maxKeys());
    }

    /** Physical addresses usable with a KeyID: min(DRAM size, 2^(MAXPHYADDR - KEYID_BITS)). */
    public long physLimit() {
        return Math.min(config.dramBytes(), 1L << tme.keyIdShift());
    }

    /** The full physical address: {@code pa} with {@code keyId} in the KeyID bits. */
    public long fullPa(long pa, int keyId) {
        if (keyId < 0 || keyId > maxKeyId()) throw new IllegalArgumentException("KeyID " + keyId + " out of range 0.." + maxKeyId() + " (KEYID_BITS=" + keyIdBits() + ")");
        if (pa < 0 || pa >= (1L << tme.keyIdShift())) throw new IllegalArgumentException(String.format("physical address 0x%x has bits at or above bit %d", pa, tme.keyIdShift()));
        return pa | (long) keyId << tme.keyIdShift();
    }

    public int keyIdOf(long fullPa) {
        return (int) (fullPa >>> tme.keyIdShift());
    }

    /** The DRAM address: KeyID bits and (on SME) the C-bit stripped. */
    public long paOf(long fullPa) {
        return fullPa & ((1L << tme.keyIdShift()) - 1) & ~cMask;
    }

    /**
     * The home package of DRAM address {@code pa} (KeyID bits and C-bit stripped): DRAM is split
     * into {@code packages} contiguous, equal, page-aligned ranges (the last one also takes any
     * remainder); the home package's memory controller and key table serve every fill and
     * write-back of the range, whichever core accesses it.
     */
    public int homePackage(long pa) {
        long h = homeShift >= 0 ? pa >>> homeShift : pa / homeSpan; // a shift when the span is a power of two (speed only)
        return h >= pkgs.length ? pkgs.length - 1 : (int) h;
    }

    /** Checks a full-PA range lies in DRAM under a valid KeyID (IllegalArgumentException otherwise). */
    public void checkFull(long fullPa, int len) {
        int shift = tme.keyIdShift();
        long pa = fullPa & ((1L << shift) - 1) & ~cMask;
        if ((fullPa >>> shift) > maxKeyId() || fullPa < 0 || len < 0 || pa + len > physLimit()) {
            throw new IllegalArgumentException(String.format("physical access 0x%x+%d (KeyID %d) outside DRAM or KeyID range", pa, len, fullPa >>> shift));
        }
    }

    private Core onlineCore(int cpu) {
        Core c = core(cpu);
        if (!c.online()) throw new IllegalArgumentException("cpu " + cpu + " is offline");
        return c;
    }

    private long checkedFull(long pa, int keyId, long len) {
        if (len < 0) throw new IllegalArgumentException("negative length " + len);
        long f = fullPa(pa, keyId);
        pa &= ~cMask;
        if (pa + len > physLimit() || pa + len < pa) throw new IllegalArgumentException(String.format("physical range 0x%x+%d outside DRAM (limit 0x%x)", pa, len, physLimit()));
        return f;
    }

    /** Base of the firmware scratch page of core {@code cpu} (top of DRAM); the frame allocator avoids it. */
    public long scratchPage(int cpu) {
        core(cpu);
        return config.dramBytes() - (long) (cores.length - cpu) * Dram.PAGE;
    }

    /** A frame allocator over [1 MiB, scratch area) for page tables and test data. */
    public FrameAllocator frameAllocator() {
        return new FrameAllocator(1L << 20, config.dramBytes() - (long) cores.length * Dram.PAGE);
    }

    // ------------------------------------------------------------------ physical accesses

    /** Stores bytes at physical {@code pa} under {@code keyId} as core {@code cpu}, through its caches. */
    public void pstore(int cpu, long pa, int keyId, byte[] data) {
        onlineCore(cpu);
        if (data == null) throw new IllegalArgumentException("data must not be null");
        long f = checkedFull(pa, keyId, data.length);
        caches.write(cpu, f, data, 0, data.length);
    }

    /**
     * Streaming (non-temporal, write-combining: MOVNTI / MOVDIR64B-like) store of whole lines at
     * physical {@code pa} under {@code keyId} as core {@code cpu}: cached copies of those full lines
     * are invalidated and the data is encrypted by the home controller and stored to DRAM without
     * allocating in any cache ({@link CacheSystem#writeStream}); partial lines at either end take
     * the ordinary path. What the kernel's clear_page_nocache-style zeroing does.
     */
    public void pstoreStream(int cpu, long pa, int keyId, byte[] data) {
        onlineCore(cpu);
        if (data == null) throw new IllegalArgumentException("data must not be null");
        long f = checkedFull(pa, keyId, data.length);
        caches.writeStream(cpu, f, data, 0, data.length);
    }

    /** Loads {@code len} bytes at physical {@code pa} under {@code keyId} as core {@code cpu}, through its caches. */
    public byte[] pload(int cpu, long pa, int keyId, int len) {
        onlineCore(cpu);
        long f = checkedFull(pa, keyId, len);
        byte[] out = new byte[len];
        caches.read(cpu, f, out, 0, len);
        return out;
    }

    /** An 8-byte little-endian load (page-table walks and edits): one cache access when it stays in one line. */
    public long pload64(int cpu, long pa, int keyId) {
        if ((pa & 63) <= 56) { // within one line: the same access as pload of 8 bytes, without the buffer
            onlineCore(cpu);
            return caches.load64(cpu, checkedFull(pa, keyId, 8));
        }
        byte[] b = pload(cpu, pa, keyId, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (b[i] & 0xff);
        return v;
    }

    /** An 8-byte little-endian store: one cache access when it stays in one line. */
    public void pstore64(int cpu, long pa, int keyId, long v) {
        if ((pa & 63) <= 56) { // within one line: the same access as pstore of 8 bytes, without the buffer
            onlineCore(cpu);
            caches.store64(cpu, checkedFull(pa, keyId, 8), v);
            return;
        }
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) b[i] = (byte) (v >>> (8 * i));
        pstore(cpu, pa, keyId, b);
    }

    /** CLFLUSH of the line containing {@code pa} under {@code keyId}: written back if dirty and invalidated in every cache. */
    public void clflush(int cpu, long pa, int keyId) {
        onlineCore(cpu);
        long f = checkedFull(pa, keyId, 1);
        caches.clflush(f >>> 6);
    }

    /** CLFLUSH of every line of [pa, pa+len) under {@code keyId}. */
    public void clflushRange(int cpu, long pa, int keyId, long len) {
        onlineCore(cpu);
        long f = checkedFull(pa, keyId, len);
        for (long l = f >>> 6; l <= (f + Math.max(len, 1) - 1) >>> 6; l++) caches.clflush(l);
    }

    /**
     * WBINVD on core {@code cpu}: writes back and invalidates the caches the executing processor
     * uses: its package's LLC and, by inclusion, every L1 of the package; other packages are not
     * flushed (Intel SDM: internal caches, then "external" caches of this processor; Linux needs
     * wbinvd_on_all_cpus for the whole system). Privileged: #GP at CPL &gt; 0.
     */
    public void wbinvd(int cpu) {
        Core c = onlineCore(cpu);
        if (c.cpl() > 0) throw new GeneralProtectionFault("WBINVD at CPL " + c.cpl());
        caches.wbinvd(c.pkg().id());
    }

    /** WBINVD on one online core of every powered package (Linux's wbinvd_on_all_cpus). */
    public void wbinvdAll() {
        for (CpuPackage p : pkgs) if (p.powered()) caches.wbinvd(p.id());
    }

    // ------------------------------------------------------------------ hotplug

    public boolean isOnline(int cpu) {
        return core(cpu).online();
    }

    /**
     * Takes a core offline: its L1 is written back (into the LLC) and invalidated. If it was the
     * package's last online core, the package powers off: its dirty lines are written back with the
     * keys still present, its caches dropped, and its key table lost.
     */
    public void cpuOffline(int cpu) {
        Core c = onlineCore(cpu);
        long online = Arrays.stream(cores).filter(Core::online).count();
        if (online == 1) throw new IllegalArgumentException("cpu " + cpu + " is the last online cpu");
        caches.flushL1(cpu);
        c.setOnline(false);
        CpuPackage p = c.pkg();
        if (p.cores().stream().noneMatch(Core::online)) {
            caches.wbinvd(p.id());
            for (MemoryController mc : mcs) mc.settleAll();
            p.keyTable().powerLoss();
            p.setPowered(false);
        }
    }

    /** Brings a core online (INIT state: CPL 0, paging off). Its package powers on with an empty key table if it was off. */
    public void cpuOnline(int cpu) {
        Core c = core(cpu);
        if (suspended()) throw new IllegalArgumentException("machine is suspended (S3)");
        if (c.online()) throw new IllegalArgumentException("cpu " + cpu + " is already online");
        c.pkg().setPowered(true);
        c.setOnline(true);
    }

    // ------------------------------------------------------------------ S3

    /** Whether the machine is suspended to RAM. */
    public boolean suspended() {
        return suspendedOnline != null;
    }

    /**
     * S3 suspend-to-RAM: caches are written back (the OS's WBINVD before entering S3), then every
     * package and core loses power: key tables, registers, CR4 and every core's IWKey are lost.
     * DRAM (self-refresh), the TME state and key (saved for standby, model choice) and the Key
     * Locker platform backup survive. Accesses while suspended are refused (cores offline).
     */
    public void suspendToRam() {
        if (suspended()) throw new IllegalArgumentException("already suspended");
        wbinvdAll();
        for (MemoryController mc : mcs) mc.settleAll();
        suspendedOnline = new boolean[cores.length];
        for (Core c : cores) {
            suspendedOnline[c.id()] = c.online();
            if (c.online()) caches.flushL1(c.id());
            c.setOnline(false);
        }
        for (CpuPackage p : pkgs) {
            if (p.powered()) caches.wbinvd(p.id());
        }
        for (MemoryController mc : mcs) mc.settleAll();
        for (CpuPackage p : pkgs) {
            p.keyTable().powerLoss();
            p.setPowered(false);
        }
    }

    /** Resume from S3: the cores that were online come back in their INIT state (IWKey all zero, CR4 = 0). */
    public void resumeFromRam() {
        if (!suspended()) throw new IllegalArgumentException("not suspended");
        boolean[] was = suspendedOnline;
        suspendedOnline = null;
        for (Core c : cores) {
            if (!was[c.id()]) continue;
            c.pkg().setPowered(true);
            c.setOnline(true);
        }
    }

    // ------------------------------------------------------------------ invariants

    /**
     * Checks the flush rules' invariants and returns violations (empty = fine):
     * (1) no cached line under a KeyID whose key-table entry changed after the line was filled;
     * (2) the key tables of all powered packages agree: mode for every KeyID, key bytes where both
     *     packages' keys came from SET_KEY_DIRECT (SET_KEY_RANDOM keys differ per package by design);
     * (3) single writer: a line dirty or exclusive in one package is in no other package's caches;
     * (4) inclusion: every L1 line is also in its package's LLC.
     */
    public List<String> checkInvariants() {
        List<String> out = new ArrayList<>();
        Map<Long, Integer> exclusiveIn = new HashMap<>();
        Map<Long, Integer> presentIn = new HashMap<>();
        caches.forEachLine((level, owner, line, state, gen) -> {
            int p = level.equals("L1") ? cores[owner].pkg().id() : owner;
            int keyId = keyIdOf(line << 6);
            KeyTable kt = pkgs[homePackage(paOf(line << 6))].keyTable(); // the table its fill and write-back use
            if (keyId >= kt.size()) {
                out.add(String.format("%s of %s %d holds line 0x%x with KeyID %d beyond the key table", level, level.equals("L1") ? "cpu" : "package", owner, paOf(line << 6), keyId));
                return;
            }
            long now = kt.get(keyId).generation();
            if (now != gen) {
                out.add(String.format("%s of %s %d holds line 0x%x under KeyID %d filled before its key changed (generation %d, now %d)",
                        level, level.equals("L1") ? "cpu" : "package", owner, paOf(line << 6), keyId, gen, now));
            }
            if (level.equals("L1") && caches.llcState(p, line) == dev.memcrypt.hw.cache.Cache.I) {
                out.add(String.format("L1 of cpu %d holds line 0x%x KeyID %d that its LLC does not (inclusion)", owner, paOf(line << 6), keyId));
            }
            if (level.equals("LLC")) {
                Integer prev = presentIn.put(line, p);
                if (state == dev.memcrypt.hw.cache.Cache.M || state == dev.memcrypt.hw.cache.Cache.E) {
                    if (prev != null) out.add(String.format("line 0x%x KeyID %d exclusive in package %d but also in package %d", paOf(line << 6), keyId, p, prev));
                    exclusiveIn.put(line, p);
                } else if (exclusiveIn.containsKey(line) && exclusiveIn.get(line) != p) {
                    out.add(String.format("line 0x%x KeyID %d shared in package %d but exclusive in package %d", paOf(line << 6), keyId, p, exclusiveIn.get(line)));
                }
            }
        });
        out.addAll(caches.checkBookkeeping());
        CpuPackage ref = null;
        for (CpuPackage p : pkgs) {
            if (!p.powered()) continue;
            if (ref == null) {
                ref = p;
                continue;
            }
            for (int k = 1; k <= maxKeyId(); k++) {
                KeyTable.Entry a = ref.keyTable().get(k), b = p.keyTable().get(k);
                // SET_KEY_RANDOM keys differ per package by design (each package's home range uses its own)
                boolean bothDirect = a.key() != null && b.key() != null && !a.random() && !b.random();
                if (a.mode() != b.mode() || (bothDirect && !sameKey(a, b))) {
                    out.add("key tables of packages " + ref.id() + " and " + p.id() + " disagree on KeyID " + k + " (" + a.mode() + " vs " + b.mode() + ")");
                }
            }
        }
        return out;
    }

    private static boolean sameKey(KeyTable.Entry a, KeyTable.Entry b) {
        if (a.key() == null || b.key() == null) return a.key() == b.key();
        byte[] x = a.key().copyBytes(), y = b.key().copyBytes();
        try {
            return java.security.MessageDigest.isEqual(x, y);
        } finally {
            Arrays.fill(x, (byte) 0);
            Arrays.fill(y, (byte) 0);
        }
    }
}
