package dev.memcrypt.crypto;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The few libcrypto (OpenSSL 3) EVP functions memcrypt calls through the FFM API.
 *
 * <p>Design note: the library is looked up by name ({@code libcrypto.so.3}, then the usual Debian
 * path, then {@code libcrypto.so}; {@code -Dmemcrypt.libcrypto=PATH} overrides). Anything that fails
 * — no library, a missing symbol, no native access — leaves {@link #AVAILABLE} false with a reason,
 * and memcrypt falls back to the pure-Java engine. {@code EVP_CipherInit_ex} and
 * {@code EVP_CipherUpdate} are bound with {@code Linker.Option.critical(true)}: they are short, never
 * call back into Java, and so may read and write Java heap arrays in place, with no copies.
 */
final class Libcrypto {
    static final boolean AVAILABLE;
    static final String UNAVAILABLE_REASON;
    static final String VERSION;

    private static final MethodHandle CTX_NEW; // EVP_CIPHER_CTX *EVP_CIPHER_CTX_new(void)
    private static final MethodHandle CTX_FREE; // void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *)
    private static final MethodHandle INIT; // int EVP_CipherInit_ex(ctx, cipher, engine, key, iv, enc)
    private static final MethodHandle SET_PADDING; // int EVP_CIPHER_CTX_set_padding(ctx, int)
    private static final MethodHandle UPDATE; // int EVP_CipherUpdate(ctx, out, int *outl, in, int inl)
    private static final MethodHandle ERR_CLEAR; // void ERR_clear_error(void)
    static final MemorySegment AES_128_ECB;
    static final MemorySegment AES_128_XTS;
    static final MemorySegment AES_256_ECB;
    static final MemorySegment AES_256_XTS;

    static {
        MethodHandle ctxNew = null, ctxFree = null, init = null, pad = null, update = null, errClear = null;
        MemorySegment ecb = MemorySegment.NULL, xts = MemorySegment.NULL, ecb256 = MemorySegment.NULL, xts256 = MemorySegment.NULL;
        String reason = null, version = "?";
        try {
            SymbolLookup lib = open();
            Linker linker = Linker.nativeLinker();
            Linker.Option critical = Linker.Option.critical(true);
            ctxNew = linker.downcallHandle(find(lib, "EVP_CIPHER_CTX_new"), FunctionDescriptor.of(ADDRESS));
            ctxFree = linker.downcallHandle(find(lib, "EVP_CIPHER_CTX_free"), FunctionDescriptor.ofVoid(ADDRESS));
            init = linker.downcallHandle(find(lib, "EVP_CipherInit_ex"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), critical);
            pad = linker.downcallHandle(find(lib, "EVP_CIPHER_CTX_set_padding"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            update = linker.downcallHandle(find(lib, "EVP_CipherUpdate"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), critical);
            errClear = linker.downcallHandle(find(lib, "ERR_clear_error"), FunctionDescriptor.ofVoid());
            MethodHandle ecbH = linker.downcallHandle(find(lib, "EVP_aes_128_ecb"), FunctionDescriptor.of(ADDRESS));
            MethodHandle xtsH = linker.downcallHandle(find(lib, "EVP_aes_128_xts"), FunctionDescriptor.of(ADDRESS));
            MethodHandle ecb256H = linker.downcallHandle(find(lib, "EVP_aes_256_ecb"), FunctionDescriptor.of(ADDRESS));
            MethodHandle xts256H = linker.downcallHandle(find(lib, "EVP_aes_256_xts"), FunctionDescriptor.of(ADDRESS));
            ecb = (MemorySegment) ecbH.invokeExact();
            xts = (MemorySegment) xtsH.invokeExact();
            ecb256 = (MemorySegment) ecb256H.invokeExact();
            xts256 = (MemorySegment) xts256H.invokeExact();
            for (MemorySegment c : new MemorySegment[] {ecb, xts, ecb256, xts256}) if (c.equals(MemorySegment.NULL)) throw new IllegalStateException("AES ciphers missing");
            try {
                MethodHandle ver = linker.downcallHandle(find(lib, "OpenSSL_version"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
                MemorySegment s = (MemorySegment) ver.invokeExact(0);
                version = s.reinterpret(256).getString(0);
            } catch (Throwable ignored) {
                // version is cosmetic
            }
        } catch (Throwable t) {
            reason = t.getClass().getSimpleName() + ": " + t.getMessage();
        }
        CTX_NEW = ctxNew;
        CTX_FREE = ctxFree;
        INIT = init;
        SET_PADDING = pad;
        UPDATE = update;
        ERR_CLEAR = errClear;
        AES_128_ECB = ecb;
        AES_128_XTS = xts;
        AES_256_ECB = ecb256;
        AES_256_XTS = xts256;
        AVAILABLE = reason == null;
        UNAVAILABLE_REASON = reason;
        VERSION = version;
    }

    private Libcrypto() {}

    private static SymbolLookup open() {
        List<String> names = new ArrayList<>();
        String override = System.getProperty("memcrypt.libcrypto");
        if (override != null && !override.isBlank()) names.add(override);
        names.add("libcrypto.so.3");
        names.add("/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
        names.add("/usr/lib/aarch64-linux-gnu/libcrypto.so.3");
        names.add("libcrypto.so");
        names.add("libcrypto.3.dylib");
        IllegalArgumentException last = null;
        for (String n : names) {
            try {
                return SymbolLookup.libraryLookup(n, Arena.global());
            } catch (IllegalArgumentException e) {
                last = e;
            }
        }
        throw new IllegalStateException("libcrypto not found (" + String.join(", ", names) + ")", last);
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("libcrypto lacks " + name));
    }

    static MemorySegment newContext() {
        try {
            MemorySegment ctx = (MemorySegment) CTX_NEW.invokeExact();
            if (ctx.equals(MemorySegment.NULL)) throw new OutOfMemoryError("EVP_CIPHER_CTX_new failed");
            return ctx;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Frees a context; OpenSSL cleanses the key schedule inside it. */
    static void free(MemorySegment ctx) {
        if (ctx == null || ctx.equals(MemorySegment.NULL)) return;
        try {
            CTX_FREE.invokeExact(ctx);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** EVP_CipherInit_ex; {@code cipher}, {@code key} or {@code iv} may be NULL to keep what is set. enc: 1, 0, or -1 (unchanged). */
    static boolean init(MemorySegment ctx, MemorySegment cipher, MemorySegment key, MemorySegment iv, int enc) {
        try {
            int r = (int) INIT.invokeExact(ctx, cipher, MemorySegment.NULL, key, iv, enc);
            if (r != 1) clearErrors();
            return r == 1;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void noPadding(MemorySegment ctx) {
        try {
            int r = (int) SET_PADDING.invokeExact(ctx, 0);
            if (r != 1) throw new IllegalStateException("EVP_CIPHER_CTX_set_padding failed");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** EVP_CipherUpdate over {@code len} bytes; {@code outl} is a 4-byte scratch segment. */
    static void update(MemorySegment ctx, MemorySegment out, MemorySegment outl, MemorySegment in, int len) {
        int r;
        try {
            r = (int) UPDATE.invokeExact(ctx, out, outl, in, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r != 1) {
            clearErrors();
            throw new IllegalStateException("EVP_CipherUpdate failed");
        }
    }

    static void clearErrors() {
        try {
            ERR_CLEAR.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
