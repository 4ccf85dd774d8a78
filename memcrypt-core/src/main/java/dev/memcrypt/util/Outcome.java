package dev.memcrypt.util;

/**
 * Anything a scenario script may name in {@code => EXPECTED}: architectural faults ("#GP"),
 * errno values ("EINVAL") and status codes ("INVALID_KEYID").
 */
public interface Outcome {
    String outcomeName();
}
