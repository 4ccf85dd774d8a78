package dev.memcrypt.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code memcrypt demo}: the main job on the embedded default machine. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the narrated demo on the embedded default machine.")
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("memcrypt demo: TODO");
        return 0;
    }
}
