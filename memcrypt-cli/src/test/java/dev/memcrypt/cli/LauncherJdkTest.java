package dev.memcrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's JDK search ({@code scripts/jdk.sh}, sourced by {@code ./memcrypt} and
 * {@code .ci/run}): it takes a JDK 25 or newer, skips older ones, and otherwise fails with exit
 * status 3 and a message that says what to install. Runs the script under bash with a PATH that
 * holds no java and {@code MEMCRYPT_JDK_ROOTS} in place of the machine's JDK directories.
 */
class LauncherJdkTest {
    private static final Path SCRIPT = Path.of("..", "scripts", "jdk.sh").toAbsolutePath().normalize();

    record Result(int exit, String out, String err) {}

    @TempDir
    Path tmp;

    /** A PATH directory with only the tools the script needs (no java). */
    private String toolsOnlyPath() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String t : new String[] {"sed", "head", "dirname", "readlink"}) {
            for (String d : new String[] {"/usr/bin", "/bin"}) {
                Path p = Path.of(d, t);
                if (Files.isExecutable(p)) {
                    Files.createSymbolicLink(bin.resolve(t), p);
                    break;
                }
            }
        }
        return bin.toString();
    }

    private Result source(Map<String, String> env) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")) || Files.isExecutable(Path.of("/usr/bin/bash")), "bash not available");
        assumeTrue(Files.isRegularFile(SCRIPT), "scripts/jdk.sh not found from " + Path.of("").toAbsolutePath());
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". \"$1\" && printf '%s' \"$JAVA_HOME\"", "jdk-test", SCRIPT.toString());
        pb.environment().clear();
        pb.environment().put("HOME", tmp.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out, err);
    }

    /** A directory that looks like a JDK of feature release {@code feature} (bin/java answers -XshowSettings). */
    private Path fakeJdk(String name, int feature) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve(name).resolve("bin"));
        for (String tool : new String[] {"java", "javac"}) {
            Path f = bin.resolve(tool);
            Files.writeString(f, "#!/bin/sh\necho '    java.specification.version = " + feature + "' >&2\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return tmp.resolve(name);
    }

    @Test
    void noJdk25AnywhereExitsThreeAndSaysWhatToInstall() throws Exception {
        Path old = fakeJdk("jdk-17", 17);
        Result r = source(Map.of("PATH", toolsOnlyPath(), "JAVA_HOME", old.toString(), "MEMCRYPT_JDK_ROOTS", tmp.resolve("none").toString()));
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().contains("needs a JDK 25 or newer"), r.err());
        assertTrue(r.err().contains("install one") && r.err().contains("JAVA_HOME"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void anOlderJavaHomeIsSkippedForAJdk25AmongTheRoots() throws Exception {
        Path old = fakeJdk("jdk-17", 17);
        Path jdk25 = fakeJdk("jdk-25", 25);
        Result r = source(Map.of("PATH", toolsOnlyPath(), "JAVA_HOME", old.toString(), "MEMCRYPT_JDK_ROOTS", tmp.resolve("none") + " " + jdk25));
        assertEquals(0, r.exit(), r.err());
        assertEquals(jdk25.toString(), r.out());
    }

    @Test
    void aJdk25InJavaHomeIsTakenAsItIs() throws Exception {
        Path jdk26 = fakeJdk("jdk-26", 26);
        Result r = source(Map.of("PATH", toolsOnlyPath(), "JAVA_HOME", jdk26.toString(), "MEMCRYPT_JDK_ROOTS", tmp.resolve("none").toString()));
        assertEquals(0, r.exit(), r.err());
        assertEquals(jdk26.toString(), r.out());
    }
}
