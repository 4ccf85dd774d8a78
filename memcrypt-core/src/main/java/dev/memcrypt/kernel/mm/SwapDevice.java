package dev.memcrypt.kernel.mm;

import dev.memcrypt.crypto.LineTweak;
import dev.memcrypt.crypto.XtsEngine;
import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.Entropy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A modelled swap device: 4 KiB slots with use counts (a slot is shared after fork).
 *
 * <p>Design note: the RFC (seed 001) leaves swap alone: the kernel reads a page through its
 * KeyID's direct mapping before writing it out, so the swap device holds <em>plaintext</em>
 * unless swap itself is encrypted. That is the default here. {@code encrypted = true} models
 * encrypted swap (dm-crypt with a random key per boot): slots are XTS-AES-128 encrypted with an
 * ephemeral key, tweaked by slot number; the key is wiped by {@link #destroy()}.
 */
public final class SwapDevice {
    private final List<byte[]> slots = new ArrayList<>();
    private final List<Integer> counts = new ArrayList<>();
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final boolean encrypted;
    private final XtsKey key;
    private final XtsEngine engine;
    private long writes, reads;

    public SwapDevice(boolean encrypted, Entropy entropy, XtsEngine engine) {
        this.encrypted = encrypted;
        this.engine = engine;
        if (encrypted) {
            byte[] k = new byte[32];
            if (!entropy.fill(k)) throw new IllegalStateException("no entropy for the swap key");
            key = XtsKey.of(k);
            Arrays.fill(k, (byte) 0);
        } else {
            key = null;
        }
    }

    public boolean encrypted() {
        return encrypted;
    }

    /** Writes a page, returning its slot (use count 1). */
    int write(byte[] page) {
        byte[] stored = page.clone();
        if (encrypted) {
            int s = free.isEmpty() ? slots.size() : free.peekFirst();
            engine.encryptLines(key, LineTweak.NONE, (long) s << 12, stored, 0, stored, 0, 64);
        }
        writes++;
        Integer f = free.pollFirst();
        if (f != null) {
            slots.set(f, stored);
            counts.set(f, 1);
            return f;
        }
        slots.add(stored);
        counts.add(1);
        return slots.size() - 1;
    }

    /** Reads a slot back as plaintext. */
    byte[] read(int slot) {
        check(slot);
        reads++;
        byte[] b = slots.get(slot).clone();
        if (encrypted) engine.decryptLines(key, LineTweak.NONE, (long) slot << 12, b, 0, b, 0, 64);
        return b;
    }

    void dup(int slot) {
        check(slot);
        counts.set(slot, counts.get(slot) + 1);
    }

    void put(int slot) {
        check(slot);
        int c = counts.get(slot) - 1;
        counts.set(slot, c);
        if (c == 0) {
            Arrays.fill(slots.get(slot), (byte) 0);
            slots.set(slot, null);
            free.addFirst(slot);
        }
    }

    /** The raw bytes stored in a slot (what someone reading the swap device sees). */
    public byte[] raw(int slot) {
        check(slot);
        return slots.get(slot).clone();
    }

    /** Slots in use. */
    public int used() {
        return slots.size() - free.size();
    }

    public long writes() {
        return writes;
    }

    public long reads() {
        return reads;
    }

    public void destroy() {
        if (key != null) key.destroy();
    }

    private void check(int slot) {
        if (slot < 0 || slot >= slots.size() || slots.get(slot) == null) throw new IllegalArgumentException("swap slot " + slot + " is not in use");
    }
}
