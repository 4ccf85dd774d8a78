package dev.memcrypt.script.mm;

import dev.memcrypt.script.OutcomeException;
import dev.memcrypt.kernel.Errno;
import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.cred.Cred;
import dev.memcrypt.kernel.keys.KeyService;
import dev.memcrypt.kernel.mm.Mman;
import dev.memcrypt.kernel.mm.MmKernel;
import dev.memcrypt.kernel.task.Process;
import dev.memcrypt.kernel.task.Task;
import dev.memcrypt.script.Arg;
import dev.memcrypt.script.Args;
import dev.memcrypt.script.Session;
import dev.memcrypt.script.Statement;
import dev.memcrypt.script.StatementProvider;
import dev.memcrypt.script.StatementRegistry;
import dev.memcrypt.script.Value;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Process and memory statements (issue 5). System calls mirror the C API in name, argument order
 * and flag names, and run as the current process ({@code switch PID} chooses it):
 * {@code p = mmap 0 4096 PROT_NONE MAP_ANONYMOUS|MAP_PRIVATE}, {@code encrypt_mprotect $p 4096
 * PROT_READ|PROT_WRITE $k}. Errors are the errno names ({@code => EINVAL}); user accesses that
 * fault raise {@code SIGSEGV} or {@code SIGBUS}.
 */
public final class MmStatements implements StatementProvider {
    @Override
    public void register(StatementRegistry r) {
        reg(r, "mm boot", "mm boot [pmem=FILE] [pmem_size=N] [encrypted_swap=true|false]",
                "boots the kernel with options (before any other process statement); returns the pid of the first process", a -> {
                    Arg<String> pmem = a.option("pmem", Value::text, null);
                    Arg<Long> size = a.option("pmem_size", MmStatements::num, 16L << 20);
                    Arg<String> es = a.optChoice("encrypted_swap", "false", "true", "false");
                    a.end();
                    return s -> {
                        String f = pmem.get(s);
                        MmState st = MmState.boot(s, f == null ? null : Path.of(f), size.get(s), es.get(s).equals("true"));
                        return Value.num(st.current().pid());
                    };
                });
        reg(r, "mmap", "mmap ADDR LENGTH PROT FLAGS [FD] [OFFSET]", "mmap(2): returns the address", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LENGTH");
            Arg<Integer> prot = flags(a, "PROT", Mman.PROT), fl = flags(a, "FLAGS", Mman.MAP);
            Arg<Long> fd = a.hasNext() ? a.num("FD") : Arg.constant(-1L);
            Arg<Long> off = a.hasNext() ? a.num("OFFSET") : Arg.constant(0L);
            a.end();
            return s -> Value.hex(k(s).mmap(cur(s), addr.get(s), len.get(s), prot.get(s), fl.get(s), (int) (long) fd.get(s), off.get(s)));
        });
        reg(r, "munmap", "munmap ADDR LENGTH", "munmap(2): returns 0", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LENGTH");
            a.end();
            return s -> zero(() -> k(s).munmap(cur(s), addr.get(s), len.get(s)));
        });
        reg(r, "mprotect", "mprotect ADDR LENGTH PROT", "mprotect(2): returns 0 (the KeyID is kept)", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LENGTH");
            Arg<Integer> prot = flags(a, "PROT", Mman.PROT);
            a.end();
            return s -> zero(() -> k(s).mprotect(cur(s), addr.get(s), len.get(s), prot.get(s)));
        });
        reg(r, "pkey_mprotect", "pkey_mprotect ADDR LENGTH PROT PKEY", "pkey_mprotect(2): returns 0", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LENGTH");
            Arg<Integer> prot = flags(a, "PROT", Mman.PROT);
            Arg<Long> pkey = a.num("PKEY");
            a.end();
            return s -> zero(() -> k(s).pkeyMprotect(cur(s), addr.get(s), len.get(s), prot.get(s), (int) (long) pkey.get(s)));
        });
        reg(r, "pkey_alloc", "pkey_alloc [FLAGS] [ACCESS_RIGHTS]",
                "pkey_alloc(2): returns the protection key; ACCESS_RIGHTS 0, PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE set its PKRU bits", a -> {
            Arg<Long> fl = a.hasNext() ? a.num("FLAGS") : null;
            Arg<Integer> rights = a.hasNext() ? flags(a, "ACCESS_RIGHTS", Mman.PKEY) : null;
            a.end();
            return s -> Value.num(k(s).pkeyAlloc(cur(s), fl == null ? 0 : (int) (long) fl.get(s), rights == null ? 0 : rights.get(s)));
        });
        reg(r, "wrpkru", "wrpkru VALUE", "WRPKRU in the current process (user mode): PKRU = VALUE (key i: bit 2i access-disable, bit 2i+1 write-disable); returns 0", a -> {
            Arg<Long> v = a.num("VALUE");
            a.end();
            return s -> zero(() -> k(s).wrpkru(cur(s), v.get(s), 0, 0));
        });
        reg(r, "rdpkru", "rdpkru", "RDPKRU in the current process (user mode): returns PKRU", a -> {
            a.end();
            return s -> Value.num(k(s).rdpkru(cur(s), 0) & 0xffffffffL);
        });
        reg(r, "pkey_free", "pkey_free PKEY", "pkey_free(2): returns 0", a -> {
            Arg<Long> pkey = a.num("PKEY");
            a.end();
            return s -> zero(() -> k(s).pkeyFree(cur(s), (int) (long) pkey.get(s)));
        });
        reg(r, "madvise", "madvise ADDR LENGTH ADVICE", "madvise(2) (MADV_DONTNEED, MADV_PAGEOUT swaps out, MADV_COLD, MADV_NORMAL): returns 0", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LENGTH");
            Arg<Integer> adv = flags(a, "ADVICE", Mman.MADV);
            a.end();
            return s -> zero(() -> k(s).madvise(cur(s), addr.get(s), len.get(s), adv.get(s)));
        });
        reg(r, "mremap", "mremap OLD_ADDR OLD_SIZE NEW_SIZE FLAGS [NEW_ADDR]", "mremap(2): returns the new address", a -> {
            Arg<Long> old = a.num("OLD_ADDR"), ol = a.num("OLD_SIZE"), nl = a.num("NEW_SIZE");
            Arg<Integer> fl = flags(a, "FLAGS", Mman.MREMAP);
            Arg<Long> na = a.hasNext() ? a.num("NEW_ADDR") : Arg.constant(0L);
            a.end();
            return s -> Value.hex(k(s).mremap(cur(s), old.get(s), ol.get(s), nl.get(s), fl.get(s), na.get(s)));
        });
        reg(r, "encrypt_mprotect", "encrypt_mprotect ADDR LEN PROT SERIAL",
                "encrypt_mprotect(): mprotect plus the KeyID of mktme key SERIAL on private anonymous memory; returns 0", a -> {
                    Arg<Long> addr = a.num("ADDR"), len = a.num("LEN");
                    Arg<Integer> prot = flags(a, "PROT", Mman.PROT);
                    Arg<Long> serial = a.num("SERIAL");
                    a.end();
                    return s -> zero(() -> k(s).encryptMprotect(task(s), addr.get(s), len.get(s), prot.get(s), (int) (long) serial.get(s)));
                });
        reg(r, "memfd_create", "memfd_create NAME FLAGS", "memfd_create(2): returns the descriptor", a -> {
            Arg<String> name = a.word("NAME");
            Arg<Integer> fl = flags(a, "FLAGS", Mman.MFD);
            a.end();
            return s -> Value.num(k(s).memfdCreate(cur(s), name.get(s), fl.get(s)));
        });
        reg(r, "memfd_set_key", "memfd_set_key FD SERIAL",
                "the memfd proposal (model call): sets the file's mktme key; EBUSY once the file is sized; returns 0", a -> {
                    Arg<Long> fd = a.num("FD"), serial = a.num("SERIAL");
                    a.end();
                    return s -> zero(() -> k(s).memfdSetKey(task(s), (int) (long) fd.get(s), (int) (long) serial.get(s)));
                });
        reg(r, "open", "open PATH FLAGS", "open(2) of a file on the in-memory file system (/tmp/NAME; O_CREAT|O_RDWR): returns the descriptor", a -> {
            Arg<String> path = a.word("PATH");
            Arg<Integer> fl = flags(a, "FLAGS", Mman.OPEN);
            a.end();
            return s -> {
                String p = path.get(s);
                return Value.num(k(s).open(cur(s), p.startsWith("/tmp/") ? p.substring(5) : p, fl.get(s)));
            };
        });
        reg(r, "close", "close FD", "close(2): returns 0", a -> {
            Arg<Long> fd = a.num("FD");
            a.end();
            return s -> zero(() -> k(s).close(cur(s), (int) (long) fd.get(s)));
        });
        reg(r, "ftruncate", "ftruncate FD LENGTH", "ftruncate(2): returns 0", a -> {
            Arg<Long> fd = a.num("FD"), len = a.num("LENGTH");
            a.end();
            return s -> zero(() -> k(s).ftruncate(cur(s), (int) (long) fd.get(s), len.get(s)));
        });
        reg(r, "pwrite", "pwrite FD DATA OFFSET", "pwrite(2) through the file's KeyID: returns the count", a -> {
            Arg<Long> fd = a.num("FD");
            Arg<byte[]> d = a.bytes("DATA");
            Arg<Long> off = a.num("OFFSET");
            a.end();
            return s -> Value.num(k(s).pwrite(cur(s), (int) (long) fd.get(s), off.get(s), d.get(s)));
        });
        reg(r, "pread", "pread FD COUNT OFFSET", "pread(2) through the file's KeyID: returns the bytes", a -> {
            Arg<Long> fd = a.num("FD"), n = a.num("COUNT"), off = a.num("OFFSET");
            a.end();
            return s -> Value.bytes(k(s).pread(cur(s), (int) (long) fd.get(s), off.get(s), (int) (long) n.get(s)));
        });
        reg(r, "pmem_open", "pmem_open SERIAL",
                "opens the persistent-memory namespace encrypted with mktme key SERIAL (dm-crypt-like; use a type=user key): returns the descriptor", a -> {
                    Arg<Long> serial = a.num("SERIAL");
                    a.end();
                    return s -> Value.num(k(s).pmemOpen(task(s), (int) (long) serial.get(s)));
                });
        reg(r, "pmem_sync", "pmem_sync", "writes back the caches and saves the namespace to its backing file", a -> {
            a.end();
            return s -> {
                k(s).pmemSync();
                return Value.VOID;
            };
        });
        reg(r, "fork", "fork", "fork(2): returns the child's pid (the parent keeps running; switch to the child with switch PID)", a -> {
            a.end();
            return s -> Value.num(k(s).fork(cur(s)).pid());
        });
        reg(r, "exit", "exit [STATUS]", "exit(2) of the current process; the lowest remaining pid runs next; returns the pid that runs", a -> {
            Arg<Long> st = a.hasNext() ? a.num("STATUS") : Arg.constant(0L);
            a.end();
            return s -> {
                k(s).exit(cur(s), (int) (long) st.get(s));
                Process p = k(s).current();
                return Value.num(p == null ? 0 : p.pid());
            };
        });
        reg(r, "switch", "switch PID", "makes process PID the current one; returns the pid (ESRCH if there is none)", a -> {
            Arg<Long> pid = a.num("PID");
            a.end();
            return s -> Value.num(k(s).switchTo((int) (long) pid.get(s)).pid());
        });
        reg(r, "getpid", "getpid", "the current process's pid", a -> {
            a.end();
            return s -> Value.num(cur(s).pid());
        });
        reg(r, "spawn", "spawn root|uid=N [gid=N] [groups=..] [caps=..]", "a new process with these credentials (a login); returns its pid", a -> {
            Arg<List<String>> words = a.argv();
            return s -> {
                Cred c = Cred.parse(String.join(" ", words.get(s)));
                return Value.num(k(s).spawn(c).pid());
            };
        });
        reg(r, "poke", "poke ADDR DATA", "a user-mode store by the current process through the MMU (faults handled, or SIGSEGV)", a -> {
            Arg<Long> addr = a.num("ADDR");
            Arg<byte[]> d = a.bytes("DATA");
            a.end();
            return s -> {
                k(s).store(cur(s), addr.get(s), d.get(s));
                return Value.VOID;
            };
        });
        reg(r, "peek", "peek ADDR LEN", "a user-mode load by the current process: returns the bytes", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LEN");
            a.end();
            return s -> Value.bytes(k(s).load(cur(s), addr.get(s), (int) (long) len.get(s)));
        });
        reg(r, "copy_to_user", "copy_to_user ADDR DATA", "the kernel writes user memory through the direct map of the page's KeyID (EFAULT on a bad address)", a -> {
            Arg<Long> addr = a.num("ADDR");
            Arg<byte[]> d = a.bytes("DATA");
            a.end();
            return s -> zero(() -> k(s).copyToUser(cur(s), addr.get(s), d.get(s)));
        });
        reg(r, "copy_from_user", "copy_from_user ADDR LEN", "the kernel reads user memory through the direct map of the page's KeyID", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LEN");
            a.end();
            return s -> Value.bytes(k(s).copyFromUser(cur(s), addr.get(s), (int) (long) len.get(s)));
        });
        reg(r, "alias_read", "alias_read ADDR LEN", "the kernel reads user memory through the KeyID-0 direct map: wrong bytes for an encrypted page (the hazard)", a -> {
            Arg<Long> addr = a.num("ADDR"), len = a.num("LEN");
            a.end();
            return s -> Value.bytes(k(s).aliasRead(cur(s), addr.get(s), (int) (long) len.get(s)));
        });
        reg(r, "keyid", "keyid ADDR", "the KeyID of the VMA containing ADDR", a -> {
            Arg<Long> addr = a.num("ADDR");
            a.end();
            return s -> Value.num(k(s).keyIdAt(cur(s), addr.get(s)));
        });
        reg(r, "vdram", "vdram ADDR LEN [flush=true|false]", "the DRAM bytes behind a virtual address (lines written back first unless flush=false)", a -> {
            Arg<String> fl = a.optChoice("flush", "true", "true", "false");
            Arg<Long> addr = a.num("ADDR"), len = a.num("LEN");
            a.end();
            return s -> Value.bytes(k(s).vdram(cur(s), addr.get(s), (int) (long) len.get(s), fl.get(s).equals("true")));
        });
        reg(r, "smaps", "smaps", "/proc/PID/smaps of the current process, with each VMA's KeyID: line", a -> {
            a.end();
            return s -> Value.str(k(s).smaps(cur(s)));
        });
        reg(r, "smaps_keyid", "smaps_keyid ADDR", "the KeyID: line of the smaps entry containing ADDR, read from the smaps text as the RFC selftests do", a -> {
            Arg<Long> addr = a.num("ADDR");
            a.end();
            return s -> {
                long va = addr.get(s);
                boolean in = false;
                for (String l : k(s).smaps(cur(s)).split("\n")) {
                    if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                        String[] rg = l.substring(0, l.indexOf(' ')).split("-");
                        in = Long.parseUnsignedLong(rg[0], 16) <= va && va < Long.parseUnsignedLong(rg[1], 16);
                    } else if (in && l.startsWith("KeyID:")) {
                        return Value.num(Long.parseLong(l.substring(6).strip()));
                    }
                }
                throw new ErrnoException(Errno.EFAULT, String.format("no smaps entry contains 0x%x", va));
            };
        });
        reg(r, "pagemap", "pagemap", "the translation view: virtual page -> physical page, KeyID (read from the page tables in DRAM)", a -> {
            a.end();
            return s -> Value.str(k(s).translations(cur(s)));
        });
        reg(r, "swap_slot", "swap_slot ADDR", "the swap slot holding the page at ADDR, or -1", a -> {
            Arg<Long> addr = a.num("ADDR");
            a.end();
            return s -> Value.num(k(s).swapSlot(cur(s), addr.get(s)));
        });
        reg(r, "swap_raw", "swap_raw SLOT", "the bytes stored in a swap slot (plaintext unless encrypted_swap)", a -> {
            Arg<Long> slot = a.num("SLOT");
            a.end();
            return s -> Value.bytes(k(s).swapDevice().raw((int) (long) slot.get(s)));
        });
        reg(r, "keyid_refs", "keyid_refs KEYID", "the reference count of a hardware KeyID in the mktme KeyID map", a -> {
            Arg<Long> id = a.num("KEYID");
            a.end();
            return s -> Value.num(k(s).keyIds().refCount((int) (long) id.get(s)));
        });
        reg(r, "keyid_state", "keyid_state KEYID", "the state of a KeyID: AVAILABLE, ASSIGNED, REF_KILLED", a -> {
            Arg<Long> id = a.num("KEYID");
            a.end();
            return s -> Value.str(k(s).keyIds().state((int) (long) id.get(s)).name());
        });
        reg(r, "mm check", "mm check", "runs the memory manager's invariant checker now (KeyID references, page KeyIDs, PTEs)", a -> {
            a.end();
            return s -> {
                List<String> v = k(s).checkInvariants(vmRefs(s));
                if (!v.isEmpty()) throw new MmViolation(String.join("; ", v));
                return Value.VOID;
            };
        });
        if (r.get("add_key") == null) {
            reg(r, "add_key", "add_key TYPE DESCRIPTION PAYLOAD KEYRING", "add_key(2) as the current process's thread: returns the serial (KEYRING: @t @p @s @u @us or a serial)", a -> {
                List<dev.memcrypt.script.Token> words = a.positionals();
                boolean mktme = !words.isEmpty() && words.getFirst().isLiteral() && words.getFirst().literal().equals("mktme");
                Arg<String> type = a.word("TYPE"), desc = a.word("DESCRIPTION");
                // a user/logon key's payload is its secret: never echoed (an mktme payload's key=/tweak= are masked by the parser)
                Arg<byte[]> payload = mktme ? a.freshBytes("PAYLOAD") : a.secretBytes("PAYLOAD");
                Arg<String> ring = a.word("KEYRING");
                a.end();
                return s -> {
                    byte[] p = payload.get(s); // add_key copies it in (copy_from_user); ours is wiped
                    try {
                        return Value.num(k(s).keys().addKey(task(s), type.get(s), desc.get(s), p, keyring(ring.get(s))));
                    } finally {
                        java.util.Arrays.fill(p, (byte) 0);
                    }
                };
            });
        }
        r.finalCheck("mm", s -> s.existingState(MmState.class).isPresent(), s -> s.existingState(MmState.class).map(st -> {
            List<String> v = st.k.checkInvariants(vmRefs(s));
            return v.isEmpty() ? null : String.join("; ", v);
        }).orElse(null));
    }

    /** KeyID references held by the session's VMs (KVM on the same kernel). */
    static java.util.Map<Integer, Integer> vmRefs(Session s) {
        return s.existingState(dev.memcrypt.kvm.Kvm.class).map(dev.memcrypt.kvm.Kvm::keyIdReferences).orElse(java.util.Map.of());
    }

    /** The memory manager's invariant checker found a problem. */
    static final class MmViolation extends OutcomeException {
        MmViolation(String m) {
            super("INVARIANT_VIOLATION", m);
        }
    }

    private static int keyring(String w) {
        return switch (w.toLowerCase(Locale.ROOT)) {
            case "@t" -> KeyService.KEY_SPEC_THREAD_KEYRING;
            case "@p" -> KeyService.KEY_SPEC_PROCESS_KEYRING;
            case "@s" -> KeyService.KEY_SPEC_SESSION_KEYRING;
            case "@u" -> KeyService.KEY_SPEC_USER_KEYRING;
            case "@us" -> KeyService.KEY_SPEC_USER_SESSION_KEYRING;
            default -> (int) parseNum(w);
        };
    }

    private interface Call {
        void run() throws Exception;
    }

    private static Value zero(Call c) throws Exception {
        c.run();
        return Value.num(0);
    }

    private static void reg(StatementRegistry r, String name, String usage, String summary, java.util.function.Function<Args, Statement.Action> f) {
        r.register(Statement.of(name, usage, summary, f));
    }

    static MmKernel k(Session s) {
        return MmState.of(s).k;
    }

    static Process cur(Session s) {
        return MmState.of(s).current();
    }

    static Task task(Session s) {
        return cur(s).mainThread();
    }

    private static Arg<Integer> flags(Args a, String what, Map<String, Integer> names) {
        return a.positional(what, v -> v instanceof Value.Num n ? (int) n.value() : Mman.parse(v.text(), names));
    }

    static long num(Value v) {
        if (v instanceof Value.Num n) return n.value();
        return parseNum(v.text());
    }

    /** Decimal, 0x-hex (underscores allowed), or decimal with K/M/G/T. */
    static long parseNum(String t) {
        String x = t.strip().replace("_", "");
        try {
            if (x.startsWith("0x") || x.startsWith("0X")) return Long.parseUnsignedLong(x.substring(2), 16);
            if (x.startsWith("-0x")) return -Long.parseUnsignedLong(x.substring(3), 16);
            char u = x.isEmpty() ? ' ' : Character.toUpperCase(x.charAt(x.length() - 1));
            int sh = switch (u) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> 0;
            };
            return Long.parseLong(sh == 0 ? x : x.substring(0, x.length() - 1)) << sh;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + t + "' is not a number");
        }
    }
}
