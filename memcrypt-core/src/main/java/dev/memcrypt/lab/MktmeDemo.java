package dev.memcrypt.lab;

import dev.memcrypt.util.Bytes;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.mm.Mman;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.util.Hex;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The MKTME demo (Documentation/x86/mktme/mktme_demo.rst of the RFC, then what it means on the
 * machine): add a cpu key, mmap a page, encrypt_mprotect it, write a secret and read it back, look
 * at the DRAM behind it (ciphertext, different under another key and at another address), read it
 * through the KeyID-0 direct map (wrong bytes), find the KeyID in smaps, then munmap and
 * invalidate and watch the KeyID return to the free pool.
 *
 * <p>Output: narrated text, or with {@code json} one JSON object per step
 * ({@code {"step":N,"name":...,"ok":true,...}}) and a final {@code {"summary":...}} record.
 * {@link #run} returns true if every step behaved as the RFC says.
 */
public final class MktmeDemo {
    /** The secret the demo stores. */
    public static final String SECRET = "memcrypt: the eagle lands at 03:25";

    private final PrintStream out;
    private final boolean json;
    private int step;
    private boolean allOk = true;

    private MktmeDemo(PrintStream out, boolean json) {
        this.out = out;
        this.json = json;
    }

    /** The demo's machine: the embedded default machine with 256 MiB of DRAM and a fixed seed. */
    public static MachineConfig machineConfig() {
        return MachineConfig.defaults().with("dram", "256M").with("seed", "1");
    }

    public static boolean run(PrintStream out, boolean json) {
        try {
            return new MktmeDemo(out, json).go(Machine.powerOn(machineConfig()));
        } catch (ErrnoException e) {
            throw new IllegalStateException("demo step failed: " + e.getMessage(), e);
        }
    }

    private boolean go(Machine m) throws ErrnoException {
        MmKernel k = MmKernel.boot(m);
        Process p = k.spawn(Cred.root());
        Task t = p.mainThread();
        KeyService keys = k.keys();
        MktmeKeyIds ids = k.keyIds();
        if (!json) {
            out.println("MKTME demo: encrypt_mprotect() on the model machine (" + m.config().packages() + " packages, " + m.config().cores() + " cores, "
                    + m.keyIdBits() + " KeyID bits, " + m.mktmeKeyIds() + " MKTME KeyIDs)");
        }
        String options = "algorithm=aes-xts-128 type=cpu";
        int key = keys.addKey(t, "mktme", "testkey", options.getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
        int keyId = keyIdOf(keys, key);
        record("add_key", "add_key(\"mktme\", \"testkey\", \"" + options + "\", KEY_SPEC_THREAD_KEYRING) = " + key
                + ": the key service reserved hardware KeyID " + keyId + " and programmed it with PCONFIG on every package",
                map("serial", key, "keyid", keyId, "keyid_refs", ids.refCount(keyId)), keyId > 0 && ids.refCount(keyId) == 1);

        long size = Mman.PAGE;
        long ptr = k.mmap(p, 0, size, Mman.PROT_NONE, Mman.MAP_ANONYMOUS | Mman.MAP_PRIVATE, -1, 0);
        record("mmap", String.format("mmap(NULL, %d, PROT_NONE, MAP_ANONYMOUS|MAP_PRIVATE, -1, 0) = 0x%x (KeyID %d, the TME key)", size, ptr, k.keyIdAt(p, ptr)),
                map("addr", hex(ptr), "keyid", k.keyIdAt(p, ptr)), k.keyIdAt(p, ptr) == 0);

        k.encryptMprotect(t, ptr, size, Mman.PROT_NONE, key);
        record("encrypt_mprotect", String.format("encrypt_mprotect(0x%x, %d, PROT_NONE, %d) = 0: the VMA now has KeyID %d and holds a reference on it (%d references: key + VMA)",
                ptr, size, key, k.keyIdAt(p, ptr), ids.refCount(keyId)), map("keyid", k.keyIdAt(p, ptr), "keyid_refs", ids.refCount(keyId)),
                k.keyIdAt(p, ptr) == keyId && ids.refCount(keyId) == 2);

        k.mprotect(p, ptr, size, Mman.PROT_READ | Mman.PROT_WRITE);
        record("mprotect", String.format("mprotect(0x%x, %d, PROT_READ|PROT_WRITE) = 0: a plain mprotect keeps KeyID %d", ptr, size, k.keyIdAt(p, ptr)),
                map("keyid", k.keyIdAt(p, ptr)), k.keyIdAt(p, ptr) == keyId);

        byte[] secret = Arrays.copyOf(SECRET.getBytes(StandardCharsets.UTF_8), 64);
        k.store(p, ptr, secret);
        byte[] back = k.load(p, ptr, 64);
        long pte = p.mm().pte(ptr);
        long full = pte & dev.memcrypt.hw.mmu.Pte.addrMask(m.config().maxPhysAddr());
        long pa = m.paOf(full);
        record("write_read", "wrote \"" + SECRET + "\" through the mapping and read it back: " + (Arrays.equals(secret, back) ? "identical" : "DIFFERENT")
                + String.format("; the PTE maps physical page 0x%x with KeyID %d in its KeyID bits", pa, m.keyIdOf(full)),
                map("secret", SECRET, "read_back", new String(back, StandardCharsets.UTF_8).replace("\0", ""), "pa", hex(pa), "pte_keyid", m.keyIdOf(full)),
                Arrays.equals(secret, back) && m.keyIdOf(full) == keyId);

        byte[] dram = k.vdram(p, ptr, 64, true);
        record("dram", "after the line is written back (CLFLUSH), DRAM behind the page holds ciphertext: " + Hex.of(Arrays.copyOf(dram, 32)) + "...",
                map("dram", Hex.of(dram), "contains_secret", Bytes.contains(dram, SECRET.getBytes(StandardCharsets.UTF_8))),
                !Bytes.contains(dram, SECRET.getBytes(StandardCharsets.UTF_8)));

        int key2 = keys.addKey(t, "mktme", "otherkey", options.getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
        long ptr2 = k.mmap(p, 0x7e00_0000_0000L, 2 * size, Mman.PROT_NONE, Mman.MAP_ANONYMOUS | Mman.MAP_PRIVATE, -1, 0);
        k.encryptMprotect(t, ptr2, size, Mman.PROT_READ | Mman.PROT_WRITE, key2);
        k.encryptMprotect(t, ptr2 + size, size, Mman.PROT_READ | Mman.PROT_WRITE, key);
        k.store(p, ptr2, secret);
        k.store(p, ptr2 + size, secret);
        byte[] dramOtherKey = k.vdram(p, ptr2, 64, true);
        byte[] dramOtherAddr = k.vdram(p, ptr2 + size, 64, true);
        record("other_key", String.format("the same secret under another key (KeyID %d) gives other ciphertext: %s...", keyIdOf(keys, key2), Hex.of(Arrays.copyOf(dramOtherKey, 32))),
                map("keyid", keyIdOf(keys, key2), "dram", Hex.of(dramOtherKey)), !Arrays.equals(dram, dramOtherKey));
        record("other_address", String.format("the same secret under the same KeyID %d at another physical address gives other ciphertext (the tweak is the address): %s...",
                keyId, Hex.of(Arrays.copyOf(dramOtherAddr, 32))), map("keyid", keyId, "dram", Hex.of(dramOtherAddr)), !Arrays.equals(dram, dramOtherAddr));

        byte[] viaKernel = k.copyFromUser(p, ptr, 64);
        byte[] alias = k.aliasRead(p, ptr, 64);
        record("direct_map", "copy_from_user() reads through the direct map of the page's KeyID: " + (Arrays.equals(viaKernel, secret) ? "the secret" : "WRONG")
                + "; a read through the KeyID-0 direct map alias gives wrong bytes (Andy Lutomirski's hazard): " + Hex.of(Arrays.copyOf(alias, 16)) + "...",
                map("copy_from_user_ok", Arrays.equals(viaKernel, secret), "keyid0_alias", Hex.of(alias)), Arrays.equals(viaKernel, secret) && !Arrays.equals(alias, secret));

        String smaps = k.smaps(p);
        String vmaBlock = block(smaps, ptr);
        String keyLine = vmaBlock.lines().filter(l -> l.startsWith("KeyID:")).findFirst().orElse("");
        if (!json) {
            out.println("   /proc/" + p.pid() + "/smaps for the page:");
            vmaBlock.lines().forEach(l -> out.println("     " + l));
        }
        record("smaps", "smaps shows the VMA's KeyID: \"" + keyLine.replaceAll("\\s+", " ").strip() + "\"", map("smaps_keyid_line", keyLine, "smaps", vmaBlock),
                keyLine.replaceAll("\\s+", " ").strip().equals("KeyID: " + keyId));

        k.munmap(p, ptr, size);
        k.munmap(p, ptr2, 2 * size);
        record("munmap", String.format("munmap(0x%x, %d) = 0 (and the comparison pages): the VMAs' references are dropped (%d left: the key's own)", ptr, size, ids.refCount(keyId)),
                map("keyid_refs", ids.refCount(keyId)), ids.refCount(keyId) == 1);

        keys.invalidate(t, key);
        keys.invalidate(t, key2);
        record("invalidate", String.format("keyctl(KEYCTL_INVALIDATE, %d) = 0: the key is destroyed and KeyID %d is %s again (%d free KeyIDs)",
                key, keyId, ids.state(keyId), ids.available()), map("keyid_state", ids.state(keyId).name(), "available", ids.available()),
                ids.state(keyId) == MktmeKeyIds.State.AVAILABLE);
        if (json) out.println("{\"summary\":\"mktme_demo\",\"steps\":" + step + ",\"ok\":" + allOk + "}");
        else out.println(allOk ? "demo OK: every step behaved as the RFC describes" : "demo FAILED: see the steps marked FAIL");
        return allOk;
    }

    private static int keyIdOf(KeyService keys, int serial) {
        Key kk = keys.acquire(serial);
        try {
            return MktmeKeyType.keyIdOf(kk);
        } finally {
            keys.release(kk);
        }
    }

    /** The smaps block of the VMA containing {@code va}. */
    private static String block(String smaps, long va) {
        StringBuilder sb = new StringBuilder();
        boolean in = false;
        for (String l : smaps.split("\n")) {
            if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] r = l.substring(0, l.indexOf(' ')).split("-");
                in = Long.parseUnsignedLong(r[0], 16) <= va && va < Long.parseUnsignedLong(r[1], 16);
            }
            if (in) sb.append(l).append('\n');
        }
        return sb.toString();
    }

    private static String hex(long v) {
        return String.format("0x%x", v);
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private void record(String name, String text, Map<String, Object> fields, boolean ok) {
        step++;
        allOk &= ok;
        if (!json) {
            out.printf("%2d. %s%s%n", step, text, ok ? "" : "   [FAIL]");
            return;
        }
        StringBuilder sb = new StringBuilder("{\"step\":").append(step).append(",\"name\":").append(quote(name)).append(",\"ok\":").append(ok)
                .append(",\"text\":").append(quote(text));
        for (var e : fields.entrySet()) {
            sb.append(',').append(quote(e.getKey())).append(':');
            Object v = e.getValue();
            sb.append(v instanceof Number || v instanceof Boolean ? v.toString() : quote(String.valueOf(v)));
        }
        out.println(sb.append('}'));
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    public static void main(String[] args) {
        boolean json = Arrays.asList(args).contains("--json");
        System.exit(run(System.out, json) ? 0 : 1);
    }
}
