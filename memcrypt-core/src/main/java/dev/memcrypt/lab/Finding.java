package dev.memcrypt.lab;

/**
 * The verdict on one claim.
 *
 * @param claim   the claim tested
 * @param verdict what the model showed
 * @param because the evidence in one or two sentences
 */
public record Finding(Claim claim, Verdict verdict, String because) {
    /** Whether the model agrees with what the thread concluded about the claim. */
    public boolean agreesWithThread() {
        return verdict == claim.threadSays();
    }
}
