package dev.memcrypt.lab;

import java.util.ArrayList;
import java.util.List;

/** Builds a {@link Result} while an experiment runs: steps, observations, findings, picture. */
final class Recorder {
    private final Experiment exp;
    private final LabRun run;
    private final List<Step> steps = new ArrayList<>();
    private final List<Finding> findings = new ArrayList<>();
    private final List<String> picture = new ArrayList<>();
    private String action;
    private List<Observation> obs;

    Recorder(Experiment exp, LabRun run) {
        this.exp = exp;
        this.run = run;
    }

    /** Starts a step (ends the previous one). */
    Recorder step(String action) {
        close();
        this.action = action;
        this.obs = new ArrayList<>();
        run.progress().accept(exp.name() + ": " + (steps.size() + 1) + ". " + action);
        return this;
    }

    Recorder see(String label, String value) {
        return see(label, value, null);
    }

    Recorder see(String label, String value, byte[] evidence) {
        if (obs == null) throw new IllegalStateException("observation before the first step");
        obs.add(new Observation(label, value, evidence));
        return this;
    }

    /** Records the verdict on {@code claim}: holds when {@code holds}, with the reason. */
    Recorder verdict(Claim claim, boolean holds, String because) {
        return verdict(claim, Verdict.of(holds), because);
    }

    Recorder verdict(Claim claim, Verdict v, String because) {
        if (!exp.claims().contains(claim)) throw new IllegalStateException(claim.id() + " is not a claim of " + exp.name());
        findings.add(new Finding(claim, v, because));
        return this;
    }

    Recorder picture(List<String> lines) {
        picture.addAll(lines);
        return this;
    }

    private void close() {
        if (action != null) steps.add(new Step(steps.size() + 1, action, obs));
        action = null;
        obs = null;
    }

    Result result() {
        close();
        List<Finding> ordered = new ArrayList<>();
        for (Claim c : exp.claims()) {
            for (Finding f : findings) if (f.claim().equals(c)) ordered.add(f);
        }
        if (ordered.size() != exp.claims().size()) throw new IllegalStateException(exp.name() + " reached no verdict on some claim");
        return new Result(exp.name(), exp.title(), steps, ordered, picture);
    }
}
