package dev.memcrypt.script;

import java.util.List;

/** Statements that do not touch the machine: narration and literal values. */
final class CoreStatements {
    private CoreStatements() {}

    /** "HI:LO" or "BIT" -> {hi, lo}, 63 >= hi >= lo >= 0. */
    static int[] field(Value v) {
        String t = v.text();
        int colon = t.indexOf(':');
        long hi = Literals.number(colon < 0 ? t : t.substring(0, colon));
        long lo = colon < 0 ? hi : Literals.number(t.substring(colon + 1));
        if (hi > 63 || lo < 0 || hi < lo) throw new IllegalArgumentException("bit field " + t + " not within 63..0 with HI >= LO");
        return new int[] {(int) hi, (int) lo};
    }

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
        r.register(Statement.of("bits", "bits VALUE HI[:LO]",
                "returns bits HI..LO of a number (one bit if only HI), e.g. bits $cap 35:32", a -> {
                    Arg<Long> v = a.num("VALUE");
                    Arg<int[]> f = a.positional("HI[:LO]", CoreStatements::field);
                    return s -> {
                        int[] hl = f.get(s);
                        int width = hl[0] - hl[1] + 1;
                        long x = v.get(s) >>> hl[1];
                        return Value.hex(width == 64 ? x : x & ((1L << width) - 1));
                    };
                }));
        r.register(Statement.of("expect-violation", "expect-violation [CHECK]",
                "declares that the end-of-script check CHECK (default invariants) must find a violation: for scripts that"
                        + " deliberately break the flush rules", a -> {
                    String check = a.hasNext() ? a.keyword("CHECK", "invariants") : "invariants";
                    return s -> {
                        s.expectViolationAtEnd(check);
                        return Value.VOID;
                    };
                }));
        r.register(Statement.of("hex", "hex N", "returns the number N, printed in 0x-hex", a -> {
            Arg<Long> n = a.num("N");
            return s -> Value.hex(n.get(s));
        }));
    }
}
