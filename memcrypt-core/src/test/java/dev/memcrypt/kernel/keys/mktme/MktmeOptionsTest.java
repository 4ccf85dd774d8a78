package dev.memcrypt.kernel.keys.mktme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.util.Hex;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every rule of the mktme option grammar (SPEC-FACTS §2). */
class MktmeOptionsTest {
    static final String K = "00112233445566778899aabbccddeeff";
    static final String T = "ffeeddccbbaa99887766554433221100";

    static MktmeOptions parse(String s) throws ErrnoException {
        return MktmeOptions.parse(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    static void einval(String s) {
        ErrnoException e = assertThrows(ErrnoException.class, () -> parse(s), s);
        assertEquals(Errno.EINVAL, e.errno());
        assertFalse(e.getMessage().contains(K.substring(0, 8)), "message must not echo key bytes");
    }

    /** payload, then what it must parse to: type, key hex (null: none), tweak hex (null: none). */
    static Stream<Arguments> acceptedCases() {
        MktmeOptions.Type user = MktmeOptions.Type.USER, cpu = MktmeOptions.Type.CPU;
        return Stream.of(
        Arguments.of("type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T, user, K, T),
        // reordered options
        Arguments.of("tweak=" + T + " key=" + K + " algorithm=aes-xts-128 type=user", user, K, T),
        // tabs as separators
        Arguments.of("type=user\talgorithm=aes-xts-128\tkey=" + K + "\ttweak=" + T, user, K, T),
        // runs of blanks, leading/trailing blanks, uppercase hex (parsed to the same bytes)
        Arguments.of("  type=user  \t algorithm=aes-xts-128 key=" + K.toUpperCase() + " tweak=" + T + "  ", user, K, T),
        Arguments.of("type=user algorithm=aes-xts-128 key=" + K.toUpperCase() + " tweak=" + T.toUpperCase(), user, K, T),
        // mixed-case hex, and key and tweak swapped in value (they are not interchangeable)
        Arguments.of("type=user algorithm=aes-xts-128 key=FfEeDdCcBbAa99887766554433221100 tweak=" + K, user, T, K),
        Arguments.of("type=cpu algorithm=aes-xts-128", cpu, null, null),
        Arguments.of("type=cpu algorithm=aes-xts-128 key=" + K, cpu, K, null),
        Arguments.of("type=cpu algorithm=aes-xts-128 tweak=" + T, cpu, null, T),
        Arguments.of("type=cpu algorithm=aes-xts-128 key=" + K + " tweak=" + T, cpu, K, T),
        Arguments.of("algorithm=aes-xts-128\ttype=cpu", cpu, null, null),
        Arguments.of("type=clear", MktmeOptions.Type.CLEAR, null, null),
        Arguments.of("type=no-encrypt", MktmeOptions.Type.NO_ENCRYPT, null, null),
        Arguments.of("\ttype=clear\t", MktmeOptions.Type.CLEAR, null, null),
        Arguments.of(" \t type=no-encrypt", MktmeOptions.Type.NO_ENCRYPT, null, null));
    }

    @ParameterizedTest
    @MethodSource("acceptedCases")
    void accepted(String s, MktmeOptions.Type type, String key, String tweak) throws ErrnoException {
        MktmeOptions o = parse(s);
        assertEquals(type, o.type(), "type");
        // algorithm=aes-xts-128 is the only algorithm: every kind carries its bit, and the command is the type's
        assertEquals(KeyProgram.ALG_AES_XTS_128, o.keyIdCtrl() & ~0xff, "algorithm bits");
        assertEquals(type.command(), o.keyIdCtrl() & 0xff, "command");
        assertEquals(key, o.dataKey() == null ? null : Hex.of(o.dataKey()), "key bytes");
        assertEquals(tweak, o.tweakKey() == null ? null : Hex.of(o.tweakKey()), "tweak bytes");
        byte[] dk = o.dataKey(), tk = o.tweakKey();
        o.destroy();
        if (dk != null) assertArrayEquals(new byte[16], dk, "key wiped by destroy");
        if (tk != null) assertArrayEquals(new byte[16], tk, "tweak wiped by destroy");
    }

    static Stream<String> rejectedCases() {
        return Stream.of(
        // user: each required option missing
        "type=user key=" + K + " tweak=" + T,
        "type=user algorithm=aes-xts-128 tweak=" + T,
        "type=user algorithm=aes-xts-128 key=" + K,
        "type=user algorithm=aes-xts-128",
        "type=user",
        // cpu: algorithm required
        "type=cpu",
        "type=cpu key=" + K + " tweak=" + T,
        // clear / no-encrypt: algorithm, key, tweak forbidden
        "type=clear algorithm=aes-xts-128",
        "type=clear key=" + K,
        "type=clear tweak=" + T,
        "type=no-encrypt algorithm=aes-xts-128",
        "type=no-encrypt key=" + K,
        "type=no-encrypt tweak=" + T,
        // type required and must be known
        "algorithm=aes-xts-128",
        "key=" + K + " tweak=" + T,
        "type=aes",
        "type=USER algorithm=aes-xts-128 key=" + K + " tweak=" + T,
        "type=",
        "type",
        // repeated options
        "type=cpu type=cpu algorithm=aes-xts-128",
        "type=cpu algorithm=aes-xts-128 algorithm=aes-xts-128",
        "type=user algorithm=aes-xts-128 key=" + K + " key=" + K + " tweak=" + T,
        "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T + " tweak=" + T,
        // algorithm value
        "type=cpu algorithm=aes-xts-256",
        "type=cpu algorithm=AES-XTS-128",
        "type=cpu algorithm=",
        // bad hex, 31 and 33 hex characters
        "type=user algorithm=aes-xts-128 key=" + K.substring(0, 31) + "g tweak=" + T,
        "type=user algorithm=aes-xts-128 key=" + K.substring(0, 31) + " tweak=" + T,
        "type=user algorithm=aes-xts-128 key=" + K + "0 tweak=" + T,
        "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T.substring(0, 31),
        "type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T + "0",
        "type=user algorithm=aes-xts-128 key=0x" + K.substring(0, 30) + " tweak=" + T,
        "type=cpu algorithm=aes-xts-128 key=" + K.substring(0, 31),
        // unknown options and separators other than space/tab
        "type=cpu algorithm=aes-xts-128 foo=bar",
        "type=cpu algorithm=aes-xts-128 keys=" + K,
        "type=cpu,algorithm=aes-xts-128",
        "type=cpu\nalgorithm=aes-xts-128",
        "type=cpu algorithm=aes-xts-128\n",
        // empty and blank payloads
        "",
        " ",
        "\t\t");
    }

    @ParameterizedTest
    @MethodSource("rejectedCases")
    void rejected(String s) {
        einval(s);
    }

    @Test
    void payloadLimitIs1024Bytes() throws ErrnoException {
        String base = "type=cpu algorithm=aes-xts-128";
        String exactly1024 = base + " ".repeat(1024 - base.length());
        parse(exactly1024).destroy();
        einval(exactly1024 + " ");
        einval(base + " ".repeat(5000));
    }

    @Test
    void nulByteIsRejected() {
        einval("type=cpu algorithm=aes-xts-128\0junk");
    }

    @Test
    void nullPayloadIsEinval() {
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> MktmeOptions.parse(null)).errno());
    }

    @Test
    void keyIdCtrlCarriesCommandAndAlgorithm() throws ErrnoException {
        assertEquals(0x100, parse("type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T).keyIdCtrl());
        assertEquals(0x101, parse("type=cpu algorithm=aes-xts-128").keyIdCtrl());
        assertEquals(0x102, parse("type=clear").keyIdCtrl());
        assertEquals(0x103, parse("type=no-encrypt").keyIdCtrl());
    }

    @Test
    void toStringHasNoKeyBytes() throws ErrnoException {
        MktmeOptions o = parse("type=user algorithm=aes-xts-128 key=" + K + " tweak=" + T);
        assertFalse(o.toString().contains("0011"));
        assertFalse(o.toString().contains("ffee"));
    }
}
