package dev.memcrypt.tools.keyctl;

import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.task.Task;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * keyutils' {@code keyctl(1)} over the model's key service: same command syntax, output formats,
 * messages and exit codes (0 success; 1 a system call failed, printed as
 * {@code "<call>: <strerror>"}; 2 usage or parse errors; 3 unparseable description).
 * Commands may be abbreviated to a unique prefix, as keyutils allows.
 *
 * <p>Model differences: {@code session} replaces the caller's session keyring and does not exec a
 * shell or program (the calling task keeps running with it); {@code request} has no
 * /sbin/request-key upcall, so a key that is not found gives ENOKEY.
 */
public final class Keyctl {
    private record Command(String name, String format, Action action) {}

    @FunctionalInterface
    private interface Action {
        int run(Ctx c, List<String> a) throws ErrnoException, Exit;
    }

    /** Ends the command with an exit code (keyutils' exit(n) after a message). */
    private static final class Exit extends Exception {
        final int code;

        Exit(int code) {
            super(null, null, false, false);
            this.code = code;
        }
    }

    private record Ctx(Task t, InputStream in, PrintStream out, PrintStream err) {}

    private static final int MAX_STDIN = 1024 * 1024;

    private final KeyService svc;
    private final List<Command> commands = new ArrayList<>();

    public Keyctl(KeyService svc) {
        this.svc = svc;
        cmd("add", "<type> <desc> <data> <keyring>", this::add);
        cmd("chgrp", "<key> <gid>", this::chgrp);
        cmd("chown", "<key> <uid>", this::chown);
        cmd("clear", "<keyring>", this::clear);
        cmd("describe", "<keyring>", this::describe);
        cmd("invalidate", "<key>", this::invalidate);
        cmd("link", "<key> <keyring>", this::link);
        cmd("list", "<keyring>", this::list);
        cmd("new_session", "", this::newSession);
        cmd("newring", "<name> <keyring>", this::newring);
        cmd("padd", "<type> <desc> <keyring>", this::padd);
        cmd("pipe", "<key>", this::pipe);
        cmd("print", "<key>", this::print);
        cmd("pupdate", "<key>", this::pupdate);
        cmd("rdescribe", "<keyring> [sep]", this::rdescribe);
        cmd("read", "<key>", this::read);
        cmd("request", "<type> <desc> [<dest_keyring>]", this::request);
        cmd("revoke", "<key>", this::revoke);
        cmd("rlist", "<keyring>", this::rlist);
        cmd("search", "<keyring> <type> <desc> [<dest_keyring>]", this::search);
        cmd("session", "", this::session);
        cmd("session", "- [<prog> <arg1> <arg2> ...]", null);
        cmd("session", "<name> [<prog> <arg1> <arg2> ...]", null);
        cmd("setperm", "<key> <mask>", this::setperm);
        cmd("show", "[-x] [<keyring>]", this::show);
        cmd("timeout", "<key> <timeout>", this::timeout);
        cmd("unlink", "<key> [<keyring>]", this::unlink);
        cmd("update", "<key> <data>", this::update);
    }

    private void cmd(String name, String format, Action a) {
        commands.add(new Command(name, format, a));
    }

    /**
     * Runs one keyctl invocation as {@code caller}. {@code argv} is the arguments after the program
     * name (a leading "keyctl" is ignored). Returns the exit status.
     */
    public int run(Task caller, List<String> argv, InputStream stdin, PrintStream out, PrintStream err) {
        List<String> a = new ArrayList<>(argv);
        if (!a.isEmpty() && a.get(0).equals("keyctl")) a.remove(0);
        Ctx c = new Ctx(caller, stdin, out, err);
        try {
            if (a.isEmpty()) throw format(c);
            String word = a.get(0);
            if (word.equals("--version")) {
                out.println("keyctl from memcrypt (keyutils-compatible model)");
                return 0;
            }
            Command best = null;
            for (Command cm : commands) {
                if (cm.action() == null || !cm.name().startsWith(word)) continue;
                if (cm.name().equals(word)) {
                    best = cm;
                    break;
                }
                if (best != null) {
                    err.println("Ambiguous command");
                    return 2;
                }
                best = cm;
            }
            if (best == null) {
                err.println("Unknown command");
                return 2;
            }
            return best.action().run(c, a);
        } catch (Exit e) {
            return e.code;
        } catch (ErrnoException e) {
            // Only reached if an action forgot to name its call; keep keyutils' shape anyway.
            err.println("keyctl: " + e.errno().message());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /**
     * Runs a command line as a POSIX shell would split it (single quotes literal; double quotes
     * with backslash escapes for {@code \" \\ \$ \`}; backslash escapes outside quotes), with empty
     * stdin: {@code keyctl add mktme k "type=cpu algorithm=aes-xts-128" @u}.
     */
    public int run(Task caller, String commandLine, PrintStream out, PrintStream err) {
        return run(caller, split(commandLine), InputStream.nullInputStream(), out, err);
    }

    /** Shell-like word splitting (see {@link #run(Task, String, PrintStream, PrintStream)}); IllegalArgumentException on an unterminated quote. */
    public static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '\'' ) {
                int end = line.indexOf('\'', i + 1);
                if (end < 0) throw new IllegalArgumentException("unterminated ' quote");
                w.append(line, i + 1, end);
                i = end;
                inWord = true;
            } else if (ch == '"') {
                int j = i + 1;
                for (; j < line.length() && line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\' && j + 1 < line.length() && "\"\\$`".indexOf(line.charAt(j + 1)) >= 0) {
                        w.append(line.charAt(++j));
                    } else {
                        w.append(c);
                    }
                }
                if (j >= line.length()) throw new IllegalArgumentException("unterminated \" quote");
                i = j;
                inWord = true;
            } else if (ch == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (ch == ' ' || ch == '\t' || ch == '\n') {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(ch);
                inWord = true;
            }
        }
        if (inWord) words.add(w.toString());
        return words;
    }

    // ------------------------------------------------------------------ helpers

    private Exit format(Ctx c) {
        PrintStream e = c.err();
        e.println("Format:");
        for (Command cm : commands) e.println("  keyctl " + cm.name() + " " + cm.format());
        e.println();
        e.println("Key/keyring ID:");
        e.println("  <nnn>   numeric keyring ID");
        e.println("  @t      thread keyring");
        e.println("  @p      process keyring");
        e.println("  @s      session keyring");
        e.println("  @u      user keyring");
        e.println("  @us     user default session keyring");
        e.println("  @g      group keyring");
        e.println("  @a      assumed request_key authorisation key");
        e.println();
        e.println("<type> can be \"user\" for a user-defined keyring");
        e.println("If you do this, prefix the description with \"<subtype>:\"");
        return new Exit(2);
    }

    private void argc(Ctx c, List<String> a, int... allowed) throws Exit {
        for (int n : allowed) if (a.size() == n) return;
        throw format(c);
    }

    /** perror(call) and exit(1). */
    private static Exit fail(Ctx c, String call, ErrnoException e) {
        c.err().println(call + ": " + e.errno().message());
        return new Exit(1);
    }

    private interface Call<T> {
        T call() throws ErrnoException;
    }

    private interface VoidCall {
        void call() throws ErrnoException;
    }

    private static <T> T sys(Ctx c, String name, Call<T> call) throws Exit {
        try {
            return call.call();
        } catch (ErrnoException e) {
            throw fail(c, name, e);
        }
    }

    private static void sysv(Ctx c, String name, VoidCall call) throws Exit {
        try {
            call.call();
        } catch (ErrnoException e) {
            throw fail(c, name, e);
        }
    }

    /** strtoul(s, &end, base) over the whole string; null if not fully parsed. Wraps like C. */
    static Long strtoul(String s, int base) {
        String t = s.strip();
        if (t.isEmpty()) return base == 0 || base == 10 ? null : null;
        boolean neg = false;
        if (t.startsWith("-") || t.startsWith("+")) {
            neg = t.charAt(0) == '-';
            t = t.substring(1);
        }
        int b = base;
        if (b == 0) {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                b = 16;
                t = t.substring(2);
            } else if (t.startsWith("0") && t.length() > 1) {
                b = 8;
                t = t.substring(1);
            } else b = 10;
        }
        if (t.isEmpty()) return null;
        long v = 0;
        for (int i = 0; i < t.length(); i++) {
            int d = Character.digit(t.charAt(i), b);
            if (d < 0) return null;
            v = v * b + d;
            if (v > 0xffffffffL * 16) v &= 0xffffffffffL;
        }
        v &= 0xffffffffL;
        return neg ? (-v) & 0xffffffffL : v;
    }

    private int keyId(Ctx c, String arg) throws Exit {
        if (arg.startsWith("@")) {
            switch (arg) {
                case "@t": return KeyService.KEY_SPEC_THREAD_KEYRING;
                case "@p": return KeyService.KEY_SPEC_PROCESS_KEYRING;
                case "@s": return KeyService.KEY_SPEC_SESSION_KEYRING;
                case "@u": return KeyService.KEY_SPEC_USER_KEYRING;
                case "@us": return KeyService.KEY_SPEC_USER_SESSION_KEYRING;
                case "@g": return KeyService.KEY_SPEC_GROUP_KEYRING;
                case "@a": return KeyService.KEY_SPEC_REQKEY_AUTH_KEY;
                default:
                    c.err().println("Unknown special key: '" + arg + "'");
                    throw new Exit(2);
            }
        }
        if (arg.startsWith("%")) {
            String rest = arg.substring(1);
            if (rest.isEmpty()) throw badByName(c);
            String type, desc;
            if (rest.startsWith(":")) {
                type = "keyring";
                desc = rest.substring(1);
            } else {
                int colon = rest.indexOf(':');
                if (colon < 0) throw badByName(c);
                type = rest.substring(0, colon);
                desc = rest.substring(colon + 1);
            }
            if (desc.isEmpty()) throw badByName(c);
            int id = findByTypeAndDesc(c.t(), type, desc);
            if (id == -1) {
                c.err().println("Can't find '" + type + ":" + desc + "'");
                throw new Exit(1);
            }
            return id;
        }
        Long v = strtoul(arg, 0);
        if (v == null) {
            c.err().println("Unparsable key: '" + arg + "'");
            throw new Exit(2);
        }
        return (int) (long) v;
    }

    private static Exit badByName(Ctx c) {
        c.err().println("Incorrect key-by-name spec");
        return new Exit(2);
    }

    /**
     * keyutils' find_key_by_type_and_desc: request_key(2) first (the caller's own thread, process
     * and session keyrings, so a possessed key wins), then the first viewable key in /proc/keys
     * with that type and description.
     */
    private int findByTypeAndDesc(Task t, String type, String desc) {
        try {
            return svc.requestKey(t, type, desc, 0);
        } catch (ErrnoException e) {
            // ENOKEY and the rest: fall back to /proc/keys, as keyutils does
        }
        for (String line : svc.procKeys(t).split("\n")) {
            String[] f = line.trim().split("\\s+", 9);
            if (f.length < 9 || !f[7].equals(type)) continue;
            int id = (int) Long.parseLong(f[0], 16);
            try {
                String d = svc.describe(t, id);
                String[] p = d.split(";", 5);
                if (p.length == 5 && p[0].equals(type) && p[4].equals(desc)) return id;
            } catch (ErrnoException e) {
                // not viewable: skip
            }
        }
        return -1;
    }

    private byte[] grabStdin(Ctx c) throws Exit {
        try {
            byte[] b = c.in().readNBytes(MAX_STDIN + 1);
            if (b.length > MAX_STDIN) {
                c.err().println("Too much data read on stdin");
                throw new Exit(1);
            }
            return b;
        } catch (IOException e) {
            c.err().println("stdin: Input/output error");
            throw new Exit(1);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private record Desc(String type, int uid, int gid, int perm, String desc) {}

    private static Desc parseDesc(Ctx c, int key, String raw) throws Exit {
        String[] p = raw.split(";", 5);
        try {
            return new Desc(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), (int) Long.parseLong(p[3], 16), p.length > 4 ? p[4] : "");
        } catch (RuntimeException e) {
            c.err().println("Unparseable description obtained for key " + key);
            throw new Exit(3);
        }
    }

    /** keyutils calc_perms: the permissions the caller is granted, "--alswrv" style (possessor bits included). */
    private static String calcPerms(Cred cred, int perm, int uid, int gid) {
        int perms = (perm >>> 24) & 0x3f;
        if (uid == cred.uid()) perms |= (perm >>> 16) & 0x3f;
        else if (gid != -1 && cred.inGroup(gid)) perms |= (perm >>> 8) & 0x3f;
        else perms |= perm & 0x3f;
        return "--" + dev.memcrypt.kernel.keys.KeyPerm.render(perms);
    }

    // ------------------------------------------------------------------ commands

    private int add(Ctx c, List<String> a) throws Exit {
        argc(c, a, 5);
        int dest = keyId(c, a.get(4));
        byte[] data = bytes(a.get(3));
        try {
            int id = sys(c, "add_key", () -> svc.addKey(c.t(), a.get(1), a.get(2), data, dest));
            c.out().println(id);
            return 0;
        } finally {
            java.util.Arrays.fill(data, (byte) 0); // add_key copied it in
        }
    }

    private int padd(Ctx c, List<String> a) throws Exit {
        argc(c, a, 4);
        int dest = keyId(c, a.get(3));
        byte[] data = grabStdin(c);
        try {
            int id = sys(c, "add_key", () -> svc.addKey(c.t(), a.get(1), a.get(2), data, dest));
            c.out().println(id);
            return 0;
        } finally {
            java.util.Arrays.fill(data, (byte) 0);
        }
    }

    private int request(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3, 4);
        int dest = a.size() == 4 ? keyId(c, a.get(3)) : 0;
        int id = sys(c, "request_key", () -> svc.requestKey(c.t(), a.get(1), a.get(2), dest));
        c.out().println(id);
        return 0;
    }

    private int update(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int key = keyId(c, a.get(1));
        byte[] data = bytes(a.get(2));
        try {
            sysv(c, "keyctl_update", () -> svc.update(c.t(), key, data));
            return 0;
        } finally {
            java.util.Arrays.fill(data, (byte) 0);
        }
    }

    private int pupdate(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        byte[] data = grabStdin(c);
        try {
            sysv(c, "keyctl_update", () -> svc.update(c.t(), key, data));
            return 0;
        } finally {
            java.util.Arrays.fill(data, (byte) 0);
        }
    }

    private int newring(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int dest = keyId(c, a.get(2));
        int id = sys(c, "add_key", () -> svc.addKey(c.t(), "keyring", a.get(1), null, dest));
        c.out().println(id);
        return 0;
    }

    private int revoke(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        sysv(c, "keyctl_revoke", () -> svc.revoke(c.t(), key));
        return 0;
    }

    private int invalidate(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        sysv(c, "keyctl_invalidate", () -> svc.invalidate(c.t(), key));
        return 0;
    }

    private int clear(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int ring = keyId(c, a.get(1));
        sysv(c, "keyctl_clear", () -> svc.clear(c.t(), ring));
        return 0;
    }

    private int link(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int key = keyId(c, a.get(1));
        int ring = keyId(c, a.get(2));
        sysv(c, "keyctl_link", () -> svc.link(c.t(), key, ring));
        return 0;
    }

    private int unlink(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2, 3);
        int key = keyId(c, a.get(1));
        if (a.size() == 3) {
            int ring = keyId(c, a.get(2));
            sysv(c, "keyctl_unlink", () -> svc.unlink(c.t(), key, ring));
            return 0;
        }
        int[] removed = {0};
        scanSession(c, (parent, k) -> {
            if (k == key) {
                try {
                    svc.unlink(c.t(), k, parent);
                    removed[0]++;
                } catch (ErrnoException e) {
                    // keyutils counts only successful unlinks
                }
            }
        });
        c.out().println(removed[0] + " links removed");
        return 0;
    }

    private interface ScanFn {
        void visit(int parent, int key);
    }

    /** recursive_session_key_scan: visits (keyring, key) pairs below the session keyring. */
    private void scanSession(Ctx c, ScanFn fn) {
        int ses;
        try {
            ses = svc.getKeyringId(c.t(), KeyService.KEY_SPEC_SESSION_KEYRING, false);
        } catch (ErrnoException e) {
            return;
        }
        scan(c, ses, fn, new java.util.HashSet<>(), 0);
    }

    private void scan(Ctx c, int ring, ScanFn fn, java.util.Set<Integer> seen, int depth) {
        if (!seen.add(ring) || depth > 32) return;
        List<Integer> ids;
        try {
            ids = svc.readKeyring(c.t(), ring);
        } catch (ErrnoException e) {
            return;
        }
        for (int k : ids) {
            fn.visit(ring, k);
            try {
                if (svc.describe(c.t(), k).startsWith("keyring;")) scan(c, k, fn, seen, depth + 1);
            } catch (ErrnoException e) {
                // inaccessible: skip
            }
        }
    }

    private int search(Ctx c, List<String> a) throws Exit {
        argc(c, a, 4, 5);
        int ring = keyId(c, a.get(1));
        int dest = a.size() == 5 ? keyId(c, a.get(4)) : 0;
        int id = sys(c, "keyctl_search", () -> svc.search(c.t(), ring, a.get(2), a.get(3), dest));
        c.out().println(id);
        return 0;
    }

    private int read(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        byte[] b = sys(c, "keyctl_read_alloc", () -> svc.read(c.t(), key));
        try {
            if (b.length == 0) {
                c.out().println("No data in key");
                return 0;
            }
            StringBuilder sb = new StringBuilder();
            sb.append(b.length).append(" bytes of data in key:\n");
            for (int i = 0; i < b.length; i++) {
                if (i > 0) sb.append(i % 32 == 0 ? '\n' : i % 4 == 0 ? " " : "");
                sb.append(String.format("%02x", b[i] & 0xff));
            }
            c.out().println(sb);
            return 0;
        } finally {
            java.util.Arrays.fill(b, (byte) 0);
        }
    }

    private int pipe(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        byte[] b = sys(c, "keyctl_read_alloc", () -> svc.read(c.t(), key));
        try {
            c.out().write(b, 0, b.length);
            return 0;
        } finally {
            java.util.Arrays.fill(b, (byte) 0);
        }
    }

    private int print(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        byte[] b = sys(c, "keyctl_read_alloc", () -> svc.read(c.t(), key));
        try {
            boolean printable = true;
            for (byte x : b) if (x < 0x20 || x > 0x7e) printable = false;
            if (printable) c.out().println(new String(b, StandardCharsets.ISO_8859_1));
            else {
                StringBuilder sb = new StringBuilder(":hex:");
                for (byte x : b) sb.append(String.format("%02x", x & 0xff));
                c.out().println(sb);
            }
            return 0;
        } finally {
            java.util.Arrays.fill(b, (byte) 0);
        }
    }

    private int list(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int ring = keyId(c, a.get(1));
        List<Integer> ids = sys(c, "keyctl_read_alloc", () -> svc.readKeyring(c.t(), ring));
        if (ids.isEmpty()) {
            c.out().println("keyring is empty");
            return 0;
        }
        c.out().println(ids.size() == 1 ? "1 key in keyring:" : ids.size() + " keys in keyring:");
        for (int k : ids) {
            String raw;
            try {
                raw = svc.describe(c.t(), k);
            } catch (ErrnoException e) {
                c.out().println(String.format("%9d: key inaccessible (%s)", k, e.errno().message()));
                continue;
            }
            Desc d = parseDesc(c, k, raw);
            c.out().println(String.format("%9d: %s %5d %5d %s: %s", k, calcPerms(c.t().cred(), d.perm(), d.uid(), d.gid()),
                    d.uid(), d.gid(), d.type(), d.desc()));
        }
        return 0;
    }

    private int rlist(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int ring = keyId(c, a.get(1));
        List<Integer> ids = sys(c, "keyctl_read_alloc", () -> svc.readKeyring(c.t(), ring));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.size(); i++) {
            if (i > 0) sb.append(' ');
            sb.append(ids.get(i));
        }
        c.out().println(sb);
        return 0;
    }

    private int describe(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2);
        int key = keyId(c, a.get(1));
        String raw = sys(c, "keyctl_describe_alloc", () -> svc.describe(c.t(), key));
        Desc d = parseDesc(c, key, raw);
        int p = d.perm();
        String perms = dev.memcrypt.kernel.keys.KeyPerm.render(p >>> 24 & 0x3f) + dev.memcrypt.kernel.keys.KeyPerm.render(p >>> 16 & 0x3f)
                + dev.memcrypt.kernel.keys.KeyPerm.render(p >>> 8 & 0x3f) + dev.memcrypt.kernel.keys.KeyPerm.render(p & 0x3f);
        c.out().println(String.format("%9d: %s %5d %5d %s: %s", key, perms, d.uid(), d.gid(), d.type(), d.desc()));
        return 0;
    }

    private int rdescribe(Ctx c, List<String> a) throws Exit {
        argc(c, a, 2, 3);
        if (a.size() == 3 && a.get(2).isEmpty()) throw format(c);
        int key = keyId(c, a.get(1));
        String raw = sys(c, "keyctl_describe", () -> svc.describe(c.t(), key));
        if (a.size() == 3) raw = raw.replace(';', a.get(2).charAt(0));
        c.out().println(raw);
        return 0;
    }

    private int chown(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int key = keyId(c, a.get(1));
        Long uid = strtoul(a.get(2), 0);
        if (uid == null) {
            c.err().println("Unparsable uid: '" + a.get(2) + "'");
            throw new Exit(2);
        }
        sysv(c, "keyctl_chown", () -> svc.chown(c.t(), key, (int) (long) uid, -1));
        return 0;
    }

    private int chgrp(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int key = keyId(c, a.get(1));
        Long gid = strtoul(a.get(2), 0);
        if (gid == null) {
            c.err().println("Unparsable gid: '" + a.get(2) + "'");
            throw new Exit(2);
        }
        sysv(c, "keyctl_chown", () -> svc.chown(c.t(), key, -1, (int) (long) gid));
        return 0;
    }

    private int setperm(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int key = keyId(c, a.get(1));
        Long perm = strtoul(a.get(2), 0);
        if (perm == null) {
            c.err().println("Unparsable permissions: '" + a.get(2) + "'");
            throw new Exit(2);
        }
        sysv(c, "keyctl_setperm", () -> svc.setPerm(c.t(), key, (int) (long) perm));
        return 0;
    }

    private int timeout(Ctx c, List<String> a) throws Exit {
        argc(c, a, 3);
        int key = keyId(c, a.get(1));
        Long secs = strtoul(a.get(2), 10);
        if (secs == null) {
            c.err().println("Unparsable timeout: '" + a.get(2) + "'");
            throw new Exit(2);
        }
        sysv(c, "keyctl_set_timeout", () -> svc.setTimeout(c.t(), key, secs));
        return 0;
    }

    private int session(Ctx c, List<String> a) throws Exit {
        String name = a.size() >= 2 && !a.get(1).equals("-") ? a.get(1) : null;
        int id = sys(c, "keyctl_join_session_keyring", () -> svc.joinSessionKeyring(c.t(), name));
        c.err().println("Joined session keyring: " + id);
        return 0;
    }

    private int newSession(Ctx c, List<String> a) throws Exit {
        argc(c, a, 1);
        int id = sys(c, "keyctl_join_session_keyring", () -> svc.joinSessionKeyring(c.t(), null));
        c.out().println(id);
        return 0;
    }

    private int show(Ctx c, List<String> a) throws Exit {
        List<String> args = new ArrayList<>(a);
        boolean hex = false;
        if (args.size() >= 2 && args.get(1).equals("-x")) {
            hex = true;
            args.remove(1);
        }
        if (args.size() > 2) throw format(c);
        int ring = args.size() == 2 ? keyId(c, args.get(1)) : KeyService.KEY_SPEC_SESSION_KEYRING;
        c.out().println(args.size() == 2 ? "Keyring" : "Session Keyring");
        int resolved = sys(c, "Unable to dump key", () -> svc.getKeyringId(c.t(), ring, false));
        char[] indent = new char[64];
        dumpTree(c, resolved, 0, false, hex, indent);
        return 0;
    }

    private static String cstr(char[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n);
    }

    /** keyutils dump_key_tree_aux: the indented tree with "\_ " markers and '|' continuation bars. */
    private void dumpTree(Ctx c, int key, int depth, boolean more, boolean hex, char[] indent) throws Exit {
        if (depth > 8 * 4) return;
        String raw;
        try {
            raw = svc.describe(c.t(), key);
        } catch (ErrnoException e) {
            c.out().println(key + ": key inaccessible (" + e.errno().message() + ")");
            return;
        }
        Desc d = parseDesc(c, key, raw);
        String mask = calcPerms(c.t().cred(), d.perm(), d.uid(), d.gid());
        String id = hex ? String.format("0x%08x", key) : String.format("%10d", key);
        c.out().println(String.format("%s %s  %5d %5d  %s%s%s: %s", id, mask, d.uid(), d.gid(), cstr(indent),
                depth > 0 ? "\\_ " : "", d.type(), d.desc()));
        if (!d.type().equals("keyring")) return;
        List<Integer> ids = sys(c, "keyctl_read_alloc", () -> svc.readKeyring(c.t(), key));
        for (int i = 0; i < ids.size(); i++) {
            int rdepth = depth;
            if (depth == 0) {
                indent[rdepth++] = ' ';
            } else {
                for (int j = 0; j < 4; j++) indent[rdepth++] = ' ';
            }
            indent[rdepth] = 0;
            if (more) indent[depth] = '|';
            dumpTree(c, ids.get(i), rdepth, i < ids.size() - 1, hex, indent);
        }
    }

    /** Runs keyctl and returns stdout as a string (tests, scripts); stderr goes to {@code err}. */
    public String capture(Task caller, List<String> argv, byte[] stdin, PrintStream err, int[] exitOut) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bo, true, StandardCharsets.UTF_8);
        int rc = run(caller, argv, new java.io.ByteArrayInputStream(stdin == null ? new byte[0] : stdin), out, err);
        if (exitOut != null && exitOut.length > 0) exitOut[0] = rc;
        return bo.toString(StandardCharsets.UTF_8);
    }
}
