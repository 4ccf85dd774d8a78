package dev.memcrypt.kernel.mm;

import static dev.memcrypt.kernel.mm.Mman.PAGE;

import dev.memcrypt.hw.Machine;
import dev.memcrypt.hw.cpu.Core;
import dev.memcrypt.hw.cpu.PageFault;
import dev.memcrypt.hw.mmu.FrameAllocator;
import dev.memcrypt.hw.mmu.Mmu;
import dev.memcrypt.hw.mmu.PageTableBuilder;
import dev.memcrypt.hw.mmu.Pte;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.boot.Kernel;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyPerm;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyIds;
import dev.memcrypt.kernel.keys.mktme.MktmeKeyType;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The memory manager of the model kernel: processes and their address spaces, the physical page
 * allocator, tmpfs/memfd files, swap, the persistent-memory namespace, the kernel's per-KeyID
 * direct map, and encrypt_mprotect() (SPEC-FACTS §2) on top of the key service's mktme type.
 *
 * <p>Design notes.
 * <ul>
 * <li>One counter: KeyID references taken by VMAs and files are taken in the mktme type's own
 *     {@link MktmeKeyIds} map, so the key service's EBUSY (update of a referenced KeyID) and the
 *     KeyID's return to the free pool after invalidate + munmap follow from the same numbers.
 * <li>User accesses ({@link #store}, {@link #load}) run on core {@link #kcpu} at CPL 3 through its
 *     MMU with the process's CR3; a #PF goes to the fault handler, which installs the page and the
 *     access is retried, or raises SIGSEGV/SIGBUS ({@link SegvException}).
 * <li>Kernel accesses to user memory (copy_to_user, copy_from_user, get_user_pages, swap) go
 *     through the direct map <em>of the page's KeyID</em> (physical accesses under that KeyID).
 *     {@link #aliasRead} reads through the KeyID-0 direct map instead: Andy Lutomirski's hazard
 *     (seed 001), which returns ciphertext decrypted with the wrong key.
 * <li>Physical memory layout: [1 MiB, pmemBase) is managed by the page allocator (data pages and
 *     page tables); [pmemBase, scratch) is the persistent-memory namespace, never handed out.
 * </ul>
 * Not thread-safe (like the machine it drives).
 */
public final class MmKernel {
    /** Boot options. {@code pmemFile} null: no persistent memory. */
    public record Options(boolean encryptedSwap, Path pmemFile, long pmemBytes, boolean saveKeys, InstantSource clock, long serialSeed) {
        public static Options defaults() {
            return new Options(false, null, 16L << 20, false, InstantSource.fixed(java.time.Instant.parse("2026-01-01T00:00:00Z")), 1);
        }

        public Options withPmem(Path file, long bytes) {
            return new Options(encryptedSwap, file, bytes, saveKeys, clock, serialSeed);
        }

        public Options withEncryptedSwap(boolean on) {
            return new Options(on, pmemFile, pmemBytes, saveKeys, clock, serialSeed);
        }
    }

    final Machine machine;
    final KeyService keys;
    final MktmeKeyType mktme;
    final PageAllocator pages;
    final SwapDevice swap;
    final int kcpu = 0;
    private final FrameAllocator frames;
    private final TreeMap<Integer, Process> procs = new TreeMap<>();
    private final Map<String, ShmemFile> tmpfs = new TreeMap<>();
    private final List<ShmemFile> liveFiles = new ArrayList<>();
    private final PmemDevice pmem;
    private Process current;

    private MmKernel(Machine machine, KeyService keys, MktmeKeyType mktme, Options o) throws IOException {
        this.machine = machine;
        this.keys = keys;
        this.mktme = mktme;
        long top = machine.frameAllocator().end();
        long pmemBytes = o.pmemFile() == null ? 0 : o.pmemBytes();
        if ((pmemBytes & (PAGE - 1)) != 0 || pmemBytes < 0) throw new IllegalArgumentException("pmem size must be page-aligned: " + pmemBytes);
        long pmemBase = (top - pmemBytes) & ~((1L << 21) - 1);
        this.frames = new FrameAllocator(1L << 20, pmemBytes == 0 ? top : pmemBase);
        this.pages = new PageAllocator(machine, kcpu, frames);
        this.swap = new SwapDevice(o.encryptedSwap(), machine.entropy(), machine.engine());
        this.pmem = pmemBytes == 0 ? null : PmemDevice.attach(machine, pmemBase, pmemBytes, o.pmemFile());
    }

    /**
     * Boots the kernel on a powered-on machine: a key service with the mktme type over the machine's
     * PCONFIG (KeyIDs 1..IA32_MKTME_KEYID_PARTITIONING), then the memory manager.
     */
    public static MmKernel boot(Machine m, Options o) {
        return attach(Kernel.boot(m, o.saveKeys() ? "mktme_savekeys" : "", o.clock(), o.serialSeed()), o);
    }

    /** The memory manager on a booted {@link Kernel} (its key service and mktme type). */
    public static MmKernel attach(Kernel kernel, Options o) {
        return attach(kernel.machine(), kernel.keys(), kernel.mktme(), o);
    }

    public static MmKernel boot(Machine m) {
        return boot(m, Options.defaults());
    }

    /** The memory manager over an already booted key service; {@code type} may be null (no MKTME: encrypt_mprotect is ENOKEY). */
    public static MmKernel attach(Machine m, KeyService svc, MktmeKeyType type, Options o) {
        try {
            return new MmKernel(m, svc, type, o);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public Machine machine() {
        return machine;
    }

    public KeyService keys() {
        return keys;
    }

    public MktmeKeyType mktme() {
        return mktme;
    }

    /** The mktme KeyID map (an empty one when MKTME is off). */
    public MktmeKeyIds keyIds() {
        return mktme != null ? mktme.keyIds() : NO_KEYIDS;
    }

    private static final MktmeKeyIds NO_KEYIDS = new MktmeKeyIds(0);

    public PageAllocator pageAllocator() {
        return pages;
    }

    public SwapDevice swapDevice() {
        return swap;
    }

    public PmemDevice pmem() {
        return pmem;
    }

    FrameAllocator tableFrames() {
        return frames;
    }

    // ------------------------------------------------------------------ processes

    /** A new process (a login shell) with an empty address space. It becomes current if none is. */
    public Process spawn(Cred cred) {
        return adopt(Process.spawn(cred));
    }

    /**
     * Gives a process created elsewhere (the kernel's init, a task of a script's {@code as}) an
     * empty address space and file table, if it has none, and manages it from now on. It becomes
     * current if none is.
     */
    public Process adopt(Process p) {
        if (p.exited()) throw new IllegalArgumentException("process " + p.pid() + " has exited");
        if (p.mm() == null) {
            p.setMm(new AddressSpace(this));
            p.setFiles(new FdTable());
        }
        procs.put(p.pid(), p);
        if (current == null) current = p;
        return p;
    }

    /** Makes {@code p} the running process (adopting it if needed). */
    public Process makeCurrent(Process p) {
        adopt(p);
        current = p;
        return p;
    }

    /** fork(): the child shares private pages copy-on-write, inherits the session keyring and descriptors. */
    public Process fork(Process parent) throws ErrnoException {
        alive(parent);
        Process c = Process.forkOf(parent, parent.mainThread().cred());
        c.setMm(parent.mm().dup());
        FdTable f = new FdTable();
        for (var e : parent.files().fds.entrySet()) {
            f.fds.put(e.getKey(), e.getValue());
            e.getValue().refs++;
        }
        c.setFiles(f);
        Key session = parent.sessionKeyring();
        if (session != null) {
            Key s = keys.acquire(session.serial());
            if (s != null) c.setSessionKeyring(s);
        }
        procs.put(c.pid(), c);
        return c;
    }

    /** exit(): address space, descriptors and keyrings released. */
    public void exit(Process p, int code) throws ErrnoException {
        alive(p);
        AddressSpace mm = p.mm();
        for (Core c : machine.cores()) {
            if (c.online() && c.mmu().cr3() == mm.cr3()) c.mmu().reset();
        }
        mm.destroy();
        p.setMm(null);
        for (ShmemFile f : p.files().fds.values()) putFile(f);
        p.files().fds.clear();
        keys.exitProcess(p);
        p.markExited(code);
        procs.remove(p.pid());
        if (current == p) current = procs.isEmpty() ? null : procs.firstEntry().getValue();
    }

    public Process current() {
        return current;
    }

    /** Makes {@code pid} the running process (scripts' {@code switch PID}). */
    public Process switchTo(int pid) throws ErrnoException {
        Process p = procs.get(pid);
        if (p == null) throw new ErrnoException(Errno.ESRCH, "no process " + pid);
        current = p;
        return p;
    }

    public Process process(int pid) {
        return procs.get(pid);
    }

    public List<Process> processes() {
        return List.copyOf(procs.values());
    }

    private static void alive(Process p) throws ErrnoException {
        if (p == null || p.exited() || p.mm() == null) throw new ErrnoException(Errno.ESRCH, "process has exited");
    }

    // ------------------------------------------------------------------ memory system calls

    public long mmap(Process p, long addr, long len, int prot, int flags, int fd, long off) throws ErrnoException {
        alive(p);
        ShmemFile f = null;
        if ((flags & Mman.MAP_ANONYMOUS) == 0) {
            f = p.files().get(fd);
            if (f == null) throw new ErrnoException(Errno.EBADF, "fd " + fd + " is not open");
        }
        return p.mm().mmap(addr, len, prot, flags, f, off);
    }

    public void munmap(Process p, long addr, long len) throws ErrnoException {
        alive(p);
        p.mm().munmap(addr, len);
    }

    public void mprotect(Process p, long addr, long len, int prot) throws ErrnoException {
        alive(p);
        p.mm().mprotect(addr, len, prot, -1);
    }

    public void pkeyMprotect(Process p, long addr, long len, int prot, int pkey) throws ErrnoException {
        alive(p);
        if (pkey < -1) throw new ErrnoException(Errno.EINVAL, "bad protection key " + pkey);
        p.mm().mprotect(addr, len, prot, pkey);
    }

    public int pkeyAlloc(Process p) throws ErrnoException {
        return pkeyAlloc(p, 0, 0);
    }

    /** pkey_alloc(2) with flags and initial access rights (PKEY_DISABLE_ACCESS 0x1, PKEY_DISABLE_WRITE 0x2). */
    public int pkeyAlloc(Process p, int flags, int rights) throws ErrnoException {
        alive(p);
        return p.mm().pkeyAlloc(flags, rights);
    }

    /** WRPKRU executed by {@code p} in user mode (#GP/#UD as the instruction gives them). */
    public void wrpkru(Process p, long eax, long ecx, long edx) throws ErrnoException {
        Core c = machine.core(kcpu);
        enter(p);
        try {
            c.wrpkru(eax, ecx, edx);
            p.mm().pkru = c.pkru();
        } finally {
            c.setCpl(0);
        }
    }

    /** RDPKRU executed by {@code p} in user mode. */
    public int rdpkru(Process p, long ecx) throws ErrnoException {
        Core c = machine.core(kcpu);
        enter(p);
        try {
            return c.rdpkru(ecx);
        } finally {
            c.setCpl(0);
        }
    }

    public void pkeyFree(Process p, int pkey) throws ErrnoException {
        alive(p);
        p.mm().pkeyFree(pkey);
    }

    public void madvise(Process p, long addr, long len, int advice) throws ErrnoException {
        alive(p);
        p.mm().madvise(addr, len, advice);
    }

    public long mremap(Process p, long old, long oldLen, long newLen, int flags, long newAddr) throws ErrnoException {
        alive(p);
        return p.mm().mremap(old, oldLen, newLen, flags, newAddr);
    }

    /**
     * encrypt_mprotect(addr, len, prot, serial) (SPEC-FACTS §2, Documentation/x86/mktme/mktme_encrypt.rst):
     * EINVAL if addr or len is not page-aligned; the key is looked up with KEY_NEED_VIEW (EACCES
     * without it; ENOKEY if the serial is not a valid, instantiated mktme key); then the range must
     * be mapped (ENOMEM) by private anonymous memory only (EINVAL for the whole call otherwise).
     * The key reference taken by the lookup is held across the call so the KeyID cannot be
     * released meanwhile.
     */
    public void encryptMprotect(Task t, long addr, long len, int prot, int serial) throws ErrnoException {
        Process p = t.process();
        alive(p);
        if (!Mman.aligned(addr) || !Mman.aligned(len)) throw new ErrnoException(Errno.EINVAL, "address or length not page-aligned");
        int keyId;
        Key key = lookupMktme(t, serial);
        try {
            keyId = MktmeKeyType.keyIdOf(key);
            p.mm().encryptMprotect(addr, len, prot, keyId);
        } finally {
            keys.release(key);
        }
    }

    private Key lookupMktme(Task t, int serial) throws ErrnoException {
        Key key;
        try {
            key = keys.lookupForTask(t, serial, KeyPerm.VIEW);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EACCES) throw e;
            throw new ErrnoException(Errno.ENOKEY, "serial " + serial + " is not a valid mktme key (" + e.errno() + ")");
        }
        if (mktme == null || key.type() != mktme || !key.isPositive() || MktmeKeyType.keyIdOf(key) == 0) {
            keys.release(key);
            throw new ErrnoException(Errno.ENOKEY, "serial " + serial + " is not a valid mktme key");
        }
        return key;
    }

    // ------------------------------------------------------------------ files: tmpfs, memfd, pmem

    ShmemFile newShmem(String name, ShmemFile.Kind kind, long size) {
        ShmemFile f = new ShmemFile(name, kind, size, kind == ShmemFile.Kind.PMEM ? pmem.base() : -1);
        f.refs = 1;
        liveFiles.add(f);
        return f;
    }

    /** memfd_create(2): an anonymous in-memory file of size 0. Returns the descriptor. */
    public int memfdCreate(Process p, String name, int flags) throws ErrnoException {
        alive(p);
        if ((flags & ~(Mman.MFD_CLOEXEC | Mman.MFD_ALLOW_SEALING)) != 0) throw new ErrnoException(Errno.EINVAL, "unknown memfd flags");
        if (name.length() > 249) throw new ErrnoException(Errno.EINVAL, "name too long");
        return p.files().install(newShmem(name, ShmemFile.Kind.MEMFD, 0));
    }

    /**
     * The memfd alternative of seeds 001/003 (model API: an ioctl-like call on the descriptor):
     * sets the file's MKTME key. It must come before the file is sized (EBUSY otherwise, or if a
     * key is already set); the key rules are encrypt_mprotect's (ENOKEY, EACCES). The file holds
     * a reference on the KeyID until it is freed.
     */
    public void memfdSetKey(Task t, int fd, int serial) throws ErrnoException {
        Process p = t.process();
        alive(p);
        ShmemFile f = p.files().get(fd);
        if (f == null) throw new ErrnoException(Errno.EBADF, "fd " + fd + " is not open");
        if (f.kind != ShmemFile.Kind.MEMFD) throw new ErrnoException(Errno.EINVAL, "not a memfd");
        Key key = lookupMktme(t, serial);
        try {
            if (f.size != 0 || f.keyId != 0 || !f.pages.isEmpty()) throw new ErrnoException(Errno.EBUSY, "the key must be set before the file is sized");
            f.keyId = MktmeKeyType.keyIdOf(key);
            f.keySerial = serial;
            keyIds().get(f.keyId);
        } finally {
            keys.release(key);
        }
    }

    /** open(2) of /tmp/NAME on the in-memory file system (O_CREAT creates it). */
    public int open(Process p, String name, int flags) throws ErrnoException {
        alive(p);
        ShmemFile f = tmpfs.get(name);
        if (f == null) {
            if ((flags & Mman.O_CREAT) == 0) throw new ErrnoException(Errno.ENOENT, "/tmp/" + name);
            f = newShmem(name, ShmemFile.Kind.TMPFS, 0);
            f.linked = true;
            f.refs = 0;
            tmpfs.put(name, f);
        }
        f.refs++;
        return p.files().install(f);
    }

    public void close(Process p, int fd) throws ErrnoException {
        alive(p);
        ShmemFile f = p.files().fds.remove(fd);
        if (f == null) throw new ErrnoException(Errno.EBADF, "fd " + fd + " is not open");
        putFile(f);
    }

    /** ftruncate(2): pages beyond the new size are dropped. */
    public void ftruncate(Process p, int fd, long size) throws ErrnoException {
        alive(p);
        ShmemFile f = file(p, fd);
        if (size < 0) throw new ErrnoException(Errno.EINVAL, "negative size");
        if (f.kind == ShmemFile.Kind.PMEM) throw new ErrnoException(Errno.EINVAL, "a pmem namespace has a fixed size");
        if (size > (1L << 40)) throw new ErrnoException(Errno.EFBIG, "file too large");
        long keep = Mman.pageAlign(size) >>> 12;
        for (Page pg : new ArrayList<>(f.pages.tailMap(keep).values())) {
            f.pages.values().remove(pg);
            pages.free(pg);
        }
        f.size = size;
    }

    /** pwrite(2): through the file's KeyID (the kernel's direct map of that KeyID). Extends the file. */
    public int pwrite(Process p, int fd, long off, byte[] data) throws ErrnoException {
        alive(p);
        ShmemFile f = file(p, fd);
        if (off < 0) throw new ErrnoException(Errno.EINVAL, "negative offset");
        if (f.kind == ShmemFile.Kind.PMEM && off + data.length > f.size) throw new ErrnoException(Errno.ENOSPC, "beyond the namespace");
        int done = 0;
        while (done < data.length) {
            long pos = off + done;
            int n = (int) Math.min(data.length - done, PAGE - (pos & (PAGE - 1)));
            Page pg = filePage(f, pos >>> 12);
            byte[] chunk = java.util.Arrays.copyOfRange(data, done, done + n);
            machine.pstore(kcpu, pg.pa + (pos & (PAGE - 1)), pg.keyId, chunk);
            done += n;
        }
        f.size = Math.max(f.size, off + data.length);
        return done;
    }

    /** pread(2): through the file's KeyID. Short at end of file. */
    public byte[] pread(Process p, int fd, long off, int len) throws ErrnoException {
        alive(p);
        ShmemFile f = file(p, fd);
        if (off < 0 || len < 0) throw new ErrnoException(Errno.EINVAL, "negative offset or length");
        int n = (int) Math.max(0, Math.min(len, f.size - off));
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            long pos = off + done;
            int c = (int) Math.min(n - done, PAGE - (pos & (PAGE - 1)));
            Page pg = f.pages.get(pos >>> 12);
            if (pg == null && f.kind == ShmemFile.Kind.PMEM) pg = filePage(f, pos >>> 12);
            if (pg != null) System.arraycopy(machine.pload(kcpu, pg.pa + (pos & (PAGE - 1)), pg.keyId, c), 0, out, done, c);
            done += c;
        }
        return out;
    }

    private static ShmemFile file(Process p, int fd) throws ErrnoException {
        ShmemFile f = p.files().get(fd);
        if (f == null) throw new ErrnoException(Errno.EBADF, "fd " + fd + " is not open");
        return f;
    }

    /**
     * Opens the persistent-memory namespace encrypted with an mktme key, like dm-crypt over a pmem
     * device (seed 003): its pages are accessed under the key's KeyID. Use a {@code type=user} key
     * to read the data again after a restart (a cpu key is random per boot). ENODEV without pmem.
     */
    public int pmemOpen(Task t, int serial) throws ErrnoException {
        Process p = t.process();
        alive(p);
        if (pmem == null) throw new ErrnoException(Errno.ENODEV, "no persistent memory configured");
        Key key = lookupMktme(t, serial);
        try {
            ShmemFile f = newShmem("pmem0", ShmemFile.Kind.PMEM, pmem.size());
            f.keyId = MktmeKeyType.keyIdOf(key);
            f.keySerial = serial;
            keyIds().get(f.keyId);
            return p.files().install(f);
        } finally {
            keys.release(key);
        }
    }

    /** Writes the namespace back to its backing file (WBINVD on every package first). */
    public void pmemSync() throws IOException {
        if (pmem == null) throw new IllegalStateException("no persistent memory configured");
        machine.wbinvdAll();
        pmem.sync();
    }

    /** The page of file {@code f} at page index {@code idx}, allocated zeroed under the file's KeyID if absent. */
    Page filePage(ShmemFile f, long idx) {
        Page pg = f.pages.get(idx);
        if (pg == null) {
            if (f.kind == ShmemFile.Kind.PMEM) {
                if ((idx << 12) >= f.size) throw new IllegalArgumentException("beyond the namespace");
                pg = new Page(f.fixedBase + (idx << 12), f.keyId, true);
            } else {
                pg = pages.alloc(f.keyId);
            }
            f.pages.put(idx, pg);
        }
        return pg;
    }

    void putFile(ShmemFile f) {
        if (--f.refs > 0 || f.linked) return;
        for (Page pg : f.pages.values()) pages.free(pg);
        f.pages.clear();
        if (f.keyId != 0) keyIds().put(f.keyId);
        f.keyId = 0;
        liveFiles.remove(f);
    }

    void putAnon(Page pg) {
        if (--pg.mapCount == 0) pages.free(pg);
    }

    void copyPage(Page src, Page dst) {
        byte[] b = machine.pload(kcpu, src.pa, src.keyId, (int) PAGE);
        machine.pstore(kcpu, dst.pa, dst.keyId, b);
        java.util.Arrays.fill(b, (byte) 0);
    }

    /** TLB shootdown: INVLPG on every online core. */
    void shootdown(long va) {
        for (Core c : machine.cores()) if (c.online()) c.mmu().invlpg(va);
    }

    /** Frees the page-table pages of an address space (walking the tables in DRAM). */
    void freeTables(PageTableBuilder pt) {
        freeTable(machine.paOf(pt.cr3() & Pte.addrMask(machine.config().maxPhysAddr())), 4);
    }

    private void freeTable(long table, int level) {
        if (level > 1) {
            long mask = Pte.addrMask(machine.config().maxPhysAddr());
            for (int i = 0; i < 512; i++) {
                long e = machine.pload64(kcpu, table + 8L * i, 0);
                if ((e & Pte.P) != 0 && (e & Pte.PS) == 0) freeTable(machine.paOf(e & mask), level - 1);
            }
        }
        pages.freeFrame(table);
    }

    // ------------------------------------------------------------------ user access (through the MMU)

    private Mmu enter(Process p) throws ErrnoException {
        alive(p);
        Core c = machine.core(kcpu);
        Mmu mmu = c.mmu();
        if (mmu.cr3() != p.mm().cr3()) mmu.writeCr3(p.mm().cr3());
        if ((c.cr4() & Core.CR4_PKE) == 0) c.writeCr4(c.cr4() | Core.CR4_PKE); // Linux enables protection keys on every CPU with PKU
        if (c.pkru() != p.mm().pkru) c.wrpkru(p.mm().pkru, 0, 0); // the context switch restores the task's PKRU
        c.setCpl(3);
        return mmu;
    }

    /** A #PF with the PK bit is not fixable by the fault handler: SIGSEGV with si_code SEGV_PKUERR, as Linux sends. */
    private static void pkeyFault(PageFault pf) {
        if ((pf.errorCode() & PageFault.PK) != 0) throw new SegvException("SIGSEGV", pf.cr2(), "SEGV_PKUERR: " + pf.reason());
    }

    /** A user-mode store by {@code p} (core {@link #kcpu}, CPL 3): faults are handled, or SIGSEGV. */
    public void store(Process p, long va, byte[] data) throws ErrnoException {
        userAccess(p, va, data, true);
    }

    /** A user-mode load by {@code p}. */
    public byte[] load(Process p, long va, int len) throws ErrnoException {
        byte[] out = new byte[len];
        load(p, va, out);
        return out;
    }

    /** A user-mode load by {@code p} into {@code out} (its whole length). */
    public void load(Process p, long va, byte[] out) throws ErrnoException {
        userAccess(p, va, out, false);
    }

    /**
     * A user-mode store of {@code buf} or load into it, page by page on core {@link #kcpu} at CPL 3:
     * each #PF goes to the fault handler and the page's access is retried; SIGSEGV/SIGBUS escape.
     */
    private void userAccess(Process p, long va, byte[] buf, boolean write) throws ErrnoException {
        Mmu mmu = enter(p);
        try {
            for (int done = 0; done < buf.length; ) {
                long a = va + done;
                int n = (int) Math.min(buf.length - done, PAGE - (a & (PAGE - 1)));
                while (true) {
                    try {
                        if (write) mmu.store(a, buf, done, n);
                        else mmu.load(a, buf, done, n, Mmu.Access.READ);
                        break;
                    } catch (PageFault pf) {
                        pkeyFault(pf);
                        p.mm().fault(pf.cr2(), write);
                    }
                }
                done += n;
            }
        } finally {
            machine.core(kcpu).setCpl(0);
        }
    }

    // ------------------------------------------------------------------ kernel access: the direct map per KeyID

    /** get_user_pages(): faults the page in (honouring the VMA's permissions) and returns it. */
    public Page getUserPage(Process p, long va, boolean write) throws ErrnoException {
        alive(p);
        AddressSpace mm = p.mm();
        AddressSpace.Slot s = mm.slotAt(va);
        Vma v = mm.find(va);
        if (v == null) throw new ErrnoException(Errno.EFAULT, String.format("0x%x is not mapped", va));
        boolean needFault = s == null || s.page == null || (write && s.anon && s.page.mapCount > 1) || (write && !s.anon && !v.shared);
        try {
            if (needFault) mm.fault(va, write);
            else if (write ? (v.prot & Mman.PROT_WRITE) == 0 : v.prot == 0) throw new SegvException("SIGSEGV", va, "access forbidden");
        } catch (SegvException e) {
            throw new ErrnoException(Errno.EFAULT, e.getMessage());
        }
        return mm.pageAt(va);
    }

    /** copy_to_user(): writes through the direct map of each page's KeyID. EFAULT on a bad address. */
    public void copyToUser(Process p, long va, byte[] data) throws ErrnoException {
        for (int done = 0; done < data.length; ) {
            long a = va + done;
            int n = (int) Math.min(data.length - done, PAGE - (a & (PAGE - 1)));
            Page pg = getUserPage(p, a, true);
            machine.pstore(kcpu, pg.pa + (a & (PAGE - 1)), pg.keyId, java.util.Arrays.copyOfRange(data, done, done + n));
            done += n;
        }
    }

    /** copy_from_user(): reads through the direct map of each page's KeyID. */
    public byte[] copyFromUser(Process p, long va, int len) throws ErrnoException {
        byte[] out = new byte[len];
        for (int done = 0; done < len; ) {
            long a = va + done;
            int n = (int) Math.min(len - done, PAGE - (a & (PAGE - 1)));
            Page pg = getUserPage(p, a, false);
            System.arraycopy(machine.pload(kcpu, pg.pa + (a & (PAGE - 1)), pg.keyId, n), 0, out, done, n);
            done += n;
        }
        return out;
    }

    /**
     * The hazard: the kernel reads user memory through the KeyID-0 direct map (what a kernel that
     * ignores page KeyIDs, or a single direct map, would do). The line is a different cache line
     * from the KeyID-N one, so the read goes to DRAM and decrypts ciphertext with the TME key:
     * wrong bytes. The line is flushed again afterwards so the KeyID-0 alias leaves nothing cached.
     */
    public byte[] aliasRead(Process p, long va, int len) throws ErrnoException {
        byte[] out = new byte[len];
        for (int done = 0; done < len; ) {
            long a = va + done;
            int n = (int) Math.min(len - done, PAGE - (a & (PAGE - 1)));
            Page pg = getUserPage(p, a, false);
            long pa = pg.pa + (a & (PAGE - 1));
            System.arraycopy(machine.pload(kcpu, pa, 0, n), 0, out, done, n);
            machine.clflushRange(kcpu, pa, 0, n);
            done += n;
        }
        return out;
    }

    // ------------------------------------------------------------------ views

    /** The KeyID of the VMA containing {@code va} (EFAULT if unmapped). */
    public int keyIdAt(Process p, long va) throws ErrnoException {
        alive(p);
        Vma v = p.mm().find(va);
        if (v == null) throw new ErrnoException(Errno.EFAULT, String.format("0x%x is not mapped", va));
        return v.keyId;
    }

    /**
     * The DRAM bytes behind [va, va+len): the lines are first written back (CLFLUSH under the page's
     * KeyID) when {@code flush}, so DRAM shows what the memory controller stored. Pages are faulted
     * in like get_user_pages.
     */
    public byte[] vdram(Process p, long va, int len, boolean flush) throws ErrnoException {
        byte[] out = new byte[len];
        for (int done = 0; done < len; ) {
            long a = va + done;
            int n = (int) Math.min(len - done, PAGE - (a & (PAGE - 1)));
            Page pg = getUserPage(p, a, false);
            long pa = pg.pa + (a & (PAGE - 1));
            if (flush) machine.clflushRange(kcpu, pa, pg.keyId, n);
            System.arraycopy(machine.dram().read(pa, n), 0, out, done, n);
            done += n;
        }
        return out;
    }

    /** /proc/PID/smaps with the RFC's {@code KeyID:} line. */
    public String smaps(Process p) throws ErrnoException {
        alive(p);
        return Smaps.render(p.mm());
    }

    /** The translation view: one line per resident page, "VA -> PA keyid=N [flags]" read from the page tables in DRAM. */
    public String translations(Process p) throws ErrnoException {
        alive(p);
        return Smaps.translations(p.mm(), machine);
    }

    /** Pages swapped out by MADV_PAGEOUT for {@code p} in [va, va+len). */
    public int swapped(Process p, long va, long len) {
        int n = 0;
        for (AddressSpace.Slot s : p.mm().slots.subMap(va >>> 12, (va + len + PAGE - 1) >>> 12).values()) if (s.swap >= 0) n++;
        return n;
    }

    /** The swap slot holding {@code va}, or -1. */
    public int swapSlot(Process p, long va) {
        AddressSpace.Slot s = p.mm().slotAt(va);
        return s == null ? -1 : s.swap;
    }

    // ------------------------------------------------------------------ invariants

    /**
     * The memory manager's invariants (property tests and scripts' end check): every KeyID's
     * reference count equals the VMAs using it + one if a live key owns it + files using it; every
     * resident page of a VMA is under that VMA's KeyID (anonymous) or its file's KeyID, and every
     * installed PTE maps it under that KeyID; every page state lies inside a VMA.
     */
    public List<String> checkInvariants() {
        return checkInvariants(Map.of());
    }

    /**
     * {@link #checkInvariants()} with references other holders take on KeyIDs through the same
     * counter (by KeyID), e.g. the VMs of a hypervisor on this kernel.
     */
    public List<String> checkInvariants(Map<Integer, Integer> otherRefs) {
        List<String> out = new ArrayList<>();
        MktmeKeyIds ids = keyIds();
        Map<Integer, Integer> expect = new HashMap<>(otherRefs);
        for (Process p : procs.values()) {
            for (Vma v : p.mm().vmas.values()) if (v.keyId != 0) expect.merge(v.keyId, 1, Integer::sum);
        }
        for (ShmemFile f : liveFiles) if (f.keyId != 0) expect.merge(f.keyId, 1, Integer::sum);
        MktmeKeyIds.Snapshot snap = ids.snapshot();
        for (int id = 1; id <= ids.nrKeyIds(); id++) {
            int want = expect.getOrDefault(id, 0) + (snap.states()[id] == MktmeKeyIds.State.ASSIGNED ? 1 : 0);
            if (snap.refs()[id] != want) out.add("KeyID " + id + ": " + snap.refs()[id] + " references, expected " + want + " (" + snap.states()[id] + ")");
        }
        int maxPhys = machine.config().maxPhysAddr();
        for (Process p : procs.values()) {
            AddressSpace mm = p.mm();
            for (String x : mm.checkStructure()) out.add("pid " + p.pid() + ": " + x);
            for (var e : mm.slots.entrySet()) {
                long va = e.getKey() << 12;
                AddressSpace.Slot s = e.getValue();
                Vma v = mm.find(va);
                if (v == null) {
                    out.add(String.format("pid %d: page state at 0x%x outside every VMA", p.pid(), va));
                    continue;
                }
                if (s.page == null) continue;
                int want = s.anon ? v.keyId : v.file.keyId;
                if (s.page.keyId != want) out.add(String.format("pid %d: page at 0x%x under KeyID %d, its VMA's is %d", p.pid(), va, s.page.keyId, want));
                if (s.mapped) {
                    long pte = mm.pte(va);
                    long full = pte & Pte.addrMask(maxPhys);
                    if ((pte & Pte.P) == 0 || machine.keyIdOf(full) != want || machine.paOf(full) != s.page.pa) {
                        out.add(String.format("pid %d: PTE 0x%x at 0x%x does not map page 0x%x under KeyID %d", p.pid(), pte, va, s.page.pa, want));
                    }
                }
            }
        }
        return out;
    }
}
