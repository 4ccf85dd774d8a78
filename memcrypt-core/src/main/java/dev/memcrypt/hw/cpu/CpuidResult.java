package dev.memcrypt.hw.cpu;

/** The four registers CPUID returns. */
public record CpuidResult(int eax, int ebx, int ecx, int edx) {
    public static final CpuidResult ZERO = new CpuidResult(0, 0, 0, 0);

    /** One register by name ("eax", "ebx", "ecx", "edx"). */
    public int reg(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "eax" -> eax;
            case "ebx" -> ebx;
            case "ecx" -> ecx;
            case "edx" -> edx;
            default -> throw new IllegalArgumentException("no CPUID register '" + name + "'");
        };
    }

    @Override
    public String toString() {
        return String.format("eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x", eax, ebx, ecx, edx);
    }
}
