package dev.memcrypt.script;

/**
 * Adds statements to the standard registry. Implementations are found with
 * {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/dev.memcrypt.script.StatementProvider}. This is how the kernel,
 * process, KVM and SME layers add {@code keyctl}, {@code as}, {@code mmap}, {@code boot},
 * {@code vm ...} without touching the interpreter.
 */
public interface StatementProvider {
    void register(StatementRegistry registry);
}
