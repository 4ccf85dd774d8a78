package dev.memcrypt.hw.sme;

import dev.memcrypt.hw.MachineConfig;

/**
 * A ready-made AMD SME machine configuration: no TME/MKTME (no KeyID bits, no PCONFIG), MAXPHYADDR
 * 48, C-bit 47, 5 physical-address bits lost (an EPYC-like part), firmware enables SME and locks
 * it. In option form: {@code sme=on tme=off pconfig=off keyid_bits=0 max_keyid_bits=0 max_keys=0
 * maxphyaddr=48 cbit=47 sme_phys_bits_lost=5}.
 */
public final class SmePlatform {
    private SmePlatform() {}

    /** The SME options applied to {@code base} (the order matters only for validation). */
    public static MachineConfig apply(MachineConfig base) {
        return base.with("keyid_bits", "0").with("max_keyid_bits", "0").with("max_keys", "0").with("tme", "off").with("pconfig", "off")
                .with("maxphyaddr", "48").with("cbit", "47").with("sme_phys_bits_lost", "5").with("sme", "on");
    }

    /** The default machine turned into an SME machine with {@code dramBytes} of (sparse) DRAM. */
    public static MachineConfig config(long dramBytes) {
        return apply(MachineConfig.defaults()).with("dram", Long.toString(dramBytes));
    }

    public static MachineConfig config() {
        return config(1L << 30);
    }
}
