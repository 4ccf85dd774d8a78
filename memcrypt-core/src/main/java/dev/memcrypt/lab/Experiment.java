package dev.memcrypt.lab;

import java.util.List;

/**
 * A threat-model claim of the seed threads as a runnable, self-checking experiment: it drives the
 * model (hardware, kernel) the way an attacker or victim would, observes DRAM and caches, and
 * returns a {@link Result} with a verdict per claim.
 */
public interface Experiment {
    /** Short name for the CLI and scripts, e.g. "cold-boot". */
    String name();

    /** One line: what it shows. */
    String title();

    /** The claims it tests, the main one first (the result's findings follow this order). */
    List<Claim> claims();

    /** Runs on fresh machines built from {@code run}'s configuration and seed. */
    Result run(LabRun run);
}
