package dev.memcrypt.script.kvm;

import dev.memcrypt.hw.cpu.CpuidResult;
import dev.memcrypt.hw.keylocker.Handle;
import dev.memcrypt.hw.keylocker.KeyLockerMsrs;
import dev.memcrypt.hw.cpu.Msr;
import dev.memcrypt.kvm.ExitRecord;
import dev.memcrypt.kvm.GuestCpu;
import dev.memcrypt.kvm.Kvm;
import dev.memcrypt.kvm.Vcpu;
import dev.memcrypt.kvm.Vm;
import dev.memcrypt.script.Arg;
import dev.memcrypt.script.Args;
import dev.memcrypt.script.Session;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementProvider;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.Value;
import dev.memcrypt.script.kernel.ScriptKernel;
import dev.memcrypt.script.keylocker.KeyLockerStatements;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * KVM statements (issue 7): {@code vm create}, {@code vcpu run} (makes that vCPU, loaded on a
 * physical cpu, the target of the {@code guest ...} statements), guest memory access and guest
 * instructions, {@code vm exits}, {@code vm hpa}, {@code vm key}, {@code vm destroy}. The hypervisor
 * is created at the first {@code vm create} on the session's kernel: the one {@code boot} (or any
 * kernel statement) started, else one booted then with {@code mktme_savekeys clearcpuid=keylocker}.
 * VM keys are that kernel's mktme keys ({@code key=$serial} names one made with keyctl); if the
 * kernel uses Key Locker, guests get none (exclusive use).
 */
public final class KvmStatements implements StatementProvider {
    /** The vCPU the guest statements run on. */
    static final class Current {
        Vcpu vcpu;
        int pcpu;
    }

    static final Map<String, Long> MSR_NAMES = new LinkedHashMap<>();

    static {
        for (Msr m : KeyLockerMsrs.all()) MSR_NAMES.put(m.name(), (long) m.address());
        MSR_NAMES.put("IA32_VMX_PROCBASED_CTLS3", (long) Kvm.IA32_VMX_PROCBASED_CTLS3);
    }

    /** The hypervisor on the session's kernel (booted with {@link Kvm#IMPLICIT_HOST_CMDLINE} if no statement booted one). */
    static Kvm kvm(Session s) {
        return s.state(Kvm.class, () -> {
            var host = ScriptKernel.ifBooted(s).orElseGet(() -> ScriptKernel.boot(s, Kvm.IMPLICIT_HOST_CMDLINE)).kernel();
            // Guest memory from the top half of the machine's frames: the script's memory manager
            // (same kernel) allocates upward from the bottom of the same range.
            var all = host.machine().frameAllocator();
            long mid = ((all.start() + all.end()) / 2) & ~0xfffL;
            return Kvm.create(host, new dev.memcrypt.hw.mmu.FrameAllocator(mid, all.end()));
        });
    }

    static long msr(Value v) {
        Long named = MSR_NAMES.get(v.text().toUpperCase(Locale.ROOT));
        if (named != null) return named;
        try {
            String t = v.text().replace("_", "");
            return t.startsWith("0x") || t.startsWith("0X") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + v.text() + "' is not an MSR number or one of " + String.join(", ", MSR_NAMES.keySet()));
        }
    }

    static boolean onOff(Value v) {
        return switch (v.text().toLowerCase(Locale.ROOT)) {
            case "on", "true", "1" -> true;
            case "off", "false", "0" -> false;
            default -> throw new IllegalArgumentException("'" + v.text() + "' is not on|off");
        };
    }

    /** Runs {@code f} as guest code on the current vCPU and returns its value. */
    static Value guest(Session s, Function<GuestCpu, Value> f) {
        Current c = s.existingState(Current.class).filter(x -> x.vcpu != null).orElseThrow(() -> new IllegalArgumentException("no vCPU: use 'vcpu run VM N cpu=P' first"));
        Value[] out = new Value[1];
        c.vcpu.run(c.pcpu, g -> out[0] = f.apply(g));
        return out[0];
    }

    private static void guestStatement(StatementRegistry r, String name, String usage, String summary, Function<Args, Function<Session, Function<GuestCpu, Value>>> compiler) {
        r.register(Statement.of("guest " + name, "guest " + usage, summary, a -> {
            Function<Session, Function<GuestCpu, Value>> body = compiler.apply(a);
            return s -> guest(s, body.apply(s));
        }));
    }

    @Override
    public void register(StatementRegistry r) {
        r.register(Statement.of("vm create", "vm create NAME [mem=SIZE] [vcpus=N] [group=G] [key=SERIAL] [keytype=user|cpu] [keylocker=on|off] [nested=on|off]",
                "creates a VM (default 1 MiB, 1 vCPU, Key Locker on if the host does not use it) holding a reference on an mktme"
                        + " key's KeyID: key=SERIAL (a host mktme key), else its key group's, else one KVM adds as host root (type=user"
                        + " with random bytes, or keytype=cpu); the VM object (bind it)", a -> {
                    Arg<String> name = a.word("NAME");
                    Arg<Long> mem = a.optNum("mem", 4096L, 1L << 40, 1L << 20);
                    Arg<Long> vcpus = a.optNum("vcpus", 1L, 64L, 1L);
                    Arg<String> group = a.option("group", Value::text, null);
                    Arg<Long> key = a.optNum("key", 1L, 0x7fff_ffffL, 0L);
                    Arg<String> keyType = a.option("keytype", v -> v.text().toLowerCase(Locale.ROOT), "user");
                    Arg<Boolean> kl = a.option("keylocker", KvmStatements::onOff, true);
                    Arg<Boolean> nested = a.option("nested", KvmStatements::onOff, false);
                    return s -> {
                        Vm vm = kvm(s).createVm(name.get(s), mem.get(s), (int) (long) vcpus.get(s), new Kvm.VmOptions(group.get(s), kl.get(s), nested.get(s), (int) (long) key.get(s), keyType.get(s)));
                        return new Value.Obj(vm, vm.name());
                    };
                }));
        r.register(Statement.of("vm keyid", "vm keyid VM", "the MKTME KeyID the VM's memory is encrypted under", a -> {
            Arg<Vm> vm = a.object("VM", Vm.class);
            return s -> Value.num(vm.get(s).keyId());
        }));
        r.register(Statement.of("vm key", "vm key VM", "the serial of the host mktme key whose KeyID the VM references (keyctl can describe it)", a -> {
            Arg<Vm> vm = a.object("VM", Vm.class);
            return s -> Value.num(vm.get(s).keySerial());
        }));
        r.register(Statement.of("vm hpa", "vm hpa VM GPA", "the host physical address backing guest-physical GPA (-1 if not faulted in)", a -> {
            Arg<Vm> vm = a.object("VM", Vm.class);
            Arg<Long> gpa = a.num("GPA");
            return s -> Value.hex(vm.get(s).hpaOf(gpa.get(s)));
        }));
        r.register(Statement.of("vm exits", "vm exits VM [REASON]",
                "the VM's exit trace (one line per exit), or the number of exits with REASON (a number or CPUID, MSR_READ, MSR_WRITE,"
                        + " CR_ACCESS, EPT_VIOLATION, LOADIWKEY, VMCALL, VMLAUNCH, HLT)", a -> {
                    Arg<Vm> vm = a.object("VM", Vm.class);
                    Arg<String> reason = a.hasNext() ? a.word("REASON") : null;
                    return s -> {
                        var exits = vm.get(s).exits();
                        if (reason == null) return Value.str(String.join("\n", exits.stream().map(ExitRecord::toString).toList()));
                        String want = reason.get(s).toUpperCase(Locale.ROOT);
                        return Value.num(exits.stream().filter(e -> e.reasonName().equals(want) || Integer.toString(e.reason()).equals(want)).count());
                    };
                }));
        r.register(Statement.of("vm destroy", "vm destroy VM", "destroys the VM: vCPUs put, memory flushed and freed, KeyID released with its group's last VM", a -> {
            Arg<Vm> vm = a.object("VM", Vm.class);
            return s -> {
                Vm v = vm.get(s);
                s.existingState(Current.class).ifPresent(c -> {
                    if (c.vcpu != null && c.vcpu.vm() == v) c.vcpu = null;
                });
                v.destroy();
                return Value.VOID;
            };
        }));
        r.register(Statement.of("vcpu run", "vcpu run VM N cpu=P",
                "loads vCPU N of VM on physical cpu P (vcpu_load: its registers and IWKey in, whatever ran there put) and makes it"
                        + " the target of the guest statements", a -> {
                    Arg<Vm> vm = a.object("VM", Vm.class);
                    Arg<Long> n = a.num("N", 0, 63);
                    Arg<Long> cpu = a.requiredOption("cpu", v -> Long.parseLong(v.text()));
                    return s -> {
                        Vcpu v = vm.get(s).vcpu((int) (long) n.get(s));
                        int p = (int) (long) cpu.get(s);
                        v.load(p);
                        Current c = s.state(Current.class, Current::new);
                        c.vcpu = v;
                        c.pcpu = p;
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("vcpu put", "vcpu put VM N", "vcpu_put: saves vCPU N's registers, clears its IWKey from the core, restores the host's", a -> {
            Arg<Vm> vm = a.object("VM", Vm.class);
            Arg<Long> n = a.num("N", 0, 63);
            return s -> {
                vm.get(s).vcpu((int) (long) n.get(s)).put();
                return Value.VOID;
            };
        }));
        guestStatement(r, "store", "store GPA DATA", "guest write to guest-physical GPA (EPT-translated, under the VM's KeyID)", a -> {
            Arg<Long> gpa = a.num("GPA");
            Arg<byte[]> data = a.bytes("DATA");
            return s -> g -> {
                g.store(gpa.get(s), data.get(s));
                return Value.VOID;
            };
        });
        guestStatement(r, "load", "load GPA LEN", "guest read of LEN bytes at guest-physical GPA", a -> {
            Arg<Long> gpa = a.num("GPA");
            Arg<Long> len = a.num("LEN", 0, 1 << 20);
            return s -> g -> Value.bytes(g.load(gpa.get(s), (int) (long) len.get(s)));
        });
        guestStatement(r, "xmm", "xmm REG [DATA]", "the guest's XMM register REG: set to 16 bytes DATA, or returned", a -> {
            Arg<Long> reg = a.num("REG", 0, 15);
            Arg<byte[]> data = a.hasNext() ? a.bytes("DATA") : null;
            return s -> g -> {
                int i = (int) (long) reg.get(s);
                if (data == null) return Value.bytes(g.xmm().get(i));
                g.xmm().set(i, data.get(s));
                return Value.VOID;
            };
        });
        guestStatement(r, "cr4", "cr4 [VALUE] [kl=on|off] [vmxe=on|off]", "guest MOV to CR4 (KVM traps KL and VMXE: #GP when not exposed), or CR4's value", a -> {
            Arg<Long> v = a.hasNext() ? a.num("VALUE") : null;
            Arg<Boolean> kl = a.has("kl") ? a.option("kl", KvmStatements::onOff, false) : null;
            Arg<Boolean> vmxe = a.has("vmxe") ? a.option("vmxe", KvmStatements::onOff, false) : null;
            return s -> g -> {
                if (v == null && kl == null && vmxe == null) return Value.hex(g.cr4());
                long x = v != null ? v.get(s) : g.cr4();
                if (kl != null) x = kl.get(s) ? x | dev.memcrypt.hw.cpu.Core.CR4_KL : x & ~dev.memcrypt.hw.cpu.Core.CR4_KL;
                if (vmxe != null) x = vmxe.get(s) ? x | dev.memcrypt.hw.cpu.Core.CR4_VMXE : x & ~dev.memcrypt.hw.cpu.Core.CR4_VMXE;
                g.writeCr4(x);
                return Value.VOID;
            };
        });
        guestStatement(r, "cpl", "cpl LEVEL", "the guest's privilege level (0..3)", a -> {
            Arg<Long> l = a.num("LEVEL", 0, 3);
            return s -> g -> {
                g.setCpl((int) (long) l.get(s));
                return Value.VOID;
            };
        });
        guestStatement(r, "cpuid", "cpuid LEAF [SUBLEAF] [eax|ebx|ecx|edx]", "guest CPUID (exits; KVM's view: hypervisor bit, no MKTME, Key Locker without KeySource 1)", a -> {
            Arg<Long> leaf = a.num("LEAF", 0, 0xffff_ffffL);
            Arg<Long> sub = a.hasNext() && !a.peekIs("eax", "ebx", "ecx", "edx") ? a.num("SUBLEAF", 0, 0xffff_ffffL) : Arg.constant(0L);
            String reg = a.hasNext() ? a.keyword("REG", "eax", "ebx", "ecx", "edx") : null;
            return s -> g -> {
                CpuidResult c = g.cpuid((int) (long) leaf.get(s), (int) (long) sub.get(s));
                return reg != null ? Value.hex(c.reg(reg) & 0xffff_ffffL) : Value.str(c.toString());
            };
        });
        guestStatement(r, "rdmsr", "rdmsr MSR", "guest RDMSR (exits; KVM emulates the Key Locker status MSRs from its shadows)", a -> {
            Arg<Long> msr = a.positional("MSR", KvmStatements::msr);
            return s -> g -> Value.hex(g.rdmsr(msr.get(s)));
        });
        guestStatement(r, "wrmsr", "wrmsr MSR VALUE", "guest WRMSR (exits; KVM emulates the Key Locker backup MSRs per VM)", a -> {
            Arg<Long> msr = a.positional("MSR", KvmStatements::msr);
            Arg<Long> v = a.num("VALUE");
            return s -> g -> {
                g.wrmsr(msr.get(s), v.get(s));
                return Value.VOID;
            };
        });
        guestStatement(r, "loadiwkey", "loadiwkey [eax=N] [SRC1 SRC2]", "guest LOADIWKEY: exits (reason 69); KVM loads it as the vCPU's IWKey; #GP for KeySource 1", a -> {
            Arg<Long> eax = a.optNum("eax", 0L, 0xffff_ffffL, 0L);
            Arg<Long> s1 = a.hasNext() ? a.num("SRC1", 0, 15) : Arg.constant(2L);
            Arg<Long> s2 = a.hasNext() ? a.num("SRC2", 0, 15) : Arg.constant(1L);
            return s -> g -> (g.loadiwkey((int) (long) s1.get(s), (int) (long) s2.get(s), (int) (long) eax.get(s)) ? KeyLockerStatements.ZF_CLEAR : KeyLockerStatements.ZF_SET);
        });
        guestStatement(r, "encodekey128", "encodekey128 [SRC]", "guest ENCODEKEY128 of XMM0: the handle", a -> {
            Arg<Long> src = a.hasNext() ? a.num("SRC", 0, 0xffff_ffffL) : Arg.constant(0L);
            return s -> g -> {
                g.encodekey128((int) (long) src.get(s));
                return Value.bytes(g.handleFromXmm(Handle.KEYTYPE_AES128));
            };
        });
        for (String op : new String[] {"aesenc128kl", "aesdec128kl"}) {
            guestStatement(r, op, op + " REG HANDLE", "guest " + op.toUpperCase() + " (no exit): the new XMM REG, or ZF_SET when refused", a -> {
                Arg<Long> reg = a.num("REG", 0, 15);
                Arg<byte[]> h = a.bytes("HANDLE");
                return s -> g -> {
                    int i = (int) (long) reg.get(s);
                    boolean ok = op.equals("aesenc128kl") ? g.aesenc128kl(i, h.get(s)) : g.aesdec128kl(i, h.get(s));
                    return ok ? Value.bytes(g.xmm().get(i)) : KeyLockerStatements.ZF_SET;
                };
            });
        }
    }
}
