package dev.memcrypt.script;

import dev.memcrypt.hw.MachineConfig;
import java.util.List;

/**
 * A parsed scenario: the machine configuration and the statements, each already checked and
 * compiled. Produced by {@link Parser#parse}; nothing has run yet.
 */
public record Script(String source, MachineConfig config, MachineLine machine, List<Line> lines) {
    /** The {@code machine} statement, if the script has one. */
    public record MachineLine(int number, String text) {}

    public Script {
        lines = List.copyOf(lines);
    }

    /** One statement line. {@code bind} and {@code expected} may be null. */
    public record Line(int number, String text, String bind, Statement statement, Statement.Action action, Expected expected) {}
}
