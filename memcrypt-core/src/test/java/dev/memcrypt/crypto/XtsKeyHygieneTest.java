package dev.memcrypt.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.util.Hex;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Key material lives only in destroyable objects, is wiped on destroy and never shown. */
class XtsKeyHygieneTest {
    private static final String KEY_HEX = "0123456789abcdeffedcba9876543210a5a5a5a55a5a5a5a0f0f0f0ff0f0f0f0";

    @Test
    void destroyWipesKeyBytesAndRefusesUse() {
        XtsKey k = XtsKey.of(Hex.parse(KEY_HEX));
        byte[] inside = k.raw();
        k.destroy();
        assertTrue(k.isDestroyed());
        assertArrayEquals(new byte[32], inside, "key bytes zeroed");
        IllegalStateException ex = assertThrows(IllegalStateException.class, k::copyBytes);
        assertFalse(ex.getMessage().contains("0123"));
        for (XtsEngine e : XtsEngine.available()) {
            assertThrows(IllegalStateException.class, () -> e.encrypt(k, new byte[16], new byte[32]), e.name());
            assertThrows(IllegalStateException.class, () -> e.encryptLines(k, LineTweak.NONE, 0, new byte[64], 0, new byte[64], 0, 1), e.name());
        }
    }

    @Test
    void destroyClosesEveryEnginesPreparedState() {
        XtsKey k = XtsKey.of(Hex.parse(KEY_HEX));
        List<WorkerPool<?>> pools = new ArrayList<>();
        for (XtsEngine e : XtsEngine.available()) {
            e.encrypt(k, new byte[16], new byte[4096]);
            e.encryptLines(k, LineTweak.NONE, 0x2000, new byte[4096], 0, new byte[4096], 0, 64);
            if (e instanceof BatchXts<?> b) {
                WorkerPool<?> p = b.pool(k);
                assertEquals(1, p.idleCount(), e.name() + " keeps one prepared worker");
                pools.add(p);
            }
        }
        assertEquals(pools.size(), k.preparedCount());
        k.destroy();
        assertEquals(0, k.preparedCount(), "prepared state dropped from the key");
        for (WorkerPool<?> p : pools) {
            assertEquals(0, p.idleCount(), "workers closed");
            assertThrows(IllegalStateException.class, p::acquire);
        }
    }

    @Test
    void aKeyDroppedWithoutDestroyIsWipedByTheCleaner() throws Exception {
        List<WorkerPool<?>> pools = new ArrayList<>();
        byte[][] inside = new byte[1][];
        Runnable use = () -> {
            XtsKey k = XtsKey.of(Hex.parse(KEY_HEX));
            inside[0] = k.raw();
            for (XtsEngine e : XtsEngine.available()) {
                e.encrypt(k, new byte[16], new byte[64]);
                if (e instanceof BatchXts<?> b) pools.add(b.pool(k));
            }
        };
        use.run(); // the key is unreachable afterwards
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!java.util.Arrays.equals(new byte[32], inside[0]) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertArrayEquals(new byte[32], inside[0], "key bytes zeroed by the Cleaner");
        for (WorkerPool<?> p : pools) {
            assertThrows(IllegalStateException.class, p::acquire);
            assertEquals(0, p.idleCount());
        }
    }

    @Test
    void workerCloseWipesScratchBuffers() {
        byte[] raw = Hex.parse(KEY_HEX);
        List<BatchXts.Worker> workers = new ArrayList<>();
        workers.add(new JdkXts.JdkWorker(raw));
        if (XtsEngine.libcrypto().isPresent()) workers.add(new LibcryptoXts.NativeWorker(raw));
        for (BatchXts.Worker w : workers) {
            byte[] p = new byte[4096];
            java.util.Arrays.fill(p, (byte) 0x5a);
            BatchXts.linesWith(w, true, LineTweak.NONE, 0, p, 0, p, 0, 64);
            w.close();
            assertArrayEquals(new byte[4096], w.buf);
            assertArrayEquals(new byte[4096], w.tw);
            assertArrayEquals(new byte[w.tin.length], w.tin);
        }
    }

    @Test
    void toStringAndErrorsNeverShowKeyMaterial() {
        XtsKey k = XtsKey.of(Hex.parse(KEY_HEX));
        assertEquals("XtsKey[redacted]", k.toString());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> XtsKey.of(Hex.parse(KEY_HEX.substring(0, 40))));
        assertFalse(bad.getMessage().contains(KEY_HEX.substring(0, 8)), bad.getMessage());
        IllegalArgumentException hex = assertThrows(IllegalArgumentException.class, () -> Hex.parse(KEY_HEX.substring(0, 20) + "zz"));
        assertFalse(hex.getMessage().contains(KEY_HEX.substring(0, 8)), hex.getMessage());
        for (XtsEngine e : XtsEngine.available()) {
            IllegalArgumentException shortUnit = assertThrows(IllegalArgumentException.class, () -> e.encrypt(k, new byte[16], new byte[15]));
            assertFalse(shortUnit.getMessage().toLowerCase().contains("0123456789abcdef"));
        }
        k.destroy();
        assertEquals("XtsKey[destroyed]", k.toString());
    }

    @Test
    void enginesAreThreadSafeOnOneKey() throws Exception {
        try (XtsKey k = XtsKey.of(Hex.parse(KEY_HEX)); ExecutorService pool = Executors.newFixedThreadPool(4)) {
            byte[] page = new byte[4096 * 2];
            new java.util.Random(7).nextBytes(page);
            byte[] want = new byte[page.length];
            XtsEngine.reference().encryptLines(k, LineTweak.NONE, 0x10000, page, 0, want, 0, 128);
            byte[] wantUnit = XtsEngine.reference().encrypt(k, new byte[16], page);
            for (XtsEngine e : XtsEngine.available()) {
                List<Future<Boolean>> fs = new ArrayList<>();
                int rounds = e == XtsEngine.reference() ? 3 : 40;
                for (int t = 0; t < 8; t++) {
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < rounds; i++) {
                            byte[] out = new byte[page.length];
                            e.encryptLines(k, LineTweak.NONE, 0x10000, page, 0, out, 0, 128);
                            if (!java.util.Arrays.equals(want, out)) return false;
                            if (!java.util.Arrays.equals(wantUnit, e.encrypt(k, new byte[16], page))) return false;
                        }
                        return true;
                    }));
                }
                for (Future<Boolean> f : fs) assertTrue(f.get(), e.name());
            }
        }
    }

    @Test
    void bestHonoursTheSystemProperty() {
        String old = System.getProperty("memcrypt.crypto");
        try {
            System.setProperty("memcrypt.crypto", "reference");
            assertEquals("reference", XtsEngine.best().name());
            System.setProperty("memcrypt.crypto", "java");
            assertEquals("java", XtsEngine.best().name());
            System.setProperty("memcrypt.crypto", "bogus");
            assertThrows(IllegalArgumentException.class, XtsEngine::best);
            System.clearProperty("memcrypt.crypto");
            assertEquals(XtsEngine.libcrypto().isPresent() ? "libcrypto" : "java", XtsEngine.best().name());
        } finally {
            if (old == null) System.clearProperty("memcrypt.crypto");
            else System.setProperty("memcrypt.crypto", old);
        }
    }
}
