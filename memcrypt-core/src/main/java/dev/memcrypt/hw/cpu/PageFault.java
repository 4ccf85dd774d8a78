package dev.memcrypt.hw.cpu;

import dev.memcrypt.util.Outcome;

/**
 * #PF with the architectural error code and CR2 (Intel SDM Vol. 3A §4.7, "Page-Fault Exceptions").
 * The error-code bit layout lives here and only here.
 */
public final class PageFault extends RuntimeException implements Outcome {
    /** Bit 0 P: 0 = the page was not present, 1 = a protection violation on a present page. */
    public static final int P = 1;
    /** Bit 1 W/R: the access was a write. */
    public static final int W = 1 << 1;
    /** Bit 2 U/S: the access was a user-mode (CPL 3) access. */
    public static final int U = 1 << 2;
    /** Bit 3 RSVD: a reserved bit was set in some paging-structure entry. */
    public static final int RSVD = 1 << 3;
    /** Bit 4 I/D: the access was an instruction fetch. */
    public static final int I = 1 << 4;
    /** Bit 5 PK: a data access to a user-mode address that PKRU denies for the page's protection key (CR4.PKE = 1). */
    public static final int PK = 1 << 5;

    private final long cr2;
    private final int errorCode;
    private final String reason;

    public PageFault(long cr2, int errorCode, String reason) {
        super(null, null, false, false);
        this.cr2 = cr2;
        this.errorCode = errorCode;
        this.reason = reason;
    }

    /** Formatted on demand: the kernel's fault handler takes one #PF per first touch and never reads it. */
    @Override
    public String getMessage() {
        return String.format("#PF at 0x%x, error code 0x%x (%s): %s", cr2, errorCode, describe(errorCode), reason);
    }

    /** The faulting linear address (CR2). */
    public long cr2() {
        return cr2;
    }

    public int errorCode() {
        return errorCode;
    }

    /** Why the walk faulted, in words (no key material). */
    public String reason() {
        return reason;
    }

    public static String describe(int ec) {
        StringBuilder sb = new StringBuilder();
        sb.append((ec & P) != 0 ? "P" : "NP");
        sb.append((ec & W) != 0 ? "|W" : "|R");
        sb.append((ec & U) != 0 ? "|U" : "|S");
        if ((ec & RSVD) != 0) sb.append("|RSVD");
        if ((ec & I) != 0) sb.append("|I");
        if ((ec & PK) != 0) sb.append("|PK");
        return sb.toString();
    }

    @Override
    public String outcomeName() {
        return "#PF";
    }
}
