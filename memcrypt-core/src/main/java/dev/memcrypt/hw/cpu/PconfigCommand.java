package dev.memcrypt.hw.cpu;

import java.util.Locale;

/** MKTME_KEY_PROGRAM commands, keyid_ctrl[7:0] (SPEC-FACTS §1; Intel MKTME spec, PCONFIG leaf 0). */
public enum PconfigCommand {
    /** 0: install the key fields as data key and tweak key. */
    SET_KEY_DIRECT(0),
    /** 1: CPU-generated random keys, each XORed with the low 16 bytes of its key field. */
    SET_KEY_RANDOM(1),
    /** 2: the KeyID falls back to the TME key (or bypass). */
    CLEAR_KEY(2),
    /** 3: the KeyID stores plaintext. */
    NO_ENCRYPT(3);

    public final int code;

    PconfigCommand(int code) {
        this.code = code;
    }

    /** By name, with or without the architectural {@code KEYID_} prefix, case-insensitive. */
    public static PconfigCommand parse(String s) {
        String n = s.strip().toUpperCase(Locale.ROOT);
        if (n.startsWith("KEYID_")) n = n.substring(6);
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown PCONFIG command '" + s + "' (SET_KEY_DIRECT, SET_KEY_RANDOM, CLEAR_KEY, NO_ENCRYPT)");
        }
    }
}
