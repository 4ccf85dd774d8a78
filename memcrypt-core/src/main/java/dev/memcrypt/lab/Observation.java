package dev.memcrypt.lab;

import dev.memcrypt.util.Hex;

/**
 * One thing seen during a step: a label, a short value in words, and optionally the raw bytes
 * (a DRAM line, a cache line) as evidence.
 *
 * @param label    what was looked at, e.g. "DRAM 0x400000 (raw)"
 * @param value    what it showed, in words, e.g. "ciphertext (no match)"
 * @param evidence the bytes, or null
 */
public record Observation(String label, String value, byte[] evidence) {
    public Observation {
        evidence = evidence == null ? null : evidence.clone();
    }

    @Override
    public byte[] evidence() {
        return evidence == null ? null : evidence.clone();
    }

    /** The evidence as lowercase hex, or null. */
    public String hex() {
        return evidence == null ? null : Hex.of(evidence);
    }
}
