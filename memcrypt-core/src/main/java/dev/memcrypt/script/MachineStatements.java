package dev.memcrypt.script;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.CpuPackage;
import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.cpu.KeyProgram;
import dev.memcrypt.hw.cpu.Msr;
import dev.memcrypt.hw.cpu.PconfigCommand;
import dev.memcrypt.hw.cpu.PconfigResult;
import dev.memcrypt.hw.cpu.PconfigStatus;
import dev.memcrypt.hw.cpu.TmeMsrs;
import dev.memcrypt.hw.controller.KeyTable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The hardware statements of issue 3: CPUID, MSRs, PCONFIG, physical loads and stores through the
 * caches, CLFLUSH/WBINVD, raw DRAM, CPU hotplug, and the invariant checker. Every statement that
 * executes on a CPU takes {@code cpu=N} (default 0). Arguments are checked against the
 * configuration's shape at parse time where the grammar allows (u16 KeyIDs, 64-byte key fields);
 * range checks that depend on the machine (an address beyond DRAM, a KeyID beyond the activated
 * bits) are the model's: the architectural ones fault (#GP), the rest are bad arguments (exit 2).
 */
final class MachineStatements {
    private MachineStatements() {}

    /** Symbolic MSR names accepted wherever an MSR number is. */
    static final Map<String, Long> MSR_NAMES = new LinkedHashMap<>();

    static {
        for (Msr m : TmeMsrs.all()) MSR_NAMES.put(m.name(), (long) m.address());
        for (Msr m : dev.memcrypt.hw.keylocker.KeyLockerMsrs.all()) MSR_NAMES.put(m.name(), (long) m.address());
    }

    static long msr(Value v) {
        String t = v.text();
        Long named = MSR_NAMES.get(t.toUpperCase(Locale.ROOT));
        if (named != null) return named;
        if (v instanceof Value.Num || Literals.isNumber(t)) {
            long n = Args.toNum(v);
            if (n < 0 || n > 0xffff_ffffL) throw new IllegalArgumentException("MSR " + t + " does not fit ECX (32 bits)");
            return n;
        }
        throw new IllegalArgumentException("'" + t + "' is not an MSR number or one of " + String.join(", ", MSR_NAMES.keySet()));
    }

    static Machine machine(Session s) {
        return s.machine();
    }

    static Core core(Session s, long cpu) {
        Machine m = machine(s);
        if (cpu >= m.config().cores()) throw new IllegalArgumentException("no cpu " + cpu + " (the machine has " + m.config().cores() + ")");
        return m.core((int) cpu);
    }

    private static Arg<Long> cpu(Args a) {
        return a.optNum("cpu", 0, 16383, 0L);
    }

    static void register(StatementRegistry r) {
        r.register(Statement.of("cpuid", "cpuid [cpu=N] LEAF [SUBLEAF] [eax|ebx|ecx|edx]",
                "CPUID: the four registers as a string, or one register as a number", a -> {
                    Arg<Long> cpu = cpu(a);
                    Arg<Long> leaf = a.num("LEAF", 0, 0xffff_ffffL);
                    Arg<Long> sub = Arg.constant(0L);
                    String reg = null;
                    // SUBLEAF and REG are both optional: a number is SUBLEAF, a register name REG
                    if (a.hasNext() && !a.peekIs("eax", "ebx", "ecx", "edx")) sub = a.num("SUBLEAF", 0, 0xffff_ffffL);
                    if (a.hasNext()) reg = a.keyword("REG", "eax", "ebx", "ecx", "edx");
                    Arg<Long> subF = sub;
                    String regF = reg;
                    return s -> {
                        CpuidResult c = core(s, cpu.get(s)).cpuid((int) (long) leaf.get(s), (int) (long) subF.get(s));
                        if (regF != null) return Value.hex(c.reg(regF) & 0xffff_ffffL);
                        return Value.str(c.toString());
                    };
                }));
        r.register(Statement.of("rdmsr", "rdmsr [cpu=N] MSR", "RDMSR: the value (MSR by number or name, e.g. IA32_TME_ACTIVATE)", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> msr = a.positional("MSR", MachineStatements::msr);
            return s -> Value.hex(core(s, cpu.get(s)).rdmsr(msr.get(s)));
        }));
        r.register(Statement.of("wrmsr", "wrmsr [cpu=N] MSR VALUE", "WRMSR; #GP where the architecture faults", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> msr = a.positional("MSR", MachineStatements::msr);
            Arg<Long> v = a.num("VALUE");
            return s -> {
                core(s, cpu.get(s)).wrmsr(msr.get(s), v.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("pconfig",
                "pconfig [cpu=N|all] keyid=N cmd=SET_KEY_DIRECT|SET_KEY_RANDOM|CLEAR_KEY|NO_ENCRYPT|N alg=AES_XTS_128|N [key=HEX] [tweak=HEX]",
                "PCONFIG MKTME_KEY_PROGRAM: the status in RAX (SUCCESS, INVALID_PROG_CMD, ENTROPY_ERROR, INVALID_KEYID,"
                        + " INVALID_ENC_ALG, DEVICE_BUSY); cpu=all runs it on the first online cpu of every powered package"
                        + " and returns the first status that is not SUCCESS", a -> {
                    Arg<Long> cpu = a.option("cpu", v -> v.text().equalsIgnoreCase("all") ? -1L : Args.range("cpu=", Args.toNum(v), 0, 16383), 0L);
                    Arg<Long> keyId = a.requiredOption("keyid", v -> Args.range("keyid=", Args.toNum(v), 0, 0xffff));
                    Arg<Integer> cmd = a.requiredOption("cmd", MachineStatements::command);
                    Arg<Integer> alg = a.requiredOption("alg", MachineStatements::algorithm);
                    Arg<byte[]> key = a.optSecretBytes("key", 0, KeyProgram.KEY_FIELD);
                    Arg<byte[]> tweak = a.optSecretBytes("tweak", 0, KeyProgram.KEY_FIELD);
                    return s -> {
                        byte[] k = key.get(s);
                        byte[] t = tweak.get(s);
                        byte[] prog = KeyProgram.build((int) (long) keyId.get(s), cmd.get(s), alg.get(s), 0, k, t);
                        try {
                            long c = cpu.get(s);
                            if (c >= 0) return status(core(s, c).pconfig(prog));
                            Value.Status last = null;
                            for (CpuPackage p : machine(s).packages()) {
                                if (!p.powered()) continue;
                                Core first = p.cores().stream().filter(Core::online).findFirst().orElseThrow();
                                last = status(first.pconfig(prog));
                                if (!last.success()) return last;
                            }
                            return last;
                        } finally {
                            java.util.Arrays.fill(prog, (byte) 0);
                            if (k != null) java.util.Arrays.fill(k, (byte) 0);
                            if (t != null) java.util.Arrays.fill(t, (byte) 0);
                        }
                    };
                }));
        r.register(Statement.of("pstore", "pstore [cpu=N] PA KEYID DATA", "stores DATA at physical address PA under KEYID, through the caches", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> pa = a.num("PA");
            Arg<Long> keyId = a.num("KEYID", 0, 0x7fff);
            Arg<byte[]> data = a.bytes("DATA");
            return s -> {
                Machine m = machine(s);
                core(s, cpu.get(s));
                m.pstore((int) (long) cpu.get(s), pa.get(s), (int) (long) keyId.get(s), data.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("pload", "pload [cpu=N] PA KEYID LEN", "loads LEN bytes at PA under KEYID, through the caches", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> pa = a.num("PA");
            Arg<Long> keyId = a.num("KEYID", 0, 0x7fff);
            Arg<Long> len = a.num("LEN", 0, Literals.MAX_BYTES);
            return s -> {
                core(s, cpu.get(s));
                return Value.bytes(machine(s).pload((int) (long) cpu.get(s), pa.get(s), (int) (long) keyId.get(s), (int) (long) len.get(s)));
            };
        }));
        r.register(Statement.of("clflush", "clflush [cpu=N] PA KEYID", "CLFLUSH the line holding PA under KEYID (written back if dirty)", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> pa = a.num("PA");
            Arg<Long> keyId = a.num("KEYID", 0, 0x7fff);
            return s -> {
                core(s, cpu.get(s));
                machine(s).clflush((int) (long) cpu.get(s), pa.get(s), (int) (long) keyId.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("wbinvd", "wbinvd [cpu=N]", "WBINVD: write back and invalidate the caches of cpu N's package", a -> {
            Arg<Long> cpu = cpu(a);
            return s -> {
                core(s, cpu.get(s));
                machine(s).wbinvd((int) (long) cpu.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("dram", "dram PA LEN", "LEN raw bytes of DRAM at PA (the cold-boot view: ciphertext)", a -> {
            Arg<Long> pa = a.num("PA");
            Arg<Long> len = a.num("LEN", 0, Literals.MAX_BYTES);
            return s -> Value.bytes(machine(s).dram().read(pa.get(s), (int) (long) len.get(s)));
        }));
        r.register(Statement.of("dram write", "dram write PA DATA",
                "writes raw bytes into DRAM at PA, bypassing caches and encryption (an attacker with the DIMM)", a -> {
                    Arg<Long> pa = a.num("PA");
                    Arg<byte[]> data = a.bytes("DATA");
                    return s -> {
                        machine(s).dram().write(pa.get(s), data.get(s));
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("cpu offline", "cpu offline N",
                "takes cpu N offline (the package loses power, and its key table, with its last cpu); through the kernel's hotplug"
                        + " callbacks once a kernel is booted (with VMs, the vCPU loaded there is put first)", a -> {
                    Arg<Long> n = a.num("N", 0, 16383);
                    return s -> {
                        int cpu = (int) (long) n.get(s);
                        core(s, cpu);
                        var kvm = s.existingState(dev.memcrypt.kvm.Kvm.class);
                        var k = dev.memcrypt.script.kernel.ScriptKernel.ifBooted(s);
                        if (kvm.isPresent()) kvm.get().cpuOffline(cpu); // puts the vCPU loaded there first
                        else if (k.isPresent()) k.get().kernel().cpuOffline(cpu);
                        else machine(s).cpuOffline(cpu);
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("cpu online", "cpu online N",
                "brings cpu N online; once a kernel is booted its mktme hotplug callback may refuse (EPERM, ENOKEY)", a -> {
                    Arg<Long> n = a.num("N", 0, 16383);
                    return s -> {
                        int cpu = (int) (long) n.get(s);
                        core(s, cpu);
                        var k = dev.memcrypt.script.kernel.ScriptKernel.ifBooted(s);
                        if (k.isPresent()) k.get().kernel().cpuOnline(cpu);
                        else machine(s).cpuOnline(cpu);
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("cpl", "cpl [cpu=N] LEVEL", "sets the current privilege level of cpu N (0..3)", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> level = a.num("LEVEL", 0, 3);
            return s -> {
                core(s, cpu.get(s)).setCpl((int) (long) level.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("entropy fail", "entropy fail [N]",
                "the hardware random source fails its next N requests (default: until entropy ok): PCONFIG SET_KEY_RANDOM returns ENTROPY_ERROR", a -> {
                    Arg<Long> n = a.hasNext() ? a.num("N", 1, Integer.MAX_VALUE) : Arg.constant(-1L);
                    return s -> {
                        scriptEntropy(s).failNext(n.get(s));
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("entropy ok", "entropy ok", "the hardware random source works again", a -> s -> {
            scriptEntropy(s).failNext(0);
            return Value.VOID;
        }));
        r.register(Statement.of("keytable hold", "keytable hold cpu=N",
                "cpu N holds its package's key-table lock, as if in the middle of a PCONFIG: PCONFIG on other cpus of the package"
                        + " returns DEVICE_BUSY until keytable release", a -> {
                    Arg<Long> cpu = a.requiredOption("cpu", v -> Args.range("cpu=", Args.toNum(v), 0, 16383));
                    return s -> {
                        Core c = core(s, cpu.get(s));
                        Holds h = s.state(Holds.class, Holds::new);
                        if (h.byPackage.containsKey(c.pkg().id())) {
                            throw new IllegalArgumentException("the key-table lock of package " + c.pkg().id() + " is already held");
                        }
                        h.byPackage.put(c.pkg().id(), c.pkg().holdKeyTableLock(c.id()));
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("keytable release", "keytable release cpu=N", "releases the lock keytable hold took in cpu N's package", a -> {
            Arg<Long> cpu = a.requiredOption("cpu", v -> Args.range("cpu=", Args.toNum(v), 0, 16383));
            return s -> {
                Core c = core(s, cpu.get(s));
                AutoCloseable held = s.state(Holds.class, Holds::new).byPackage.remove(c.pkg().id());
                if (held == null) throw new IllegalArgumentException("the key-table lock of package " + c.pkg().id() + " is not held");
                held.close();
                return Value.VOID;
            };
        }));
        r.register(Statement.of("keytable show", "keytable show [package=P]",
                "the key table of package P (default 0): mode (KEY, NO_ENCRYPT) and generation of each KeyID not on the TME key; never key bytes", a -> {
                    Arg<Long> pkg = a.optNum("package", 0, 63, 0L);
                    return s -> {
                        Machine m = machine(s);
                        long p = pkg.get(s);
                        if (p >= m.packages().size()) throw new IllegalArgumentException("no package " + p);
                        CpuPackage cp = m.pkg((int) p);
                        KeyTable kt = cp.keyTable();
                        StringBuilder sb = new StringBuilder("package " + p + (cp.powered() ? "" : " (powered off)") + "\n");
                        for (int k = 1; k < kt.size() && k <= m.maxKeyId(); k++) {
                            KeyTable.Entry e = kt.get(k);
                            if (e.mode() == KeyTable.Mode.TME) continue;
                            sb.append(String.format("keyid %d %s generation %d%n", k, e.mode(), e.generation()));
                        }
                        sb.append("other KeyIDs: TME key\n");
                        return Value.str(sb.toString());
                    };
                }));
        r.register(Statement.of("xts-lines", "xts-lines key=HEX16 tweak=HEX16 PA DATA",
                "AES-XTS-128 line-mode ciphertext of DATA (whole 64-byte lines) at physical address PA, computed by the"
                        + " reference engine apart from the machine (tweak = PA as a little-endian 128-bit number, no salt)", a -> {
                    if (!a.has("key") || !a.has("tweak")) throw a.error("missing " + (a.has("key") ? "tweak=" : "key="));
                    Arg<byte[]> key = a.optSecretBytes("key", 16, 16);
                    Arg<byte[]> tweak = a.optSecretBytes("tweak", 16, 16);
                    Arg<Long> pa = a.num("PA");
                    Arg<byte[]> data = a.bytes("DATA");
                    return s -> {
                        byte[] k = key.get(s);
                        byte[] t = tweak.get(s);
                        byte[] d = data.get(s);
                        long p = pa.get(s);
                        if (k == null || k.length != 16) throw new IllegalArgumentException("key= must be 16 bytes");
                        if (t == null || t.length != 16) throw new IllegalArgumentException("tweak= must be 16 bytes");
                        if (d.length == 0 || d.length % 64 != 0) throw new IllegalArgumentException("DATA must be whole 64-byte lines, got " + d.length + " bytes");
                        if ((p & 63) != 0) throw new IllegalArgumentException(String.format("PA 0x%x is not line-aligned", p));
                        try (dev.memcrypt.crypto.XtsKey xk = dev.memcrypt.crypto.XtsKey.of(k, t)) {
                            byte[] out = new byte[d.length];
                            dev.memcrypt.crypto.XtsEngine.java().encryptLines(xk, dev.memcrypt.crypto.LineTweak.NONE, p, d, 0, out, 0, d.length / 64);
                            return Value.bytes(out);
                        } finally {
                            java.util.Arrays.fill(k, (byte) 0);
                            java.util.Arrays.fill(t, (byte) 0);
                        }
                    };
                }));
        r.register(Statement.of("check", "check", "runs the invariant checker now; INVARIANT_VIOLATION when a rule is broken", a -> s -> {
            String problem = invariantProblem(machine(s));
            if (problem != null) throw new InvariantViolation(problem);
            return Value.VOID;
        }));
        r.finalCheck("invariants", s -> s.machineIfOn().isPresent(), MachineStatements::finalInvariants);
    }

    static Value.Status status(PconfigResult r) {
        PconfigStatus st = r.status();
        return new Value.Status(st.name(), st.code, st == PconfigStatus.SUCCESS);
    }

    static int command(Value v) {
        String t = v.text();
        if (Literals.isNumber(t)) return (int) Args.range("cmd", Literals.number(t), 0, 255);
        return PconfigCommand.parse(t).code;
    }

    static int algorithm(Value v) {
        String t = v.text();
        if (t.equalsIgnoreCase("AES_XTS_128") || t.equalsIgnoreCase("aes-xts-128")) return 1;
        if (Literals.isNumber(t)) return (int) Args.range("alg", Literals.number(t), 0, 0xffff);
        throw new IllegalArgumentException("'" + t + "' is not AES_XTS_128 or an algorithm bit mask");
    }

    /** Null when the machine's invariants hold, else the violations joined by "; ". */
    static String invariantProblem(Machine m) {
        java.util.List<String> v = m.checkInvariants();
        return v.isEmpty() ? null : String.join("; ", v);
    }

    private static String finalInvariants(Session s) {
        return s.machineIfOn().map(MachineStatements::invariantProblem).orElse(null);
    }

    /** Key-table locks taken by {@code keytable hold}, by package. */
    static final class Holds {
        final Map<Integer, AutoCloseable> byPackage = new java.util.HashMap<>();
    }

    /** The machine's entropy wrapped so scripts can make it fail. */
    static ScriptEntropy scriptEntropy(Session s) {
        Machine m = machine(s);
        return s.state(ScriptEntropy.class, () -> {
            ScriptEntropy e = new ScriptEntropy(m.entropy());
            m.setEntropy(e);
            return e;
        });
    }

    /** Entropy that fails a given number of requests, then delegates again. */
    static final class ScriptEntropy implements dev.memcrypt.hw.Entropy {
        private final dev.memcrypt.hw.Entropy inner;
        private long failing;

        ScriptEntropy(dev.memcrypt.hw.Entropy inner) {
            this.inner = inner;
        }

        /** n > 0: fail the next n requests; n < 0: fail until reset; 0: work. */
        void failNext(long n) {
            failing = n;
        }

        @Override
        public boolean fill(byte[] dst) {
            if (failing != 0) {
                if (failing > 0) failing--;
                return false;
            }
            return inner.fill(dst);
        }
    }

    /** The checker found a broken rule. */
    static final class InvariantViolation extends RuntimeException implements dev.memcrypt.util.Outcome {
        InvariantViolation(String problem) {
            super(problem, null, false, false);
        }

        @Override
        public String outcomeName() {
            return "INVARIANT_VIOLATION";
        }
    }
}
