package dev.memcrypt.script.keylocker;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.keylocker.Handle;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.keylocker.KernelKeyLocker;
import dev.memcrypt.script.kernel.ScriptKernel;
import dev.memcrypt.script.Arg;
import dev.memcrypt.script.Args;
import dev.memcrypt.script.Session;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementProvider;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.Value;
import java.util.Arrays;

/**
 * Key Locker statements (issue 7): the registers ({@code xmm}, {@code cr4}, {@code cr4 kl}), each
 * instruction ({@code loadiwkey}, {@code encodekey128/256}, {@code aesenc128kl} ... and the wide
 * forms), S3 ({@code s3 suspend}, {@code s3 resume}) and the kernel's Key Locker
 * ({@code keylocker boot|restore|resume}). ZF is a status: {@code ZF_CLEAR} (success) or
 * {@code ZF_SET} (refused handle, no entropy), so a refusal must be asserted ({@code => ZF_SET}).
 * AES instructions return the register(s) they changed.
 */
public final class KeyLockerStatements implements StatementProvider {
    /** RFLAGS.ZF = 0 after a Key Locker instruction. */
    public static final Value.Status ZF_CLEAR = new Value.Status("ZF_CLEAR", 0, true);
    /** RFLAGS.ZF = 1: handle refused, or no entropy for KeySource 1. */
    public static final Value.Status ZF_SET = new Value.Status("ZF_SET", 1, false);

    static Core core(Session s, long cpu) {
        Machine m = s.machine();
        if (cpu >= m.config().cores()) throw new IllegalArgumentException("no cpu " + cpu + " (the machine has " + m.config().cores() + ")");
        return m.core((int) cpu);
    }

    static Arg<Long> cpu(Args a) {
        return a.optNum("cpu", 0L, 16383L, 0L);
    }

    static Value.Status zf(boolean ok) {
        return ok ? ZF_CLEAR : ZF_SET;
    }

    @Override
    public void register(StatementRegistry r) {
        r.register(Statement.of("xmm", "xmm [cpu=N] REG [DATA]", "XMM register REG (0..15) of cpu N: sets it to 16 bytes DATA, or returns it (bytes in memory order)", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> reg = a.num("REG", 0, 15);
            Arg<byte[]> data = a.hasNext() ? a.bytes("DATA") : null;
            return s -> {
                Core c = core(s, cpu.get(s));
                int i = (int) (long) reg.get(s);
                if (data == null) return Value.bytes(c.xmm().get(i));
                byte[] d = data.get(s);
                if (d.length != 16) throw new IllegalArgumentException("an XMM register holds 16 bytes, got " + d.length);
                c.xmm().set(i, d);
                return Value.VOID;
            };
        }));
        r.register(Statement.of("cr4", "cr4 [cpu=N] [VALUE]", "MOV to CR4 with VALUE (#GP for reserved bits, CR4.KL without Key Locker), or CR4's value", a -> {
            Arg<Long> cpu = cpu(a);
            Arg<Long> v = a.hasNext() ? a.num("VALUE") : null;
            return s -> {
                Core c = core(s, cpu.get(s));
                if (v == null) return Value.hex(c.cr4());
                c.writeCr4(v.get(s));
                return Value.VOID;
            };
        }));
        r.register(Statement.of("cr4 kl", "cr4 kl [cpu=N] on|off", "sets or clears CR4.KL (bit 19) of cpu N; #GP when Key Locker is not enumerated", a -> {
            Arg<Long> cpu = cpu(a);
            String on = a.keyword("on|off", "on", "off");
            return s -> {
                Core c = core(s, cpu.get(s));
                c.writeCr4(on.equals("on") ? c.cr4() | Core.CR4_KL : c.cr4() & ~Core.CR4_KL);
                return Value.VOID;
            };
        }));
        r.register(Statement.of("loadiwkey", "loadiwkey [cpu=N] [eax=N] [SRC1 SRC2]",
                "LOADIWKEY xmm(SRC1), xmm(SRC2) (default 2 1): EncryptionKey = SRC1:SRC2, IntegrityKey = XMM0; EAX[0] NoBackup,"
                        + " EAX[4:1] KeySource; ZF_CLEAR, or ZF_SET when KeySource 1 finds no entropy; #UD, #GP", a -> {
                    Arg<Long> cpu = cpu(a);
                    Arg<Long> eax = a.optNum("eax", 0L, 0xffff_ffffL, 0L);
                    Arg<Long> s1 = a.hasNext() ? a.num("SRC1", 0, 15) : Arg.constant(2L);
                    Arg<Long> s2 = a.hasNext() ? a.num("SRC2", 0, 15) : Arg.constant(1L);
                    return s -> zf(core(s, cpu.get(s)).keyLocker().loadiwkey((int) (long) s1.get(s), (int) (long) s2.get(s), (int) (long) eax.get(s)));
                }));
        for (int bits : new int[] {128, 256}) {
            String name = "encodekey" + bits;
            r.register(Statement.of(name, name + " [cpu=N] [SRC] [dest]",
                    "ENCODEKEY" + bits + " of " + (bits == 128 ? "XMM0" : "XMM1:XMM0") + " with restrictions SRC (bits 2:0): the handle"
                            + " (AAD, tag, wrapped key from XMM0.." + (bits == 128 ? "2" : "3") + "), or with 'dest' the DEST register"
                            + " (NoBackup | KeySource << 1); XMM4-6 zeroed; #GP for reserved or unsupported restrictions", a -> {
                        Arg<Long> cpu = cpu(a);
                        Arg<Long> src = a.hasNext() && !a.peekIs("dest") ? a.num("SRC", 0, 0xffff_ffffL) : Arg.constant(0L);
                        boolean dest = a.hasNext() && a.keyword("dest", "dest") != null;
                        return s -> {
                            Core c = core(s, cpu.get(s));
                            KeyLockerUnit u = c.keyLocker();
                            int d = bits == 128 ? u.encodekey128((int) (long) src.get(s)) : u.encodekey256((int) (long) src.get(s));
                            if (dest) return Value.num(d);
                            int regs = bits == 128 ? 3 : 4;
                            byte[] h = new byte[16 * regs];
                            for (int i = 0; i < regs; i++) System.arraycopy(c.xmm().get(i), 0, h, 16 * i, 16);
                            return Value.bytes(h);
                        };
                    }));
        }
        for (String op : new String[] {"aesenc128kl", "aesdec128kl", "aesenc256kl", "aesdec256kl"}) {
            boolean enc = op.startsWith("aesenc");
            int type = op.contains("256") ? Handle.KEYTYPE_AES256 : Handle.KEYTYPE_AES128;
            r.register(Statement.of(op, op + " [cpu=N] REG HANDLE",
                    op.toUpperCase() + " on XMM REG with HANDLE (" + Handle.size(type) + " bytes): the new XMM REG, or ZF_SET when the handle"
                            + " is refused (data unchanged)", a -> {
                        Arg<Long> cpu = cpu(a);
                        Arg<Long> reg = a.num("REG", 0, 15);
                        Arg<byte[]> h = a.bytes("HANDLE");
                        return s -> {
                            Core c = core(s, cpu.get(s));
                            KeyLockerUnit u = c.keyLocker();
                            int i = (int) (long) reg.get(s);
                            byte[] hb = handle(h.get(s), type);
                            boolean ok = type == Handle.KEYTYPE_AES128 ? (enc ? u.aesenc128kl(i, hb) : u.aesdec128kl(i, hb))
                                    : (enc ? u.aesenc256kl(i, hb) : u.aesdec256kl(i, hb));
                            return ok ? Value.bytes(c.xmm().get(i)) : ZF_SET;
                        };
                    }));
        }
        for (String op : new String[] {"aesencwide128kl", "aesdecwide128kl", "aesencwide256kl", "aesdecwide256kl"}) {
            boolean enc = op.startsWith("aesenc");
            int type = op.contains("256") ? Handle.KEYTYPE_AES256 : Handle.KEYTYPE_AES128;
            r.register(Statement.of(op, op + " [cpu=N] HANDLE",
                    op.toUpperCase() + " on XMM0-7 with HANDLE: the 128 new bytes of XMM0..XMM7, or ZF_SET when refused (all unchanged)", a -> {
                        Arg<Long> cpu = cpu(a);
                        Arg<byte[]> h = a.bytes("HANDLE");
                        return s -> {
                            Core c = core(s, cpu.get(s));
                            KeyLockerUnit u = c.keyLocker();
                            byte[] hb = handle(h.get(s), type);
                            boolean ok = type == Handle.KEYTYPE_AES128 ? (enc ? u.aesencwide128kl(hb) : u.aesdecwide128kl(hb))
                                    : (enc ? u.aesencwide256kl(hb) : u.aesdecwide256kl(hb));
                            if (!ok) return ZF_SET;
                            byte[] out = new byte[128];
                            for (int i = 0; i < 8; i++) System.arraycopy(c.xmm().get(i), 0, out, 16 * i, 16);
                            return Value.bytes(out);
                        };
                    }));
        }
        r.register(Statement.of("s3 suspend", "s3 suspend", "S3 suspend-to-RAM (through the kernel once booted; with VMs every vCPU is put first): caches written back; every core"
                + " loses its registers, CR4 and IWKey; key tables lost; DRAM and the Key Locker backup kept", a -> s -> {
            var kvm = s.existingState(dev.memcrypt.kvm.Kvm.class);
            var k = ScriptKernel.ifBooted(s);
            if (kvm.isPresent()) kvm.get().suspendToRam();
            else if (k.isPresent()) k.get().kernel().suspendToRam();
            else s.machine().suspendToRam();
            return Value.VOID;
        }));
        r.register(Statement.of("s3 resume", "s3 resume", "resume from S3 (cores in INIT state); once a kernel is booted, its resume path reprograms the mktme"
                + " KeyIDs and, if it uses Key Locker, restores every IWKey (ZF_CLEAR, or ZF_SET if that failed)", a -> s -> {
            var k = ScriptKernel.ifBooted(s);
            if (k.isEmpty()) {
                s.machine().resumeFromRam();
                return Value.VOID;
            }
            Kernel kernel = k.get().kernel();
            boolean kl = kernel.usesKeyLocker();
            kernel.resumeFromRam();
            return kl ? zf(kernel.usesKeyLocker()) : Value.VOID;
        }));
        r.register(Statement.of("keylocker boot", "keylocker boot", "boots the kernel (empty command line) if none runs; its Key Locker setup at boot: random IWKey on cpu 0, backup,"
                + " restore on the other cpus; the kernel's Key Locker log", a -> s -> {
            ScriptKernel k = ScriptKernel.ifBooted(s).orElseGet(() -> ScriptKernel.boot(s, ""));
            KernelKeyLocker kl = k.kernel().keyLocker();
            if (kl == null) throw new IllegalArgumentException("the kernel does not use Key Locker (not enumerated, or clearcpuid=keylocker)");
            return Value.str(String.join("\n", kl.log()));
        }));
        r.register(Statement.of("keylocker restore", "keylocker restore N", "the raw step of the kernel's hotplug callback for cpu N (cpu online runs it): CR4.KL and the"
                + " IWKey copied from the platform backup (ZF_SET on failure)", a -> {
            Arg<Long> n = a.num("N", 0, 16383);
            return s -> {
                KernelKeyLocker k = ScriptKernel.ifBooted(s).map(x -> x.kernel().keyLocker())
                        .orElseThrow(() -> new IllegalArgumentException("keylocker boot first"));
                if (k == null) throw new IllegalArgumentException("the kernel does not use Key Locker");
                return zf(k.restore((int) (long) n.get(s)));
            };
        }));
    }

    static byte[] handle(byte[] h, int type) {
        int size = Handle.size(type);
        if (h.length != size) throw new IllegalArgumentException("handle must be " + size + " bytes, got " + h.length);
        return Arrays.copyOf(h, size);
    }
}
