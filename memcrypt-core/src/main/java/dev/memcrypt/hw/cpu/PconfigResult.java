package dev.memcrypt.hw.cpu;

/**
 * What PCONFIG leaves in the registers: RAX = status, ZF = 1 on failure; CF, PF, AF, OF, SF cleared.
 */
public record PconfigResult(long rax, long rflags) {
    public static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;

    static PconfigResult of(PconfigStatus s, long rflagsBefore) {
        long f = rflagsBefore & ~(CF | PF | AF | ZF | SF | OF);
        if (s != PconfigStatus.SUCCESS) f |= ZF;
        return new PconfigResult(s.code, f);
    }

    public boolean zf() {
        return (rflags & ZF) != 0;
    }

    public PconfigStatus status() {
        return PconfigStatus.of(rax);
    }

    public boolean ok() {
        return rax == 0;
    }

    @Override
    public String toString() {
        return status() + " (rax=" + rax + ", zf=" + (zf() ? 1 : 0) + ")";
    }
}
