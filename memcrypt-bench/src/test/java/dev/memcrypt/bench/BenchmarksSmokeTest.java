package dev.memcrypt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Every JMH benchmark runs once, in this JVM, with tiny parameters: the harness wiring (states,
 * setups, parameters, generated code) works, and each benchmark produces a score. It measures
 * nothing: the settings are far too short for figures, and no score is compared with anything.
 */
class BenchmarksSmokeTest {
    @Test
    void everyBenchmarkRunsOnceAndScores() throws Exception {
        Options o = new OptionsBuilder()
                .include("dev\\.memcrypt\\.bench\\..*")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(20))
                .timeout(TimeValue.seconds(120))
                .param("vmas", "100")
                .param("kernel", "2M")
                .param("initrd", "2M")
                .param("engine", "java")
                .shouldFailOnError(true)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED")
                .timeUnit(TimeUnit.MICROSECONDS)
                .output("target/jmh-smoke.log") // JMH's report, kept out of the build log
                .build();
        Collection<RunResult> results = new Runner(o).run();
        Set<String> ran = new TreeSet<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            double score = r.getPrimaryResult().getScore();
            assertFalse(Double.isNaN(score), name);
            assertTrue(score > 0, name + " scored " + score);
            ran.add(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1));
        }
        for (String expected : new String[] {"XtsBenchmark", "MemoryBenchmarks", "MmBenchmark", "KeyLockerBenchmark", "SmeBootBenchmark"}) {
            assertTrue(ran.stream().anyMatch(n -> n.startsWith(expected + ".")), expected + " did not run: " + ran);
        }
        assertEquals(results.size(), ran.size(), "one result per benchmark method: " + ran);
    }
}
