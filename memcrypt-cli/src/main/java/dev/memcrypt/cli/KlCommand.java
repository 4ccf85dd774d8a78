package dev.memcrypt.cli;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.keylocker.Handle;
import dev.memcrypt.hw.keylocker.KeyLockerUnit;
import dev.memcrypt.util.Hex;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code memcrypt kl}: single Key Locker instructions on a fresh model core, for checking the model
 * against other implementations. Values are hex with bytes in memory order (as MOVDQU stores them).
 * {@code --integrity-key} is XMM0 at LOADIWKEY; {@code --encryption-key} is IWKey.EncryptionKey:
 * SRC2's 16 bytes, then SRC1's. Exit 0 (also when a handle is refused: "ZF=1"), 2 for bad arguments.
 */
@Command(name = "kl", mixinStandardHelpOptions = true, description = "Intel Key Locker instructions on the model.",
        subcommands = {KlCommand.EncodeKey.class, KlCommand.Aes.Enc.class, KlCommand.Aes.Dec.class})
public final class KlCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        // like xts and bench: a missing subcommand is bad usage (exit 2), not success
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "kl: name an instruction: encodekey, aesenc or aesdec (see memcrypt kl --help)");
    }

    /** The IWKey options every subcommand takes. */
    static class IwKeyOptions {
        @Option(names = "--integrity-key", required = true, paramLabel = "HEX32", description = "IWKey.IntegrityKey (XMM0 at LOADIWKEY), 16 bytes")
        String integrity;

        @Option(names = "--encryption-key", required = true, paramLabel = "HEX64", description = "IWKey.EncryptionKey: SRC2's 16 bytes, then SRC1's")
        String encryption;

        /** Core 0 of a fresh machine with CR4.KL set and this IWKey loaded (KeySource 0). */
        Core load() {
            byte[] ik = bytes("--integrity-key", integrity, 16);
            byte[] ek = bytes("--encryption-key", encryption, 32);
            Machine m = Machine.powerOn(MachineConfig.defaults().with("dram", "16M").with("l1", "4K").with("llc", "64K").with("keylocker", "true"));
            Core c = m.core(0);
            c.writeCr4(Core.CR4_KL);
            c.xmm().set(0, ik);
            c.xmm().set(1, Arrays.copyOfRange(ek, 0, 16));
            c.xmm().set(2, Arrays.copyOfRange(ek, 16, 32));
            c.keyLocker().loadiwkey(2, 1, 0);
            for (int i = 0; i < 3; i++) c.xmm().zero(i);
            Arrays.fill(ik, (byte) 0);
            Arrays.fill(ek, (byte) 0);
            return c;
        }
    }

    static byte[] bytes(String name, String hex, int... sizes) {
        byte[] b;
        try {
            b = Hex.parse(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage());
        }
        for (int s : sizes) if (b.length == s) return b;
        StringBuilder want = new StringBuilder();
        for (int s : sizes) want.append(want.isEmpty() ? "" : " or ").append(s * 2);
        throw new IllegalArgumentException(name + ": expected " + want + " hex digits, got " + b.length * 2);
    }

    @Command(name = "encodekey", mixinStandardHelpOptions = true,
            description = "ENCODEKEY128/256 of --key under the given IWKey; prints the handle (AAD, tag, wrapped key) as one hex line.")
    static final class EncodeKey implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        IwKeyOptions iw;

        @Option(names = "--restrictions", paramLabel = "N", description = "handle restrictions (SRC[2:0]: 1 CPL0-only, 2 no-encrypt, 4 no-decrypt), default 0")
        String restrictions = "0";

        @Option(names = "--key", required = true, paramLabel = "HEX32|HEX64", description = "the AES-128 or AES-256 key (XMM0, or XMM0 then XMM1)")
        String key;

        @Override
        public Integer call() {
            int r = number("--restrictions", restrictions, 0, 7);
            byte[] k = bytes("--key", key, 16, 32);
            Core c = iw.load();
            c.xmm().set(0, Arrays.copyOfRange(k, 0, 16));
            int regs = 3;
            if (k.length == 32) {
                c.xmm().set(1, Arrays.copyOfRange(k, 16, 32));
                regs = 4;
            }
            Arrays.fill(k, (byte) 0);
            if (regs == 3) c.keyLocker().encodekey128(r);
            else c.keyLocker().encodekey256(r);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < regs; i++) sb.append(c.xmm().hex(i));
            spec.commandLine().getOut().println(sb);
            return 0;
        }
    }

    static int number(String name, String v, int min, int max) {
        long n;
        try {
            String s = v.strip();
            n = s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": '" + v + "' is not a number");
        }
        if (n < min || n > max) throw new IllegalArgumentException(name + ": " + n + " out of range " + min + ".." + max);
        return (int) n;
    }

    abstract static class Aes implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        IwKeyOptions iw;

        @Option(names = "--handle", required = true, paramLabel = "HEX", description = "a 384-bit (AES-128) or 512-bit (AES-256) handle")
        String handle;

        @Option(names = "--cpl", paramLabel = "N", description = "privilege level of the AES instruction, 0..3 (default 0)")
        String cpl = "0";

        @Option(names = "--wide", description = "AES*WIDE*KL: BLOCKHEX is 8 blocks (XMM0..XMM7)")
        boolean wide;

        @Parameters(index = "0", paramLabel = "BLOCKHEX", description = "one 16-byte block, or 128 bytes with --wide")
        String block;

        abstract boolean encrypt();

        @Override
        public Integer call() {
            byte[] h = bytes("--handle", handle, Handle.SIZE_128, Handle.SIZE_256);
            int level = number("--cpl", cpl, 0, 3);
            byte[] data = bytes("BLOCKHEX", block, wide ? 128 : 16);
            Core c = iw.load();
            c.setCpl(level);
            KeyLockerUnit kl = c.keyLocker();
            boolean aes256 = h.length == Handle.SIZE_256;
            boolean ok;
            StringBuilder out = new StringBuilder();
            if (wide) {
                for (int i = 0; i < 8; i++) c.xmm().set(i, Arrays.copyOfRange(data, 16 * i, 16 * i + 16));
                ok = encrypt() ? (aes256 ? kl.aesencwide256kl(h) : kl.aesencwide128kl(h)) : (aes256 ? kl.aesdecwide256kl(h) : kl.aesdecwide128kl(h));
                for (int i = 0; i < 8; i++) out.append(c.xmm().hex(i));
            } else {
                c.xmm().set(0, data);
                ok = encrypt() ? (aes256 ? kl.aesenc256kl(0, h) : kl.aesenc128kl(0, h)) : (aes256 ? kl.aesdec256kl(0, h) : kl.aesdec128kl(0, h));
                out.append(c.xmm().hex(0));
            }
            spec.commandLine().getOut().println(ok ? out : "ZF=1");
            return 0;
        }

        @Command(name = "aesenc", mixinStandardHelpOptions = true,
                description = "AESENC128KL/256KL (or the WIDE forms) of BLOCKHEX with --handle; prints the result or ZF=1 when the handle is refused.")
        static final class Enc extends Aes {
            @Override
            boolean encrypt() {
                return true;
            }
        }

        @Command(name = "aesdec", mixinStandardHelpOptions = true,
                description = "AESDEC128KL/256KL (or the WIDE forms) of BLOCKHEX with --handle; prints the result or ZF=1 when the handle is refused.")
        static final class Dec extends Aes {
            @Override
            boolean encrypt() {
                return false;
            }
        }
    }
}
