package dev.memcrypt.lab;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo runs in CI; its --json output has one record per step, all ok, with the RFC's facts. */
class MktmeDemoTest {
    static List<String> run(boolean json) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        boolean ok = MktmeDemo.run(new PrintStream(b, true, StandardCharsets.UTF_8), json);
        assertTrue(ok, b.toString(StandardCharsets.UTF_8));
        return b.toString(StandardCharsets.UTF_8).lines().toList();
    }

    static String field(String rec, String name) {
        int i = rec.indexOf("\"" + name + "\":");
        assertTrue(i >= 0, name + " in " + rec);
        int s = i + name.length() + 3;
        if (rec.charAt(s) == '"') {
            int e = s + 1;
            while (rec.charAt(e) != '"' || rec.charAt(e - 1) == '\\') e++;
            return rec.substring(s + 1, e);
        }
        int e = s;
        while (e < rec.length() && ",}".indexOf(rec.charAt(e)) < 0) e++;
        return rec.substring(s, e);
    }

    @Test
    void jsonHasOneOkRecordPerStep() {
        List<String> lines = run(true);
        List<String> steps = lines.stream().filter(l -> l.startsWith("{\"step\":")).toList();
        assertEquals(List.of("add_key", "mmap", "encrypt_mprotect", "mprotect", "write_read", "dram", "other_key", "other_address", "direct_map", "smaps", "munmap", "invalidate"),
                steps.stream().map(s -> field(s, "name")).toList());
        for (String s : steps) assertEquals("true", field(s, "ok"), s);
        String keyId = field(steps.get(0), "keyid");
        assertEquals(keyId, field(steps.get(2), "keyid"));
        assertEquals("2", field(steps.get(2), "keyid_refs"));
        assertEquals(MktmeDemo.SECRET, field(steps.get(4), "read_back"));
        assertEquals("false", field(steps.get(5), "contains_secret"));
        assertNotEquals(field(steps.get(5), "dram"), field(steps.get(6), "dram"));
        assertNotEquals(field(steps.get(5), "dram"), field(steps.get(7), "dram"));
        assertTrue(field(steps.get(9), "smaps_keyid_line").matches("KeyID:\\s+" + keyId));
        assertEquals("AVAILABLE", field(steps.get(11), "keyid_state"));
        assertEquals("{\"summary\":\"mktme_demo\",\"steps\":12,\"ok\":true}", lines.getLast());
    }

    @Test
    void textNarrates() {
        List<String> lines = run(false);
        assertTrue(lines.getFirst().startsWith("MKTME demo"));
        assertTrue(lines.stream().anyMatch(l -> l.contains("encrypt_mprotect(0x")));
        assertTrue(lines.getLast().startsWith("demo OK"));
    }
}
