package dev.memcrypt.script.lab;

import dev.memcrypt.lab.Claim;
import dev.memcrypt.lab.Experiment;
import dev.memcrypt.lab.Finding;
import dev.memcrypt.lab.Lab;
import dev.memcrypt.lab.LabRun;
import dev.memcrypt.lab.Result;
import dev.memcrypt.script.Arg;
import dev.memcrypt.script.Session;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementProvider;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.Value;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code lab NAME [CLAIM] [seed=N]}: runs a threat-model experiment (dev.memcrypt.lab) on its own
 * machines (not the script's) and returns a verdict as a status: {@code HOLDS}, {@code FAILS} or
 * {@code INCONCLUSIVE}, for the experiment's main claim or for the named claim. The status counts
 * as a success when the verdict is what the seed thread concluded, so an unasserted {@code lab}
 * line fails the script exactly when the model disagrees with the thread. Results are kept per
 * session (experiment and seed), so several claims of one experiment cost one run.
 */
public final class LabStatements implements StatementProvider {
    private static final class Results {
        final Map<String, Result> byKey = new HashMap<>();
    }

    @Override
    public void register(StatementRegistry r) {
        r.register(Statement.of("lab", "lab NAME [CLAIM] [seed=N]",
                "runs a threat-model experiment; its verdict on the main claim (or CLAIM) as a status HOLDS, FAILS or INCONCLUSIVE,"
                        + " a success when it is what the seed thread concluded", a -> {
                    String name = a.keyword("NAME", Lab.names().toArray(String[]::new));
                    Experiment e = Lab.get(name);
                    String claim = null;
                    if (a.hasNext()) {
                        claim = a.keyword("CLAIM", e.claims().stream().map(Claim::id).toArray(String[]::new));
                    }
                    Arg<Long> seed = a.optNum("seed", 0, Long.MAX_VALUE, 1L);
                    String c = claim;
                    return s -> verdict(s, e, c, seed.get(s));
                }));
    }

    private static Value verdict(Session s, Experiment e, String claim, long seed) {
        Results cache = s.state(Results.class, Results::new);
        Result res = cache.byKey.computeIfAbsent(e.name() + "@" + seed, k -> e.run(new LabRun(LabRun.defaultConfig(), seed, null, x -> {})));
        Finding f = claim == null ? res.findings().get(0) : res.finding(claim);
        return new Value.Status(f.verdict().name(), f.verdict().ordinal(), f.agreesWithThread());
    }

    /** The claim ids of every experiment, for docs and tests. */
    public static List<String> claimIds() {
        return Lab.all().stream().flatMap(x -> x.claims().stream()).map(Claim::id).toList();
    }
}
