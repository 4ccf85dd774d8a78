package dev.memcrypt.kernel.keys.mktme;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.function.Consumer;
import javax.security.auth.Destroyable;

/**
 * The mktme payload grammar (Documentation/x86/mktme/mktme_keys.rst; SPEC-FACTS §2):
 * options separated by spaces or tabs (empty fields skipped, as strsep does), at most 1024 bytes,
 * each {@code name=value} with a non-empty value:
 * <ul>
 * <li>{@code type=} user | cpu | clear | no-encrypt — required;
 * <li>{@code algorithm=aes-xts-128} — required for user and cpu, forbidden for clear and no-encrypt;
 * <li>{@code key=}, {@code tweak=} — exactly 32 hex digits; required for user, optional entropy
 *     for cpu, forbidden for clear and no-encrypt.
 * </ul>
 * A repeated or unknown option, a bad value, an empty payload or a NUL byte (model choice: the
 * kernel would silently truncate there) is EINVAL. Error values never echo the input.
 */
public final class MktmeOptions implements Destroyable {
    public static final int MAX_PAYLOAD = 1024;
    public static final String ALG_AES_XTS_128 = "aes-xts-128";

    /** The key kinds of the option {@code type=}. */
    public enum Type {
        USER("user", KeyProgram.CMD_SET_KEY_DIRECT),
        CPU("cpu", KeyProgram.CMD_SET_KEY_RANDOM),
        CLEAR("clear", KeyProgram.CMD_CLEAR_KEY),
        NO_ENCRYPT("no-encrypt", KeyProgram.CMD_NO_ENCRYPT);

        final String text;
        final int command;

        Type(String text, int command) {
            this.text = text;
            this.command = command;
        }

        public String text() {
            return text;
        }

        public int command() {
            return command;
        }
    }

    private enum Opt { TYPE, ALGORITHM, KEY, TWEAK }

    private final Type type;
    private final byte[] dataKey; // 16 bytes or null
    private final byte[] tweakKey; // 16 bytes or null

    private MktmeOptions(Type type, byte[] dataKey, byte[] tweakKey) {
        this.type = type;
        this.dataKey = dataKey;
        this.tweakKey = tweakKey;
    }

    public Type type() {
        return type;
    }

    /**
     * keyid_ctrl for PCONFIG: the command, and the AES-XTS-128 algorithm bit for every command
     * (the hardware checks the algorithm even for CLEAR and NO_ENCRYPT; seed 000 left it out).
     */
    public int keyIdCtrl() {
        return type.command | KeyProgram.ALG_AES_XTS_128;
    }

    /** The user data key (or cpu entropy) — live bytes, may be null. */
    byte[] dataKey() {
        return dataKey;
    }

    byte[] tweakKey() {
        return tweakKey;
    }

    public static MktmeOptions parse(byte[] payload) throws ErrnoException {
        return parse(payload, null);
    }

    /**
     * Test hook: {@code keyArrays} (if not null) is shown every key/tweak array the parse allocates,
     * so a test can check that a rejected payload leaves them zeroed.
     */
    static MktmeOptions parse(byte[] payload, Consumer<byte[]> keyArrays) throws ErrnoException {
        if (payload == null || payload.length == 0 || payload.length > MAX_PAYLOAD) throw Errno.EINVAL.exception();
        for (byte b : payload) if (b == 0) throw Errno.EINVAL.exception();
        String s = new String(payload, StandardCharsets.ISO_8859_1);
        EnumSet<Opt> seen = EnumSet.noneOf(Opt.class);
        Type type = null;
        byte[] key = null, tweak = null;
        try {
            int i = 0, n = s.length();
            while (i <= n) {
                int j = i;
                while (j < n && s.charAt(j) != ' ' && s.charAt(j) != '\t') j++;
                String tok = s.substring(i, j);
                i = j + 1;
                if (tok.isEmpty()) continue;
                int eq = tok.indexOf('=');
                if (eq < 0 || eq == tok.length() - 1) throw Errno.EINVAL.exception();
                String name = tok.substring(0, eq), value = tok.substring(eq + 1);
                Opt opt = switch (name) {
                    case "type" -> Opt.TYPE;
                    case "algorithm" -> Opt.ALGORITHM;
                    case "key" -> Opt.KEY;
                    case "tweak" -> Opt.TWEAK;
                    default -> throw Errno.EINVAL.exception();
                };
                if (!seen.add(opt)) throw Errno.EINVAL.exception();
                switch (opt) {
                    case TYPE -> type = parseType(value);
                    case ALGORITHM -> {
                        if (!value.equals(ALG_AES_XTS_128)) throw Errno.EINVAL.exception();
                    }
                    case KEY -> key = parseHex16(value, keyArrays);
                    case TWEAK -> tweak = parseHex16(value, keyArrays);
                }
            }
            if (type == null) throw Errno.EINVAL.exception();
            boolean alg = seen.contains(Opt.ALGORITHM);
            switch (type) {
                case USER -> {
                    if (!alg || key == null || tweak == null) throw Errno.EINVAL.exception();
                }
                case CPU -> {
                    if (!alg) throw Errno.EINVAL.exception();
                }
                case CLEAR, NO_ENCRYPT -> {
                    if (alg || key != null || tweak != null) throw Errno.EINVAL.exception();
                }
            }
            MktmeOptions o = new MktmeOptions(type, key, tweak);
            key = null;
            tweak = null;
            return o;
        } finally {
            if (key != null) Arrays.fill(key, (byte) 0);
            if (tweak != null) Arrays.fill(tweak, (byte) 0);
        }
    }

    private static Type parseType(String v) throws ErrnoException {
        for (Type t : Type.values()) if (t.text.equals(v)) return t;
        throw Errno.EINVAL.exception();
    }

    /** Exactly 32 hex digits (seed 000's hex2bin accepted 33+ and ignored the rest). */
    private static byte[] parseHex16(String v, Consumer<byte[]> keyArrays) throws ErrnoException {
        if (v.length() != 32) throw Errno.EINVAL.exception();
        byte[] out = new byte[16];
        if (keyArrays != null) keyArrays.accept(out);
        for (int i = 0; i < 16; i++) {
            int hi = Character.digit(v.charAt(2 * i), 16), lo = Character.digit(v.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                Arrays.fill(out, (byte) 0);
                throw Errno.EINVAL.exception();
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    @Override
    public void destroy() {
        if (dataKey != null) Arrays.fill(dataKey, (byte) 0);
        if (tweakKey != null) Arrays.fill(tweakKey, (byte) 0);
    }

    @Override
    public String toString() {
        return "MktmeOptions[type=" + type.text + "]";
    }
}
