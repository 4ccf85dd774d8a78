package dev.memcrypt.cli;

import dev.memcrypt.crypto.XtsEngine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code memcrypt demo}: the main job on the embedded default machine. For now: the engine demo. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the narrated demo on the embedded default machine.")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return EngineDemo.show(spec.commandLine().getOut(), XtsEngine.best()) ? 0 : 1;
    }
}
