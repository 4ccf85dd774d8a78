package dev.memcrypt.lab;

import dev.memcrypt.hw.Entropy;
import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.hw.memory.Dram;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * How to run experiments: the base machine, the entropy seed (each machine an experiment powers
 * on gets its own seed derived from it, so a "reboot" has a new TME key), where DRAM images may
 * be written (null: experiments keep images in memory), and a progress listener.
 *
 * @param config   base machine; experiments change options they depend on (bypass, salted tweak)
 * @param seed     entropy seed
 * @param workDir  directory for DRAM image files, or null
 * @param progress receives one line per step as it runs (may be a no-op)
 */
public record LabRun(MachineConfig config, long seed, Path workDir, Consumer<String> progress) {
    /** The lab's default machine: one package of two cores with 32 MiB DRAM (small, so whole-image scans are fast). */
    public static MachineConfig defaultConfig() {
        return MachineConfig.defaults().with("packages", "1").with("cores", "2").with("dram", "32M");
    }

    public static LabRun defaults() {
        return new LabRun(defaultConfig(), 1, null, s -> {});
    }

    public LabRun {
        if (config == null) throw new IllegalArgumentException("config is required");
        if (progress == null) progress = s -> {};
    }

    public LabRun withProgress(Consumer<String> p) {
        return new LabRun(config, seed, workDir, p);
    }

    public LabRun withWorkDir(Path dir) {
        return new LabRun(config, seed, dir, progress);
    }

    /** Powers on machine number {@code boot} (0, 1, ...) of an experiment with {@code cfg} and fresh DRAM. */
    public Machine powerOn(MachineConfig cfg, int boot) {
        return Machine.powerOn(cfg, entropy(boot));
    }

    /** Powers on machine number {@code boot} on existing DRAM (a reboot, or DIMMs moved to another machine). */
    public Machine powerOn(MachineConfig cfg, int boot, Dram dram) {
        return Machine.powerOn(cfg, entropy(boot), dram);
    }

    Entropy entropy(int boot) {
        return Entropy.seeded(seed * 1_000_003L + boot);
    }
}
