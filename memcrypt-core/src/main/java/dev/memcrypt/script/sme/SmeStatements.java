package dev.memcrypt.script.sme;

import dev.memcrypt.script.OutcomeException;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.kernel.boot.SmeBoot;
import dev.memcrypt.kernel.boot.SmeBootOptions;
import dev.memcrypt.kernel.boot.SmeBootResult;
import dev.memcrypt.kernel.boot.SmeBootStatus;
import dev.memcrypt.script.Arg;
import dev.memcrypt.script.Session;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementProvider;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.Value;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;

/**
 * SME statements (issue 6). {@code boot mem_encrypt=on [kernel-size=..] [initrd-size=..]
 * [sme_test=..]} is the kernel statement {@code boot} with SME words: it is routed here
 * ({@link #isSmeBoot}) and runs {@link SmeBoot}; {@code pte ADDR [cpu=N]} shows the page-table
 * entry mapping a linear address and its C-bit; {@code sme verify} checks the booted images.
 */
public final class SmeStatements implements StatementProvider {
    /** sme_encrypt_kernel refused, or the images read back wrong: an outcome a script can expect. */
    public static final class SmeFailure extends OutcomeException {
        SmeFailure(String name, String message) {
            super(name, message);
        }
    }

    @Override
    public void register(StatementRegistry r) {
        r.register(Statement.of("pte", "pte ADDR [cpu=N]",
                "the page-table entry mapping linear ADDR in cpu N's (default 0) current page tables, with its C-bit"
                        + " (after an SME boot: the kernel's tables)", a -> {
                    Arg<Long> va = a.num("ADDR");
                    Arg<Long> cpu = a.optNum("cpu", 0L);
                    a.end();
                    return s -> Value.str(pte(s.machine(), (int) (long) cpu.get(s), va.get(s)));
                }));
        r.register(Statement.of("sme verify", "sme verify",
                "after an SME boot: flushes the caches, reads kernel and initrd back through the encrypted mapping and compares"
                        + " CRC32C checksums; VERIFIED, or the outcome CORRUPTED with the details", a -> {
                    a.end();
                    return s -> {
                        SmeBootResult res = s.existingState(SmeBootResult.class).orElseThrow(() -> new IllegalArgumentException("no SME boot yet (boot mem_encrypt=on ...)"));
                        SmeBootResult.Verification v = res.verify();
                        if (!v.ok()) throw new SmeFailure("CORRUPTED", v.format());
                        return new Value.Status("VERIFIED", 0, true);
                    };
                }));
    }

    /** Whether a {@code boot} command line is an SME boot (it names mem_encrypt, kernel-size, initrd-size or sme_test). */
    public static boolean isSmeBoot(List<String> words) {
        for (String w : words) {
            String k = w.contains("=") ? w.substring(0, w.indexOf('=')).toLowerCase(java.util.Locale.ROOT).replace('_', '-') : "";
            if (k.equals("mem-encrypt") || k.equals("kernel-size") || k.equals("initrd-size") || k.equals("sme-test")) return true;
        }
        return false;
    }

    /**
     * Runs the SME boot on the session's machine and keeps the result for {@code pte} and
     * {@code sme verify}. The clock is fixed, so the run log does not depend on the host's speed.
     */
    public static Value boot(Session s, List<String> words) {
        if (s.existingState(SmeBootResult.class).isPresent()) throw new IllegalArgumentException("the kernel is already booted");
        SmeBootOptions o = SmeBootOptions.parse(String.join(" ", words));
        SmeBootResult r = SmeBoot.boot(s.machine(), o, InstantSource.fixed(Instant.EPOCH));
        if (r.status() == SmeBootStatus.REFUSED) throw new SmeFailure("REFUSED", r.message());
        s.setState(SmeBootResult.class, r);
        return Value.str(r.format() + "\n");
    }

    static String pte(Machine m, int cpu, long va) {
        long cr3 = m.mmu(cpu).cr3();
        long mask = Pte.addrMask(m.config().maxPhysAddr());
        long table = cr3 & mask;
        long c = m.cBitMask();
        StringBuilder path = new StringBuilder(String.format("cr3 0x%x%s", cr3, c != 0 && (cr3 & c) != 0 ? " (C)" : ""));
        for (int level = 4; level >= 1; level--) {
            long ea = table + 8L * Pte.index(va, level);
            long e = m.pload64(cpu, ea, 0);
            if ((e & Pte.P) == 0) return String.format("va 0x%x: not present at level %d (%s)", va, level, path);
            boolean leaf = level == 1 || (level <= 3 && (e & Pte.PS) != 0);
            if (!leaf) {
                path.append(String.format(" -> L%d 0x%x%s", level, e, c != 0 && (e & c) != 0 ? " (C)" : ""));
                table = e & mask;
                continue;
            }
            int shift = 12 + 9 * (level - 1);
            long pa = m.paOf(e & mask & ~((1L << shift) - 1)) + (va & ((1L << shift) - 1));
            String size = level == 3 ? "1G" : level == 2 ? "2M" : "4K";
            String cb = c == 0 ? "no C-bit (not an SME machine)" : "C-bit " + ((e & c) != 0 ? "1 (encrypted)" : "0 (plaintext)");
            return String.format("va 0x%x: %s entry 0x%016x -> pa 0x%x, %s, %s%s", va, size, e, pa, cb, (e & Pte.RW) != 0 ? "RW" : "RO",
                    (e & Pte.PWT) != 0 && (e & (level == 1 ? Pte.PS : Pte.PAT_LARGE)) != 0 ? ", PAT write-protect" : "");
        }
        throw new AssertionError();
    }
}
