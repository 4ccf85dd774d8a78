package dev.memcrypt.kernel.cred;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * A task's credentials (include/linux/cred.h, reduced): the effective/fs uid and gid the key
 * service checks against, supplementary groups, and the effective capability set. Immutable;
 * a task switches credentials by installing a new Cred (commit_creds).
 */
public record Cred(int uid, int gid, Set<Integer> groups, Set<Capability> caps) {
    public Cred {
        if (uid < 0) throw new IllegalArgumentException("uid must be >= 0, got " + uid);
        if (gid < 0) throw new IllegalArgumentException("gid must be >= 0, got " + gid);
        groups = Collections.unmodifiableSet(new TreeSet<>(groups));
        EnumSet<Capability> c = EnumSet.noneOf(Capability.class);
        c.addAll(caps);
        caps = Collections.unmodifiableSet(c);
    }

    /** uid 0, gid 0 with every capability (a root shell). */
    public static Cred root() {
        return new Cred(0, 0, Set.of(), EnumSet.allOf(Capability.class));
    }

    /** An unprivileged user whose gid equals the uid and who has no capabilities. */
    public static Cred user(int uid) {
        return new Cred(uid, uid, Set.of(), EnumSet.noneOf(Capability.class));
    }

    public boolean capable(Capability cap) {
        return caps.contains(cap);
    }

    /** Whether the task is in group {@code g} (fsgid or a supplementary group; groups_search()). */
    public boolean inGroup(int g) {
        return gid == g || groups.contains(g);
    }

    public Cred withCaps(Set<Capability> newCaps) {
        return new Cred(uid, gid, groups, newCaps);
    }

    /**
     * Parses the scenario-language form: {@code root}, or {@code uid=N [gid=N] [groups=A,B]
     * [caps=CAP_X,CAP_Y]} (space separated; gid defaults to uid; no caps unless given;
     * {@code caps=all} or {@code caps=none} allowed). Throws IllegalArgumentException on bad input.
     */
    public static Cred parse(String spec) {
        String s = spec.strip();
        if (s.equals("root")) return root();
        Integer uid = null, gid = null;
        Set<Integer> groups = new TreeSet<>();
        EnumSet<Capability> caps = EnumSet.noneOf(Capability.class);
        for (String tok : s.split("\\s+")) {
            int eq = tok.indexOf('=');
            if (eq < 0) throw new IllegalArgumentException("credential option without '=': " + tok);
            String k = tok.substring(0, eq), v = tok.substring(eq + 1);
            switch (k) {
                case "uid" -> uid = parseId("uid", v);
                case "gid" -> gid = parseId("gid", v);
                case "groups" -> {
                    for (String g : v.split(",")) if (!g.isEmpty()) groups.add(parseId("group", g));
                }
                case "caps" -> {
                    if (v.equalsIgnoreCase("all")) caps = EnumSet.allOf(Capability.class);
                    else if (!v.equalsIgnoreCase("none") && !v.isEmpty())
                        for (String c : v.split(",")) caps.add(Capability.parse(c));
                }
                default -> throw new IllegalArgumentException("unknown credential option: " + k);
            }
        }
        if (uid == null) throw new IllegalArgumentException("credentials need uid=N (or 'root')");
        return new Cred(uid, gid == null ? uid : gid, groups, caps);
    }

    private static int parseId(String what, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad " + what + ": " + v);
        }
    }

    @Override
    public String toString() {
        return "uid=" + uid + " gid=" + gid + (groups.isEmpty() ? "" : " groups=" + groups) + " caps=" + caps;
    }
}
