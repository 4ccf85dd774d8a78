package dev.memcrypt.hw.keylocker;

/**
 * The Key Locker handle: its bit layout in one place (SPEC-FACTS §3; Intel SDM Vol. 2 ENCODEKEY128,
 * ENCODEKEY256, AESENC128KL "IllegalHandle"; Intel Key Locker Specification 343965 §3.4 and A.5;
 * Linux intel-staging/keylocker arch/x86/crypto/aeskl_glue.c {@code struct aeskl_handle}).
 *
 * <pre>
 * bytes  0..15  AAD (additional authenticated data, a 128-bit little-endian integer):
 *                 bit 0       CPL0-only restriction        (ENCODEKEY SRC[0])
 *                 bit 1       no-encrypt restriction       (ENCODEKEY SRC[1])
 *                 bit 2       no-decrypt restriction       (ENCODEKEY SRC[2])
 *                 bits 23:3   reserved, 0
 *                 bits 27:24  KeyType: 0 = AES-128, 1 = AES-256
 *                 bits 127:28 reserved, 0
 * bytes 16..31  integrity tag
 * bytes 32..47  wrapped key (AES-128: 384-bit handle)
 * bytes 32..63  wrapped key (AES-256: 512-bit handle)
 * </pre>
 *
 * Static helpers only; handles are plain byte arrays in memory order (as MOVDQU stores them).
 */
public final class Handle {
    private Handle() {}

    /** Size of the AAD, tag and each wrapped-key block. */
    public static final int BLOCK = 16;
    /** 384-bit handle of an AES-128 key. */
    public static final int SIZE_128 = 48;
    /** 512-bit handle of an AES-256 key. */
    public static final int SIZE_256 = 64;
    /** Offset of the AAD. */
    public static final int OFF_AAD = 0;
    /** Offset of the integrity tag. */
    public static final int OFF_TAG = 16;
    /** Offset of the wrapped key. */
    public static final int OFF_KEY = 32;

    /** AAD bit 0: the handle may be used only at CPL 0. */
    public static final int R_CPL0 = 1;
    /** AAD bit 1: the handle may not be used to encrypt. */
    public static final int R_NO_ENCRYPT = 1 << 1;
    /** AAD bit 2: the handle may not be used to decrypt. */
    public static final int R_NO_DECRYPT = 1 << 2;
    /** AAD bits 2:0, the restrictions ENCODEKEY copies from SRC[2:0]. */
    public static final int RESTRICTIONS_MASK = 0x7;
    /** AAD bits 27:24: KeyType. */
    public static final int KEYTYPE_SHIFT = 24;
    public static final int KEYTYPE_MASK = 0xf;
    /** KeyType 0: AES-128. */
    public static final int KEYTYPE_AES128 = 0;
    /** KeyType 1: AES-256. */
    public static final int KEYTYPE_AES256 = 1;
    /** AAD bits that must be zero in the low dword (bits 23:3 and 31:28); dwords 1..3 must be all zero. */
    public static final int AAD_DW0_RESERVED = ~(RESTRICTIONS_MASK | KEYTYPE_MASK << KEYTYPE_SHIFT);

    /** The AAD ENCODEKEY builds: restrictions in bits 2:0, KeyType in bits 27:24, the rest 0. */
    public static byte[] aad(int restrictions, int keyType) {
        if ((restrictions & ~RESTRICTIONS_MASK) != 0) throw new IllegalArgumentException("restrictions 0x" + Integer.toHexString(restrictions) + " beyond bits 2:0");
        if (keyType != KEYTYPE_AES128 && keyType != KEYTYPE_AES256) throw new IllegalArgumentException("KeyType " + keyType);
        int dw0 = restrictions | keyType << KEYTYPE_SHIFT;
        byte[] a = new byte[BLOCK];
        for (int i = 0; i < 4; i++) a[i] = (byte) (dw0 >>> (8 * i));
        return a;
    }

    /** The AAD's low dword (restrictions and KeyType) of handle {@code h}. */
    public static int aadDword0(byte[] h) {
        return (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16 | (h[3] & 0xff) << 24;
    }

    public static int restrictions(byte[] h) {
        return aadDword0(h) & RESTRICTIONS_MASK;
    }

    public static int keyType(byte[] h) {
        return aadDword0(h) >>> KEYTYPE_SHIFT & KEYTYPE_MASK;
    }

    /** HandleReservedBitSet: any AAD bit other than 2:0 and 27:24 is set. */
    public static boolean reservedBitSet(byte[] h) {
        if ((aadDword0(h) & AAD_DW0_RESERVED) != 0) return true;
        for (int i = 4; i < BLOCK; i++) if (h[i] != 0) return true;
        return false;
    }

    /** Why a handle is illegal for an AES*KL instruction (SDM "IllegalHandle"), or null if legal. */
    public static String illegalReason(byte[] h, int expectedKeyType, boolean encrypt, int cpl) {
        if (reservedBitSet(h)) return "reserved AAD bit set";
        int r = restrictions(h);
        if ((r & R_CPL0) != 0 && cpl > 0) return "CPL0-only handle used at CPL " + cpl;
        if (encrypt && (r & R_NO_ENCRYPT) != 0) return "no-encrypt handle used to encrypt";
        if (!encrypt && (r & R_NO_DECRYPT) != 0) return "no-decrypt handle used to decrypt";
        if (keyType(h) != expectedKeyType) return "KeyType " + keyType(h) + " where " + expectedKeyType + " is required";
        return null;
    }

    /** Handle size for a KeyType. */
    public static int size(int keyType) {
        return keyType == KEYTYPE_AES256 ? SIZE_256 : SIZE_128;
    }
}
