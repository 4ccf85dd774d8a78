package dev.memcrypt.script;

import dev.memcrypt.hw.MachineConfig;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The state a running script works on: the machine configuration (from the {@code machine}
 * statement, else the default), the machine itself, built on first use, the bindings, and a
 * typed store where later layers keep their own state (the booted kernel, the current
 * credentials and task, VMs) without the interpreter knowing about it:
 * {@code session.state(KernelState.class, () -> KernelState.boot(session))}.
 */
public final class Session {
    private final MachineConfig config;
    private final Map<String, Value> bindings = new LinkedHashMap<>();
    private final Map<Class<?>, Object> state = new HashMap<>();
    private final java.util.Set<String> expectedViolations = new java.util.TreeSet<>();
    private int line;

    public Session(MachineConfig config) {
        this.config = config;
    }

    public MachineConfig config() {
        return config;
    }

    /** The machine, powered on with {@link #config()} the first time a statement needs it. */
    public dev.memcrypt.hw.Machine machine() {
        return state(dev.memcrypt.hw.Machine.class, () -> dev.memcrypt.hw.Machine.powerOn(config));
    }

    /** The machine if a statement has powered it on. */
    public Optional<dev.memcrypt.hw.Machine> machineIfOn() {
        return existingState(dev.memcrypt.hw.Machine.class);
    }

    /** The line now running (for messages of statements). */
    public int line() {
        return line;
    }

    void setLine(int line) {
        this.line = line;
    }

    /**
     * Declares that the end-of-script check {@code check} must find a violation: the script
     * deliberately breaks a rule (the flush rules) and leaves the machine that way.
     */
    public void expectViolationAtEnd(String check) {
        expectedViolations.add(check);
    }

    public boolean violationExpectedAtEnd(String check) {
        return expectedViolations.contains(check);
    }

    /** The value bound to {@code name}. */
    public Value lookup(String name) {
        Value v = bindings.get(name);
        if (v == null) throw new ScriptSyntaxException(line, "$" + name + " is not bound");
        return v;
    }

    public void bind(String name, Value v) {
        bindings.put(name, v);
    }

    /** All bindings, in binding order. */
    public Map<String, Value> bindings() {
        return Map.copyOf(bindings);
    }

    /** The state object of {@code type}, created by {@code init} on first use. */
    public <T> T state(Class<T> type, Supplier<? extends T> init) {
        Object o = state.get(type);
        if (o == null) {
            o = init.get();
            state.put(type, o);
        }
        return type.cast(o);
    }

    /** The state object of {@code type} if it was created. */
    public <T> Optional<T> existingState(Class<T> type) {
        return Optional.ofNullable(type.cast(state.get(type)));
    }

    /** Replaces (or with null removes) the state object of {@code type}. */
    public <T> void setState(Class<T> type, T value) {
        if (value == null) state.remove(type);
        else state.put(type, value);
    }
}
