package dev.memcrypt.lab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an experiment did and found: its steps with observations, a verdict per claim (the first
 * is the experiment's main claim), and an optional picture (ASCII map or side-by-side hexdump).
 * Printable as narrated text ({@link #toText()}) and as JSON records ({@link #jsonRecords()}).
 * Contains no timings, so both forms are deterministic for a given seed.
 */
public record Result(String experiment, String title, List<Step> steps, List<Finding> findings, List<String> picture) {
    public Result {
        steps = List.copyOf(steps);
        findings = List.copyOf(findings);
        picture = List.copyOf(picture);
        if (findings.isEmpty()) throw new IllegalArgumentException("an experiment must reach at least one verdict");
    }

    /** The verdict on the main claim. */
    public Verdict verdict() {
        return findings.get(0).verdict();
    }

    /** The finding for claim {@code id}, or null. */
    public Finding finding(String id) {
        for (Finding f : findings) if (f.claim().id().equals(id)) return f;
        return null;
    }

    /** Whether every verdict is what the thread concluded. */
    public boolean agreesWithThread() {
        return findings.stream().allMatch(Finding::agreesWithThread);
    }

    /** The narrated form: claim, numbered steps with observations, picture, verdicts. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append("== ").append(experiment).append(": ").append(title).append('\n');
        Claim main = findings.get(0).claim();
        sb.append("Claim: \"").append(main.quote()).append("\"\n       -- ").append(main.citation()).append('\n');
        for (Step s : steps) {
            sb.append(String.format("%2d. %s%n", s.n(), s.action()));
            for (Observation o : s.observations()) {
                sb.append("      ").append(o.label()).append(": ").append(o.value()).append('\n');
                if (o.evidence() != null) sb.append("        ").append(abbrev(o.hex())).append('\n');
            }
        }
        if (!picture.isEmpty()) {
            sb.append("Picture:\n");
            for (String l : picture) sb.append("   ").append(l).append('\n');
        }
        sb.append("Verdicts:\n");
        for (Finding f : findings) {
            sb.append("  [").append(f.verdict().text().toUpperCase()).append("] ").append(f.claim().id())
                    .append(" (").append(f.claim().citation()).append(")").append(f.agreesWithThread() ? "" : " -- DISAGREES WITH THE THREAD").append('\n');
            if (f != findings.get(0)) sb.append("      \"").append(f.claim().quote()).append("\"\n");
            sb.append("      ").append(f.because()).append('\n');
        }
        return sb.toString();
    }

    private static String abbrev(String hex) {
        return hex.length() <= 128 ? hex : hex.substring(0, 128) + "... (" + hex.length() / 2 + " bytes)";
    }

    /**
     * JSON records, one object per line: a {@code "record":"experiment"} header (name, title,
     * claims), one {@code "record":"step"} per step (n, action, observations with label, value
     * and hex), a {@code "record":"picture"} if there is one, and a closing
     * {@code "record":"result"} (verdict, agrees, findings with claim, verdict, thread, because).
     */
    public List<String> jsonRecords() {
        List<String> out = new ArrayList<>();
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("record", "experiment");
        h.put("experiment", experiment);
        h.put("title", title);
        List<Object> cs = new ArrayList<>();
        for (Finding f : findings) cs.add(claimJson(f.claim()));
        h.put("claims", cs);
        out.add(Json.write(h));
        for (Step s : steps) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("record", "step");
            m.put("experiment", experiment);
            m.put("n", s.n());
            m.put("action", s.action());
            List<Object> os = new ArrayList<>();
            for (Observation o : s.observations()) {
                Map<String, Object> om = new LinkedHashMap<>();
                om.put("label", o.label());
                om.put("value", o.value());
                if (o.evidence() != null) om.put("hex", o.hex());
                os.add(om);
            }
            m.put("observations", os);
            out.add(Json.write(m));
        }
        if (!picture.isEmpty()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("record", "picture");
            m.put("experiment", experiment);
            m.put("lines", picture);
            out.add(Json.write(m));
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("record", "result");
        r.put("experiment", experiment);
        r.put("verdict", verdict().name());
        r.put("agrees", agreesWithThread());
        List<Object> fs = new ArrayList<>();
        for (Finding f : findings) {
            Map<String, Object> fm = new LinkedHashMap<>();
            fm.put("claim", f.claim().id());
            fm.put("verdict", f.verdict().name());
            fm.put("thread", f.claim().threadSays().name());
            fm.put("because", f.because());
            fs.add(fm);
        }
        r.put("findings", fs);
        out.add(Json.write(r));
        return out;
    }

    private static Map<String, Object> claimJson(Claim c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("author", c.author());
        m.put("date", c.date());
        m.put("source", c.source());
        m.put("quote", c.quote());
        m.put("thread", c.threadSays().name());
        return m;
    }
}
