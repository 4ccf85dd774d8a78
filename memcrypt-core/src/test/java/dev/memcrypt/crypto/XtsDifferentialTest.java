package dev.memcrypt.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.memcrypt.util.Hex;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Randomized differential test against an independent implementation: Python's {@code cryptography}
 * package (OpenSSL's XTS behind a different API). One python3 process computes every case; skipped
 * with a message when python3 or the package is missing.
 */
class XtsDifferentialTest {
    private static final String SCRIPT = """
            import sys
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            for line in sys.stdin:
                key, tweak, data = (bytes.fromhex(x) for x in line.split())
                e = Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor()
                print((e.update(data) + e.finalize()).hex())
            """;

    private record Case(byte[] key, byte[] tweak, byte[] pt) {}

    private static List<String> python(List<Case> cases) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", SCRIPT).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            assumeTrue(false, "python3 not available, differential test skipped: " + e.getMessage());
            throw e;
        }
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (OutputStream o = p.getOutputStream()) {
                for (Case c : cases) {
                    o.write((Hex.of(c.key) + " " + Hex.of(c.tweak) + " " + Hex.of(c.pt) + "\n").getBytes(StandardCharsets.US_ASCII));
                }
            } catch (IOException ignored) {
                // python died; the exit status tells
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        feeder.join();
        if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
        assumeTrue(p.exitValue() == 0, "python3 'cryptography' package not available (exit " + p.exitValue() + "), differential test skipped");
        return out.lines().toList();
    }

    @Test
    void randomDataUnitsAndLinesAgreeWithPythonCryptography() throws Exception {
        differential(600, 0x1619L);
    }

    /** Long fuzz: ./mvnw verify -Pslow */
    @Test
    @Tag("slow")
    void manyRandomCasesAgreeWithPythonCryptography() throws Exception {
        differential(20_000, System.nanoTime());
    }

    private static void differential(int n, long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Case> cases = new ArrayList<>();
        List<long[]> lineInfo = new ArrayList<>(); // {pa, saltLo, saltHi} for the line cases, else null
        for (int i = 0; i < n; i++) {
            byte[] key = new byte[i % 4 == 3 ? 64 : 32]; // XTS-AES-128 and XTS-AES-256
            rnd.nextBytes(key);
            if (i % 3 == 0) {
                // a line: tweak per SPEC-FACTS §1
                long pa = rnd.nextLong() & ~63L & ((1L << 52) - 1);
                LineTweak salt = i % 2 == 0 ? LineTweak.NONE : new LineTweak(rnd.nextLong(), rnd.nextLong());
                byte[] pt = new byte[64];
                rnd.nextBytes(pt);
                cases.add(new Case(key, salt.tweakFor(pa), pt));
                lineInfo.add(new long[] {pa, salt.lo(), salt.hi()});
            } else {
                int len = 16 + rnd.nextInt(i % 5 == 0 ? 8192 : 300);
                byte[] tweak = new byte[16];
                rnd.nextBytes(tweak);
                byte[] pt = new byte[len];
                rnd.nextBytes(pt);
                cases.add(new Case(key, tweak, pt));
                lineInfo.add(null);
            }
        }
        List<String> want = python(cases);
        assertEquals(cases.size(), want.size(), "python answered every case");
        for (XtsEngine e : XtsEngine.available()) {
            if (n > 1000 && e == XtsEngine.reference()) continue; // too slow for the long run; it is checked in the short one
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                try (XtsKey k = XtsKey.of(c.key)) {
                    long[] li = lineInfo.get(i);
                    byte[] got;
                    if (li != null) {
                        got = new byte[64];
                        e.encryptLines(k, new LineTweak(li[1], li[2]), li[0], c.pt, 0, got, 0, 1);
                    } else {
                        got = e.encrypt(k, c.tweak, c.pt);
                    }
                    assertEquals(want.get(i), Hex.of(got), e.name() + " case " + i + " (" + c.pt.length + " bytes, seed " + seed + ")");
                    byte[] back = li != null ? new byte[64] : e.decrypt(k, c.tweak, got);
                    if (li != null) e.decryptLines(k, new LineTweak(li[1], li[2]), li[0], got, 0, back, 0, 1);
                    assertEquals(Hex.of(c.pt), Hex.of(back), e.name() + " decrypt case " + i);
                }
            }
        }
    }
}
