package dev.memcrypt.script;

import java.util.List;

/** Statements that do not touch the machine: narration and literal values. */
final class CoreStatements {
    private CoreStatements() {}

    static void register(StatementRegistry r) {
        r.register(Statement.of("print", "print WORD|\"TEXT\"|$NAME ...",
                "returns its arguments joined by spaces as a string (narration in the log)", a -> {
                    Arg<List<String>> words = a.argv();
                    return s -> Value.str(String.join(" ", words.get(s)));
                }));
        r.register(Statement.of("bytes", "bytes DATA",
                "returns DATA as bytes (hex, 00*N, \"text\", $NAME, joined with +)", a -> {
                    Arg<byte[]> d = a.bytes("DATA");
                    return s -> Value.bytes(d.get(s));
                }));
        r.register(Statement.of("num", "num N", "returns the number N, printed in decimal", a -> {
            Arg<Long> n = a.num("N");
            return s -> Value.num(n.get(s));
        }));
        r.register(Statement.of("hex", "hex N", "returns the number N, printed in 0x-hex", a -> {
            Arg<Long> n = a.num("N");
            return s -> Value.hex(n.get(s));
        }));
    }
}
