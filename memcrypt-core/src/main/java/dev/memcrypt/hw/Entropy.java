package dev.memcrypt.hw;

import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * The platform's hardware random source (RDRAND/RDSEED, the PCONFIG and TME key generators).
 * Injected so tests are deterministic and so an entropy failure can be provoked: {@link #fill}
 * returns false when the source has no entropy, which PCONFIG reports as ENTROPY_ERROR and
 * IA32_TME_ACTIVATE reports by leaving the enable bit clear.
 */
public interface Entropy {
    /** Fills {@code dst} with random bytes; false (dst unspecified) when entropy is exhausted. */
    boolean fill(byte[] dst);

    /** Cryptographically strong entropy for interactive use. */
    static Entropy secure() {
        SecureRandom r = new SecureRandom();
        return dst -> {
            r.nextBytes(dst);
            return true;
        };
    }

    /** Deterministic entropy for tests and reproducible scenarios. Not thread-safe beyond synchronized use. */
    static Entropy seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return dst -> {
            synchronized (r) {
                for (int i = 0; i < dst.length; i++) dst[i] = (byte) r.nextInt(256);
            }
            return true;
        };
    }
}
