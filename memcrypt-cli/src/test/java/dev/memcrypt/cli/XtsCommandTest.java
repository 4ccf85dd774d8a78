package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class XtsCommandTest {
    static final String KEY = "1111111111111111111111111111111122222222222222222222222222222222";
    static final String TWEAK = "33333333330000000000000000000000";
    static final String PT = "44".repeat(32);
    static final String CT = "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0";
    static final String LINE = "ab".repeat(64);

    @Test
    void encryptsIeeeVector2FromArgument() {
        Cli.Run r = Cli.run("xts", "encrypt", "--key", KEY, "--tweak", TWEAK, PT);
        assertEquals(0, r.exit(), r.err());
        assertEquals(CT + System.lineSeparator(), r.out());
    }

    /** XTS-AES-256 with a 128-hex-digit key: IEEE 1619-2007 vector 10's first two blocks (data unit 0xff). */
    @Test
    void encryptsWithAnXtsAes256Key() {
        String key = "27182818284590452353602874713526624977572470936999595749669676273141592653589793238462643383279502884197169399375105820974944592";
        Cli.Run r = Cli.run("xts", "encrypt", "--key", key, "--data-unit", "0xff", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        assertEquals(0, r.exit(), r.err());
        assertEquals("1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b", r.out().strip());
    }

    @Test
    void decryptsFromStdin() {
        Cli.Run r = Cli.runWithStdin(CT.toUpperCase() + "\n", "xts", "decrypt", "--key", KEY, "--tweak", TWEAK);
        assertEquals(0, r.exit(), r.err());
        assertEquals(PT, r.out().strip());
    }

    @Test
    void dataUnitNumberIsALittleEndianTweakInDecimalOrHex() {
        // IEEE 1619-2007 vector 15: data unit 0x123456789a, 17 bytes (ciphertext stealing)
        String key = "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0";
        Cli.Run hex = Cli.run("xts", "encrypt", "--key", key, "--data-unit", "0x123456789a", "000102030405060708090a0b0c0d0e0f10");
        assertEquals("6c1625db4671522d3d7599601de7ca09ed", hex.out().strip(), hex.err());
        Cli.Run dec = Cli.run("xts", "encrypt", "--key", key, "--data-unit", Long.toString(0x123456789aL), "000102030405060708090a0b0c0d0e0f10");
        assertEquals(hex.out(), dec.out());
    }

    @Test
    void lineAddressModeRoundTripsAndDependsOnTheAddress() {
        Cli.Run a = Cli.run("xts", "encrypt", "--key", KEY, "--line-address", "0x1040", LINE);
        Cli.Run b = Cli.run("xts", "encrypt", "--key", KEY, "--line-address", "0x1080", LINE);
        assertEquals(0, a.exit(), a.err());
        assertFalse(a.out().equals(b.out()));
        assertEquals(128, a.out().strip().length());
        Cli.Run back = Cli.run("xts", "decrypt", "--key", KEY, "--line-address", Long.toString(0x1040), a.out().strip());
        assertEquals(LINE, back.out().strip());
        // line mode = generic XTS with the SPEC-FACTS tweak (PA little-endian)
        Cli.Run generic = Cli.run("xts", "encrypt", "--key", KEY, "--tweak", "40100000000000000000000000000000", LINE);
        assertEquals(a.out(), generic.out());
    }

    static Stream<Arguments> badInput() {
        return Stream.of(
                Arguments.of("bad hex in data", new String[] {"encrypt", "--key", KEY, "--tweak", TWEAK, "44zz" + PT}, "data: bad hex"),
                Arguments.of("odd hex digits in data", new String[] {"encrypt", "--key", KEY, "--tweak", TWEAK, PT + "4"}, "odd number"),
                Arguments.of("bad hex in key", new String[] {"encrypt", "--key", "x" + KEY.substring(1), "--tweak", TWEAK, PT}, "--key: bad hex"),
                Arguments.of("short key", new String[] {"encrypt", "--key", KEY.substring(0, 62), "--tweak", TWEAK, PT}, "--key must be 64 hex digits (XTS-AES-128) or 128"),
                Arguments.of("long key", new String[] {"encrypt", "--key", KEY + "00", "--tweak", TWEAK, PT}, "--key must be 64 hex digits (XTS-AES-128) or 128"),
                Arguments.of("data under 16 bytes", new String[] {"encrypt", "--key", KEY, "--tweak", TWEAK, "00".repeat(15)}, "at least 16 bytes"),
                Arguments.of("data under 16 bytes, decrypt", new String[] {"decrypt", "--key", KEY, "--data-unit", "1", "00"}, "at least 16 bytes"),
                Arguments.of("line data not 64 bytes", new String[] {"encrypt", "--key", KEY, "--line-address", "0x1000", PT}, "exactly 64 bytes"),
                Arguments.of("line data too long", new String[] {"decrypt", "--key", KEY, "--line-address", "0x1000", LINE + "00"}, "exactly 64 bytes"),
                Arguments.of("line address not aligned", new String[] {"encrypt", "--key", KEY, "--line-address", "0x1001", LINE}, "not 64-byte"),
                Arguments.of("line address not a number", new String[] {"encrypt", "--key", KEY, "--line-address", "page", LINE}, "--line-address must be"),
                Arguments.of("negative line address", new String[] {"encrypt", "--key", KEY, "--line-address", "-64", LINE}, "must not be negative"),
                Arguments.of("tweak too short", new String[] {"encrypt", "--key", KEY, "--tweak", "3333", PT}, "--tweak must be 32 hex digits"),
                Arguments.of("bad hex in tweak", new String[] {"encrypt", "--key", KEY, "--tweak", "g" + TWEAK.substring(1), PT}, "--tweak: bad hex"),
                Arguments.of("data unit not a number", new String[] {"encrypt", "--key", KEY, "--data-unit", "one", PT}, "--data-unit must be"),
                Arguments.of("data unit over 128 bits", new String[] {"encrypt", "--key", KEY, "--data-unit", "0x1" + "0".repeat(32), PT}, "128 bits"),
                Arguments.of("two tweak sources", new String[] {"encrypt", "--key", KEY, "--tweak", TWEAK, "--data-unit", "3", PT}, "mutually exclusive"),
                Arguments.of("no tweak source", new String[] {"encrypt", "--key", KEY, PT}, "--tweak"),
                Arguments.of("no key", new String[] {"encrypt", "--tweak", TWEAK, PT}, "--key"),
                Arguments.of("no direction", new String[] {"--key", KEY, "--tweak", TWEAK, PT}, "Unknown options"),
                Arguments.of("salt without line mode", new String[] {"encrypt", "--key", KEY, "--tweak", TWEAK, "--salt", TWEAK, PT}, "--salt applies to --line-address only"),
                Arguments.of("salt too short", new String[] {"encrypt", "--key", KEY, "--line-address", "0", "--salt", "01", LINE}, "--salt must be 32 hex digits"),
                Arguments.of("nothing after xts", new String[] {}, "say encrypt or decrypt"),
                Arguments.of("unknown engine", new String[] {"encrypt", "--engine", "quantum", "--key", KEY, "--tweak", TWEAK, PT}, "unknown XTS engine"),
                Arguments.of("two data arguments", new String[] {"encrypt", "--key", KEY, "--tweak", TWEAK, PT, PT}, "memcrypt:"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInput")
    void badInputExitsTwoWithOneLineErrorNamingTheProblem(String why, String[] args, String expected) {
        String[] full = new String[args.length + 1];
        full[0] = "xts";
        System.arraycopy(args, 0, full, 1, args.length);
        Cli.Run r = Cli.run(full);
        assertEquals(2, r.exit(), why + ": " + r.err());
        assertEquals("", r.out(), why);
        String err = r.err().strip();
        assertFalse(err.contains("\n"), why + ": one line, got: " + err);
        assertTrue(err.startsWith("memcrypt: "), err);
        assertTrue(err.contains(expected), why + ": expected '" + expected + "' in: " + err);
        assertFalse(err.contains("1111111111111111") || err.contains("2222222222222222"), why + ": key bytes echoed: " + err);
    }

    @Test
    void saltIsXoredIntoTheLineTweak() {
        // PA 0x1040 with salt 0x...01 (little-endian) = tweak of PA 0x1041 unsalted
        Cli.Run salted = Cli.run("xts", "encrypt", "--key", KEY, "--line-address", "0x1040", "--salt", "01" + "00".repeat(15), LINE);
        Cli.Run generic = Cli.run("xts", "encrypt", "--key", KEY, "--tweak", "41100000000000000000000000000000", LINE);
        assertEquals(0, salted.exit(), salted.err());
        assertEquals(generic.out(), salted.out());
    }

    @Test
    void emptyStdinIsBadInput() {
        Cli.Run r = Cli.runWithStdin("", "xts", "encrypt", "--key", KEY, "--tweak", TWEAK);
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no data"), r.err());
    }

    @Test
    void badHexOnStdinIsBadInput() {
        Cli.Run r = Cli.runWithStdin("not hex at all", "xts", "encrypt", "--key", KEY, "--tweak", TWEAK);
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("stdin: bad hex"), r.err());
    }
}
