package dev.memcrypt.lab;

/** What an experiment found about a claim. */
public enum Verdict {
    /** The model behaves as the claim says. */
    HOLDS("claim holds"),
    /** The model contradicts the claim. */
    FAILS("claim fails"),
    /** A control of the experiment failed (e.g. the search did not even find plaintext), so it says nothing. */
    INCONCLUSIVE("inconclusive");

    private final String text;

    Verdict(String text) {
        this.text = text;
    }

    /** "claim holds", "claim fails", "inconclusive". */
    public String text() {
        return text;
    }

    public static Verdict of(boolean holds) {
        return holds ? HOLDS : FAILS;
    }
}
