package dev.memcrypt.cli;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.util.Hex;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code memcrypt xts encrypt|decrypt --key HEX64|HEX128 (--tweak HEX32 | --data-unit N | --line-address PA) [HEX]}:
 * one XTS-AES-128 or XTS-AES-256 data unit (IEEE 1619-2007), or one 64-byte memory line at a physical address.
 * Bad input exits 2 with a one-line error that names the problem and never echoes key bytes.
 */
@Command(name = "xts", mixinStandardHelpOptions = true,
        description = "Encrypt or decrypt one XTS-AES-128 or XTS-AES-256 data unit (IEEE 1619-2007) or one 64-byte memory line.",
        subcommands = {XtsCommand.Encrypt.class, XtsCommand.Decrypt.class})
public final class XtsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "xts: say encrypt or decrypt");
    }

    /** Where the tweak comes from: exactly one of three. */
    static final class TweakSource {
        @Option(names = "--tweak", paramLabel = "HEX32", required = true, description = "The 16-byte tweak as 32 hex digits (as stored: byte 0 first).")
        String tweak;

        @Option(names = "--data-unit", paramLabel = "N", required = true,
                description = "The data-unit sequence number (decimal or 0x hex), used as a 128-bit little-endian tweak.")
        String dataUnit;

        @Option(names = "--line-address", paramLabel = "PA", required = true,
                description = "Line mode: the 64-byte-aligned physical address (decimal or 0x hex); the data must be 64 bytes.")
        String lineAddress;
    }

    /** Options shared by encrypt and decrypt (a picocli mixin). */
    static final class Args {
        @Option(names = "--key", paramLabel = "HEX64|HEX128", required = true,
                description = "key1 || key2: 32 bytes as 64 hex digits (XTS-AES-128) or 64 bytes as 128 hex digits (XTS-AES-256).")
        String key;

        @ArgGroup(exclusive = true, multiplicity = "1")
        TweakSource tweak;

        @Option(names = "--salt", paramLabel = "HEX32",
                description = "Line mode only: the per-boot tweak salt, 16 bytes as 32 hex digits (little-endian; default none).")
        String salt;

        @Option(names = "--engine", paramLabel = "NAME", description = "XTS engine: native, java or reference (default: the fastest available).")
        String engine;

        @Parameters(arity = "0..1", paramLabel = "HEX", description = "The data as hex; read from standard input when absent.")
        String data;
    }

    @Command(name = "encrypt", mixinStandardHelpOptions = true, description = "Encrypt; prints the ciphertext as lowercase hex.")
    static final class Encrypt implements Callable<Integer> {
        @Mixin
        Args a;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return XtsCommand.run(spec, a, true);
        }
    }

    @Command(name = "decrypt", mixinStandardHelpOptions = true, description = "Decrypt; prints the plaintext as lowercase hex.")
    static final class Decrypt implements Callable<Integer> {
        @Mixin
        Args a;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return XtsCommand.run(spec, a, false);
        }
    }

    private static IllegalArgumentException bad(String msg) {
        return new IllegalArgumentException("xts: " + msg);
    }

    static int run(CommandSpec spec, Args a, boolean encrypt) {
        byte[] keyBytes = parseHex("--key", a.key);
        try {
            if (keyBytes.length != 32 && keyBytes.length != 64) {
                throw bad("--key must be 64 hex digits (XTS-AES-128) or 128 (XTS-AES-256), key1 || key2, got " + keyBytes.length * 2);
            }
            XtsEngine engine = a.engine == null ? XtsEngine.best() : XtsEngine.byName(a.engine);
            byte[] data = a.data != null ? parseHex("data", a.data) : parseHex("stdin", readStdin());
            if (data.length == 0) throw bad("no data: give HEX or pipe hex on standard input");
            byte[] out = new byte[data.length];
            try (XtsKey key = XtsKey.of(keyBytes)) {
                if (a.salt != null && a.tweak.lineAddress == null) throw bad("--salt applies to --line-address only");
                if (a.tweak.lineAddress != null) {
                    long pa = parseAddress(a.tweak.lineAddress);
                    LineTweak salt = LineTweak.NONE;
                    if (a.salt != null) {
                        byte[] sb = parseHex("--salt", a.salt);
                        if (sb.length != 16) throw bad("--salt must be 32 hex digits (16 bytes), got " + sb.length * 2);
                        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(sb).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                        salt = new LineTweak(bb.getLong(0), bb.getLong(8));
                    }
                    if ((pa & 63) != 0) throw bad("--line-address 0x" + Long.toHexString(pa) + " is not 64-byte (line) aligned");
                    if (data.length != XtsEngine.LINE) throw bad("--line-address needs exactly 64 bytes of data (one line), got " + data.length);
                    if (encrypt) engine.encryptLines(key, salt, pa, data, 0, out, 0, 1);
                    else engine.decryptLines(key, salt, pa, data, 0, out, 0, 1);
                } else {
                    byte[] tweak = a.tweak.tweak != null ? parseTweak(a.tweak.tweak) : dataUnitTweak(a.tweak.dataUnit);
                    if (data.length < 16) throw bad("data must be at least 16 bytes (one XTS block), got " + data.length);
                    if (encrypt) engine.encrypt(key, tweak, data, 0, data.length, out, 0);
                    else engine.decrypt(key, tweak, data, 0, data.length, out, 0);
                }
            }
            spec.commandLine().getOut().println(Hex.of(out));
            spec.commandLine().getOut().flush();
            return 0;
        } finally {
            Arrays.fill(keyBytes, (byte) 0);
        }
    }

    private static byte[] parseHex(String what, String s) {
        try {
            return Hex.parse(s);
        } catch (IllegalArgumentException e) {
            throw bad(what + ": " + e.getMessage()); // Hex never echoes its input
        }
    }

    private static byte[] parseTweak(String s) {
        byte[] t = parseHex("--tweak", s);
        if (t.length != 16) throw bad("--tweak must be 32 hex digits (16 bytes), got " + t.length * 2);
        return t;
    }

    /** Decimal or 0x-prefixed hex, 0 <= N < 2^128, as the 128-bit little-endian tweak. */
    static byte[] dataUnitTweak(String s) {
        BigInteger n = parseNumber("--data-unit", s);
        if (n.bitLength() > 128) throw bad("--data-unit " + s.strip() + " does not fit in 128 bits");
        byte[] t = new byte[16];
        for (int i = 0; i < 16; i++) t[i] = n.shiftRight(8 * i).byteValue();
        return t;
    }

    static long parseAddress(String s) {
        BigInteger n = parseNumber("--line-address", s);
        if (n.bitLength() > 64) throw bad("--line-address " + s.strip() + " does not fit in 64 bits");
        return n.longValue();
    }

    private static BigInteger parseNumber(String opt, String s) {
        String t = s.strip().replace("_", "");
        try {
            BigInteger n = t.toLowerCase(Locale.ROOT).startsWith("0x") ? new BigInteger(t.substring(2), 16) : new BigInteger(t);
            if (n.signum() < 0) throw bad(opt + " must not be negative, got " + t);
            return n;
        } catch (NumberFormatException e) {
            throw bad(opt + " must be a decimal or 0x-prefixed hex number, got '" + t + "'");
        }
    }

    private static String readStdin() {
        try {
            InputStream in = System.in;
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
