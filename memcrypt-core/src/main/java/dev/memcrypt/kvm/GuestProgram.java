package dev.memcrypt.kvm;

/** Guest code: runs on a vCPU through the instructions {@link GuestCpu} offers. */
@FunctionalInterface
public interface GuestProgram {
    void run(GuestCpu cpu);
}
