package dev.memcrypt.cli;

import dev.memcrypt.util.Bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5: persistent memory "survives a restart of memcrypt". Separate {@code memcrypt run}
 * invocations (each a new machine, with another seed and so another TME key) share one pmem
 * backing file: what the first wrote through {@code pmem_open}/{@code pmem_sync} reads back with
 * the same user-type key, and as garbage with another key.
 */
class PmemRestartTest {
    static final String KEY = "key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100";
    static final String OTHER = "key=0f0e0d0c0b0a09080706050403020100 tweak=ffeeddccbbaa99887766554433221100";

    static String header(int seed, Path img, String keyMaterial) {
        return "machine dram=256M seed=" + seed + "\n"
                + "mm boot pmem=" + img + " pmem_size=4M\n"
                + "k = add_key mktme pm \"type=user algorithm=aes-xts-128 " + keyMaterial + "\" @u\n"
                + "fd = pmem_open $k\n";
    }

    static Cli.Run run(Path dir, String name, String script) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, script);
        return Cli.run("run", f.toString());
    }

    static void assertPass(Cli.Run r) {
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("[end] mm -> ok"), r.out());
    }

    @Test
    void pmemWrittenByOneRunReadsBackInTheNextWithTheSameKeyOnly(@TempDir Path dir) throws IOException {
        Path img = dir.resolve("pmem0.img");
        assertPass(run(dir, "write.mc", header(11, img, KEY)
                + "a = mmap 0x50000000 4M PROT_READ|PROT_WRITE MAP_SHARED|MAP_FIXED $fd 0   # DAX mapping\n"
                + "poke 0x50003010 \"persistent secret\"\n"
                + "pwrite $fd \"second record\" 0x5000 => 13\n"
                + "peek 0x50005000 13 => \"second record\"\n"
                + "pmem_sync\n"));
        assertTrue(Files.size(img) > 0, "pmem_sync wrote the backing file");
        byte[] file = Files.readAllBytes(img);
        assertFalse(Bytes.contains(file, "persistent secret".getBytes(StandardCharsets.UTF_8)), "the file holds ciphertext");
        assertFalse(Bytes.contains(file, "second record".getBytes(StandardCharsets.UTF_8)));

        // restart: another machine (seed), the same file and the same user key
        Cli.Run same = run(dir, "read.mc", header(12, img, KEY)
                + "pread $fd 17 0x3010 => \"persistent secret\"\n"
                + "b = mmap 0x60000000 8192 PROT_READ MAP_SHARED|MAP_FIXED $fd 0x4000\n"
                + "peek 0x60001000 13 => \"second record\"\n"
                + "peek 0x60000000 16 => !00*16   # never written: raw zeroes decrypt to garbage, as with dm-crypt on a fresh device\n");
        assertPass(same);
        assertTrue(same.out().contains("-> " + hex("persistent secret")), same.out());

        // restart with another user key: the same bytes decrypt to garbage
        assertPass(run(dir, "other.mc", header(13, img, OTHER)
                + "pread $fd 17 0x3010 => !\"persistent secret\"\n"
                + "pread $fd 13 0x5000 => !\"second record\"\n"
                + "b = mmap 0x60000000 4096 PROT_READ MAP_SHARED|MAP_FIXED $fd 0x3000\n"
                + "peek 0x60000010 17 => !\"persistent secret\"\n"));
        // ...and a script that asserts the plaintext with the wrong key fails (exit 1)
        Cli.Run wrong = run(dir, "wrong.mc", header(14, img, OTHER) + "pread $fd 17 0x3010 => \"persistent secret\"\n");
        assertEquals(1, wrong.exit(), wrong.out());
        assertTrue(wrong.err().contains("FAIL: pread"), wrong.err());
    }

    @Test
    void withoutPmemSyncARestartSeesTheOldContents(@TempDir Path dir) throws IOException {
        Path img = dir.resolve("pmem0.img");
        assertPass(run(dir, "v1.mc", header(21, img, KEY) + "pwrite $fd \"version 1\" 0 => 9\npmem_sync\n"));
        assertPass(run(dir, "v2.mc", header(22, img, KEY)
                + "pread $fd 9 0 => \"version 1\"\n"
                + "pwrite $fd \"version 2\" 0 => 9\n"
                + "pread $fd 9 0 => \"version 2\"\n")); // no pmem_sync: lost with the machine
        assertPass(run(dir, "v3.mc", header(23, img, KEY) + "pread $fd 9 0 => \"version 1\"\n"));
    }

    @Test
    void pmemOpenWithoutANamespaceIsEnodev(@TempDir Path dir) throws IOException {
        assertPass(run(dir, "none.mc", "machine dram=256M\n"
                + "k = add_key mktme pm \"type=user algorithm=aes-xts-128 " + KEY + "\" @u\n"
                + "pmem_open $k => ENODEV\n"));
    }

    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.toString();
    }
}
