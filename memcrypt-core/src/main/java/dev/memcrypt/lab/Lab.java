package dev.memcrypt.lab;

import java.util.ArrayList;
import java.util.List;

/**
 * The experiments, in the order the CLI runs them. Each tests claims from the seed 001 thread (one from seed 003)
 * (docs/ARCHITECTURE.md, "Lab", maps them).
 */
public final class Lab {
    private Lab() {}

    /** Every experiment, in running order. */
    public static List<Experiment> all() {
        return List.of(new ColdBoot(), new Replay(), new Relocation(), new AliasWithoutFlush(), new KernelDirectMap(), new PlaintextInCaches(), new CompromisedHypervisor());
    }

    /** Experiment names in running order. */
    public static List<String> names() {
        List<String> n = new ArrayList<>();
        for (Experiment e : all()) n.add(e.name());
        return n;
    }

    /** The experiment called {@code name}; IllegalArgumentException listing the names if there is none. */
    public static Experiment get(String name) {
        for (Experiment e : all()) if (e.name().equals(name)) return e;
        throw new IllegalArgumentException("no experiment '" + name + "' (experiments: " + String.join(", ", names()) + ")");
    }

    /** Runs {@code name} with the default lab machine and seed. */
    public static Result run(String name) {
        return get(name).run(LabRun.defaults());
    }
}
