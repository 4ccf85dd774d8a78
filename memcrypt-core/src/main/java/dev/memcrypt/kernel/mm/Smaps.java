package dev.memcrypt.kernel.mm;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.mmu.Pte;
import java.util.Map;

/** The /proc views: smaps (with the MKTME RFC's {@code KeyID:} line) and the translation view. */
final class Smaps {
    private Smaps() {}

    static String render(AddressSpace mm) {
        StringBuilder sb = new StringBuilder();
        for (Vma v : mm.vmas.values()) {
            long rss = 0, anon = 0, swap = 0;
            for (AddressSpace.Slot s : mm.slots.subMap(v.start >>> 12, v.end >>> 12).values()) {
                if (s.page != null && s.mapped) rss++;
                if (s.page != null && s.anon) anon++;
                if (s.swap >= 0) swap++;
            }
            String name = v.file == null ? "" : v.file.mapsName();
            String head = String.format("%08x-%08x %s %08x 00:00 0", v.start, v.end, Mman.protString(v.prot, v.shared), v.file == null ? 0 : v.pgoff << 12);
            sb.append(name.isEmpty() ? head : String.format("%-73s%s", head + " ", name)).append('\n');
            line(sb, "Size", (v.end - v.start) >>> 10);
            line(sb, "KernelPageSize", 4);
            line(sb, "MMUPageSize", 4);
            line(sb, "Rss", rss * 4);
            line(sb, "Anonymous", anon * 4);
            line(sb, "Swap", swap * 4);
            sb.append(String.format("%-16s%d%n", "KeyID:", v.keyId));
            sb.append(String.format("%-16s%d%n", "ProtectionKey:", v.pkey));
            sb.append("VmFlags:").append(flags(v)).append('\n');
        }
        return sb.toString().replace("\r\n", "\n");
    }

    private static void line(StringBuilder sb, String k, long kb) {
        sb.append(String.format("%-16s%8d kB%n", k + ":", kb));
    }

    private static String flags(Vma v) {
        StringBuilder f = new StringBuilder();
        if ((v.prot & Mman.PROT_READ) != 0) f.append(" rd");
        if ((v.prot & Mman.PROT_WRITE) != 0) f.append(" wr");
        if ((v.prot & Mman.PROT_EXEC) != 0) f.append(" ex");
        if (v.shared) f.append(" sh");
        f.append(" mr mw me");
        if (v.shared) f.append(" ms");
        if (v.file == null) f.append(" ac");
        return f.toString();
    }

    static String translations(AddressSpace mm, Machine m) {
        StringBuilder sb = new StringBuilder();
        int maxPhys = m.config().maxPhysAddr();
        for (Map.Entry<Long, AddressSpace.Slot> e : mm.slots.entrySet()) {
            long va = e.getKey() << 12;
            AddressSpace.Slot s = e.getValue();
            if (s.swap >= 0) {
                sb.append(String.format("%012x -> swap slot %d%n", va, s.swap));
                continue;
            }
            long pte = s.mapped ? mm.pte(va) : 0;
            if ((pte & Pte.P) != 0) {
                long full = pte & Pte.addrMask(maxPhys);
                sb.append(String.format("%012x -> %010x keyid=%d %s%s%n", va, m.paOf(full), m.keyIdOf(full), (pte & Pte.RW) != 0 ? "rw" : "ro",
                        s.anon && s.page.mapCount > 1 ? " cow" : ""));
            } else {
                sb.append(String.format("%012x -> %010x keyid=%d not-present%n", va, s.page.pa, s.page.keyId));
            }
        }
        return sb.toString().replace("\r\n", "\n");
    }
}
