package dev.memcrypt.lab;

/**
 * A claim made in a seed thread, quoted with its author, so an experiment can test it.
 *
 * @param id         short stable name, used by {@code lab NAME CLAIM} in scripts (e.g. "luto-cold-boot")
 * @param author     who said it
 * @param date       the message date as the archive shows it
 * @param source     where: seed file and message number, e.g. "seed 001 #10"
 * @param quote      the words, verbatim from the seed (elisions marked "...")
 * @param threadSays what the thread concluded about the claim; an experiment agrees with the
 *                   thread when its verdict equals this
 */
public record Claim(String id, String author, String date, String source, String quote, Verdict threadSays) {
    public Claim {
        if (id == null || !id.matches("[a-z0-9-]+")) throw new IllegalArgumentException("bad claim id " + id);
    }

    /** One line: {@code Andy Lutomirski, Dec. 6, 2018 (seed 001 #10)}. */
    public String citation() {
        return author + ", " + date + " (" + source + ")";
    }
}
