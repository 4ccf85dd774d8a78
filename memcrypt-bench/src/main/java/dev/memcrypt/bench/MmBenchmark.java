package dev.memcrypt.bench;

import static dev.memcrypt.kernel.mm.Mman.*;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.MachineConfig;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: encrypt_mprotect and munmap of one page among {@code vmas} VMAs (the scale requirement:
 * 100,000 VMAs cost at most 2x 100), and first-touch + write + read of one page under a cpu key.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MmBenchmark {
    static final long BASE = 0x1000_0000L;

    @Param({"100", "100000"})
    public int vmas;

    MmKernel k;
    Process p;
    int key;
    SplittableRandom r = new SplittableRandom(7);
    long touchVa;
    byte[] page = new byte[4096];

    @Setup(Level.Trial)
    public void setup() throws Exception {
        Machine m = Machine.powerOn(MachineConfig.defaults().with("seed", "1"));
        k = MmKernel.boot(m);
        p = k.spawn(Cred.root());
        key = k.keys().addKey(p.mainThread(), "mktme", "bench", "type=cpu algorithm=aes-xts-128".getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_THREAD_KEYRING);
        for (int i = 0; i < vmas; i++) k.mmap(p, BASE + i * PAGE, PAGE, prot(i), MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
        touchVa = k.mmap(p, 0, 1L << 30, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        k.encryptMprotect(p.mainThread(), touchVa, 1L << 30, PROT_READ | PROT_WRITE, key);
    }

    static int prot(int i) {
        return (i & 1) == 0 ? PROT_READ : PROT_NONE;
    }

    @Benchmark
    public void encryptMprotectOnePage() throws Exception {
        int i = r.nextInt(vmas);
        k.encryptMprotect(p.mainThread(), BASE + i * PAGE, PAGE, prot(i), key);
    }

    @Benchmark
    public void munmapAndRemapOnePage() throws Exception {
        int i = r.nextInt(vmas);
        long va = BASE + i * PAGE;
        k.munmap(p, va, PAGE);
        k.mmap(p, va, PAGE, prot(i), MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
    }

    /** First touch (fault, zero through the KeyID), write and read back one page; then discard it. */
    @Benchmark
    public byte touchWriteReadPage() throws Exception {
        long va = touchVa + ((long) r.nextInt(1 << 18) << 12);
        k.store(p, va, page);
        byte b = k.load(p, va, 4096)[7];
        k.madvise(p, va, PAGE, MADV_DONTNEED);
        return b;
    }
}
