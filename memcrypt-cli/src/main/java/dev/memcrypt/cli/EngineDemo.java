package dev.memcrypt.cli;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.util.Hex;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The engine part of {@code memcrypt demo}: the same 64-byte line written at two physical addresses
 * under one key gives two different ciphertexts (the tweak is the address, SPEC-FACTS §1), and each
 * decrypts back. Reusable: the full MKTME demo calls {@link #show} as its first act.
 */
public final class EngineDemo {
    private EngineDemo() {}

    /** Narrates the demo on {@code out}; returns true when every check held. */
    public static boolean show(PrintWriter out, XtsEngine engine) {
        byte[] line = Arrays.copyOf("memcrypt: one cache line, 64 bytes of plaintext, same everywhere".getBytes(StandardCharsets.US_ASCII), 64);
        byte[] keyBytes = new byte[32];
        for (int i = 0; i < 32; i++) keyBytes[i] = (byte) (0x10 + 7 * i); // a fixed demo key, so the output is reproducible
        long pa1 = 0x1000;
        long pa2 = 0x2040;
        byte[] c1 = new byte[64];
        byte[] c2 = new byte[64];
        byte[] p1 = new byte[64];
        byte[] p2 = new byte[64];
        try (XtsKey key = XtsKey.of(keyBytes)) {
            Arrays.fill(keyBytes, (byte) 0);
            engine.encryptLines(key, LineTweak.NONE, pa1, line, 0, c1, 0, 1);
            engine.encryptLines(key, LineTweak.NONE, pa2, line, 0, c2, 0, 1);
            engine.decryptLines(key, LineTweak.NONE, pa1, c1, 0, p1, 0, 1);
            engine.decryptLines(key, LineTweak.NONE, pa2, c2, 0, p2, 0, 1);
        }
        boolean differ = !Arrays.equals(c1, c2);
        boolean back = Arrays.equals(line, p1) && Arrays.equals(line, p2);
        out.printf("The memory encryption engine (XTS-AES-128, IEEE 1619; engine: %s)%n", engine.name());
        out.println("  One key, one 64-byte line, written at two physical addresses.");
        out.println("  The tweak is the line's address, so the same plaintext encrypts differently at each.");
        out.printf("  plaintext        %s%n", Hex.of(line, 0, 32));
        out.printf("                   %s%n", Hex.of(line, 32, 32));
        out.printf("  at PA 0x%06x   %s%n", pa1, Hex.of(c1, 0, 32));
        out.printf("                   %s%n", Hex.of(c1, 32, 32));
        out.printf("  at PA 0x%06x   %s%n", pa2, Hex.of(c2, 0, 32));
        out.printf("                   %s%n", Hex.of(c2, 32, 32));
        out.printf("  two ciphertexts differ:      %s%n", differ ? "yes" : "NO (broken)");
        out.printf("  each decrypts back at its PA: %s%n", back ? "yes" : "NO (broken)");
        out.flush();
        return differ && back;
    }
}
