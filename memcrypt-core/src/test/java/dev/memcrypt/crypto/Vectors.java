package dev.memcrypt.crypto;

import dev.memcrypt.util.Hex;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the external vector files under src/test/resources/vectors (see the README there). */
final class Vectors {
    private Vectors() {}

    /** One known answer: encrypting {@code pt} under key and tweak gives {@code ct}. */
    record Case(String id, boolean encrypt, byte[] key, byte[] tweak, byte[] pt, byte[] ct) {
        @Override
        public String toString() {
            return id + " (" + pt.length + " bytes)";
        }
    }

    static List<Case> ieee1619() {
        List<Case> out = new ArrayList<>();
        for (Map<String, String> e : entries("/vectors/ieee1619/ieee1619-2007-xts-aes-128.txt")) {
            out.add(new Case("IEEE 1619-2007 vector " + e.get("Vector"), true, Hex.parse(e.get("Key")), Hex.parse(e.get("Tweak")),
                    Hex.parse(e.get("PTX")), Hex.parse(e.get("CTX"))));
        }
        return out;
    }

    /** IEEE 1619-2007's XTS-AES-256 vector 10 (64-byte key), in the same format. */
    static List<Case> ieee1619Aes256() {
        List<Case> out = new ArrayList<>();
        for (Map<String, String> e : entries("/vectors/ieee1619/ieee1619-2007-xts-aes-256.txt")) {
            out.add(new Case("IEEE 1619-2007 vector " + e.get("Vector") + " (XTS-AES-256)", true, Hex.parse(e.get("Key")), Hex.parse(e.get("Tweak")),
                    Hex.parse(e.get("PTX")), Hex.parse(e.get("CTX"))));
        }
        return out;
    }

    /** CAVP XTSGenAES128 entries with byte-aligned data units; {@code skipped[0]} counts the others. */
    static List<Case> cavp(String file, int[] skipped) {
        List<Case> out = new ArrayList<>();
        for (Map<String, String> e : entries("/vectors/cavp/" + file)) {
            int bits = Integer.parseInt(e.get("DataUnitLen"));
            if (bits % 8 != 0) {
                skipped[0]++;
                continue;
            }
            byte[] tweak = e.containsKey("i") ? Hex.parse(e.get("i")) : le128(new BigInteger(e.get("DataUnitSeqNumber")));
            boolean enc = e.get("[section]").equals("ENCRYPT");
            out.add(new Case(file + " " + e.get("[section]") + " COUNT " + e.get("COUNT"), enc, Hex.parse(e.get("Key")), tweak,
                    Hex.parse(e.get("PT")), Hex.parse(e.get("CT"))));
        }
        return out;
    }

    static byte[] le128(BigInteger n) {
        byte[] t = new byte[16];
        for (int i = 0; i < 16; i++) t[i] = n.shiftRight(8 * i).byteValue();
        return t;
    }

    /** Blank-line separated "Name = value" blocks; "[X]" lines set the section; '#' lines are comments. */
    private static List<Map<String, String>> entries(String resource) {
        List<Map<String, String>> out = new ArrayList<>();
        try (InputStream in = Vectors.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing test resource " + resource);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String section = "";
            Map<String, String> cur = new LinkedHashMap<>();
            String line;
            while ((line = r.readLine()) != null) {
                line = line.strip();
                if (line.startsWith("#")) continue;
                if (line.startsWith("[")) {
                    section = line.substring(1, line.length() - 1);
                    continue;
                }
                if (line.isEmpty()) {
                    if (!cur.isEmpty()) out.add(cur);
                    cur = new LinkedHashMap<>();
                    continue;
                }
                int eq = line.indexOf('=');
                if (cur.isEmpty()) cur.put("[section]", section);
                cur.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
            if (!cur.isEmpty()) out.add(cur);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
