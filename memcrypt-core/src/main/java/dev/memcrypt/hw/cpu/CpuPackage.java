package dev.memcrypt.hw.cpu;

import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.hw.controller.MemoryController;
import java.util.List;

/** One physical package (socket): its cores, its MKTME key table and memory controller. */
public final class CpuPackage {
    private final int id;
    private final KeyTable keyTable;
    private final MemoryController controller;
    private List<Core> cores = List.of();
    private boolean powered = true;
    private int busyHolder = -1;

    public CpuPackage(int id, KeyTable keyTable, MemoryController controller) {
        this.id = id;
        this.keyTable = keyTable;
        this.controller = controller;
    }

    public int id() {
        return id;
    }

    public KeyTable keyTable() {
        return keyTable;
    }

    public MemoryController controller() {
        return controller;
    }

    public List<Core> cores() {
        return cores;
    }

    public void setCores(List<Core> cs) {
        cores = List.copyOf(cs);
    }

    /** Powered while at least one of its cores is online. */
    public boolean powered() {
        return powered;
    }

    public void setPowered(boolean p) {
        powered = p;
    }

    /**
     * Test hook: pretends core {@code coreId} of this package is in the middle of a PCONFIG, holding
     * the key-table lock, so PCONFIG on any other core of the package returns DEVICE_BUSY until the
     * returned handle is closed. Deterministic stand-in for two cores racing.
     */
    public AutoCloseable holdKeyTableLock(int coreId) {
        if (busyHolder >= 0) throw new IllegalStateException("key table lock of package " + id + " already held by core " + busyHolder);
        busyHolder = coreId;
        return () -> busyHolder = -1;
    }

    /** Core holding the programming lock through the test hook, or -1. */
    int busyHolder() {
        return busyHolder;
    }
}
