package dev.memcrypt.lab;

import java.util.List;

/**
 * One step of an experiment: what was done (by whom: victim, attacker, kernel) and what was seen.
 *
 * @param n            1-based step number
 * @param action       what was done
 * @param observations what was seen afterwards
 */
public record Step(int n, String action, List<Observation> observations) {
    public Step {
        observations = List.copyOf(observations);
    }
}
