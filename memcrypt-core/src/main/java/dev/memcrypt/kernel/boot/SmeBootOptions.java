package dev.memcrypt.kernel.boot;

import java.util.Locale;

/**
 * The kernel command line options of the SME boot path.
 *
 * @param memEncrypt  {@code mem_encrypt=on}: encrypt the kernel and initrd in place (SME must be active)
 * @param kernelSize  bytes of the kernel image (deterministic pseudo-random contents), {@code kernel-size=}
 * @param initrdSize  bytes of the initrd, 0 for none, {@code initrd-size=}
 * @param test        a deliberate mistake, {@code sme_test=}
 * @param seed        seed of the image contents, {@code image-seed=}
 */
public record SmeBootOptions(boolean memEncrypt, long kernelSize, long initrdSize, SmeTest test, long seed) {
    public static final long DEFAULT_KERNEL = 8L << 20;
    public static final long DEFAULT_INITRD = 4L << 20;

    public SmeBootOptions {
        if (kernelSize < 4096 || kernelSize > (1L << 34)) throw new IllegalArgumentException("kernel-size=" + kernelSize + " out of range (4K..16G)");
        if (initrdSize < 0 || initrdSize > (1L << 34)) throw new IllegalArgumentException("initrd-size=" + initrdSize + " out of range (0..16G)");
        if (test == null) throw new IllegalArgumentException("test must not be null");
    }

    public static SmeBootOptions defaults() {
        return new SmeBootOptions(true, DEFAULT_KERNEL, DEFAULT_INITRD, SmeTest.NONE, 1);
    }

    public SmeBootOptions withSizes(long kernel, long initrd) {
        return new SmeBootOptions(memEncrypt, kernel, initrd, test, seed);
    }

    public SmeBootOptions withTest(SmeTest t) {
        return new SmeBootOptions(memEncrypt, kernelSize, initrdSize, t, seed);
    }

    /**
     * Parses a command line such as {@code mem_encrypt=on kernel-size=16M initrd-size=8M
     * sme_test=skip_wbinvd}. Unknown words are refused (IllegalArgumentException naming them).
     */
    public static SmeBootOptions parse(String cmdline) {
        SmeBootOptions o = defaults().withMemEncrypt(false);
        if (cmdline == null) return o;
        for (String w : cmdline.trim().split("\\s+")) {
            if (w.isEmpty()) continue;
            int i = w.indexOf('=');
            if (i < 0) throw new IllegalArgumentException("boot option '" + w + "' needs a value (key=value)");
            String k = w.substring(0, i).toLowerCase(Locale.ROOT).replace('_', '-'), v = w.substring(i + 1);
            o = switch (k) {
                case "mem-encrypt" -> o.withMemEncrypt(switch (v.toLowerCase(Locale.ROOT)) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("mem_encrypt=" + v + " is not on|off");
                });
                case "kernel-size" -> o.withSizes(size(k, v), o.initrdSize);
                case "initrd-size" -> o.withSizes(o.kernelSize, size(k, v));
                case "sme-test" -> o.withTest(SmeTest.parse(v));
                case "image-seed" -> new SmeBootOptions(o.memEncrypt, o.kernelSize, o.initrdSize, o.test, Long.parseLong(v));
                default -> throw new IllegalArgumentException("unknown boot option '" + w.substring(0, i) + "' (known: mem_encrypt, kernel-size, initrd-size, sme_test, image-seed)");
            };
        }
        return o;
    }

    public SmeBootOptions withMemEncrypt(boolean on) {
        return new SmeBootOptions(on, kernelSize, initrdSize, test, seed);
    }

    public static long size(String k, String v) {
        String s = v.strip().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B")) s = s.substring(0, s.length() - 1);
        int shift = 0;
        if (!s.isEmpty() && "KMG".indexOf(s.charAt(s.length() - 1)) >= 0) {
            shift = 10 * ("KMG".indexOf(s.charAt(s.length() - 1)) + 1);
            s = s.substring(0, s.length() - 1);
        }
        try {
            long n = s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
            if (n < 0 || n > (Long.MAX_VALUE >> shift)) throw new NumberFormatException();
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(k + "=" + v + " is not a size (e.g. 64M)");
        }
    }

    /** The command-line form. */
    public String cmdline() {
        return "mem_encrypt=" + (memEncrypt ? "on" : "off") + " kernel-size=" + kernelSize + " initrd-size=" + initrdSize
                + (test == SmeTest.NONE ? "" : " sme_test=" + test.option());
    }
}
