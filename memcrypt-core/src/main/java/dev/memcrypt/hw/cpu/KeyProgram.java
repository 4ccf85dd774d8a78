package dev.memcrypt.hw.cpu;

import java.util.Arrays;

/**
 * The MKTME_KEY_PROGRAM structure PCONFIG leaf 0 reads from memory at RBX (SPEC-FACTS §1; Intel
 * MKTME spec; Linux asm/intel_pconfig.h {@code struct mktme_key_program}). The one place that
 * knows its layout. 256-byte aligned; the architectural fields end at byte 191.
 */
public final class KeyProgram {
    /** Required alignment of the structure (else #GP(0)). */
    public static final int ALIGN = 256;
    /** Bytes PCONFIG reads. */
    public static final int SIZE = 192;
    /** offset 0, u16: the KeyID to program. */
    public static final int OFF_KEYID = 0;
    /** offset 2, u32 keyid_ctrl: [7:0] command, [23:8] encryption algorithm, [31:24] reserved (0). */
    public static final int OFF_KEYID_CTRL = 2;
    /** keyid_ctrl[7:0]: command (PconfigCommand code). */
    public static final int CTRL_COMMAND_MASK = 0xff;
    /** keyid_ctrl[23:8]: algorithm, exactly one bit. */
    public static final int CTRL_ALG_SHIFT = 8;
    public static final int CTRL_ALG_MASK = 0xffff;
    /** keyid_ctrl[31:24]: reserved, must be 0 (#GP). */
    public static final int CTRL_RESERVED_SHIFT = 24;
    /** offsets 6..63: reserved, must be 0 (#GP). */
    public static final int OFF_RESERVED = 6;
    public static final int END_RESERVED = 64;
    /** offset 64, 64 bytes: key_field_1, the data key (or entropy for SET_KEY_RANDOM). */
    public static final int OFF_KEY_FIELD_1 = 64;
    /** offset 128, 64 bytes: key_field_2, the tweak key (or entropy for SET_KEY_RANDOM). */
    public static final int OFF_KEY_FIELD_2 = 128;
    public static final int KEY_FIELD = 64;
    /** AES-XTS-128 uses the low 16 bytes of each key field; bytes 16..63 must be 0 (#GP). */
    public static final int XTS128_KEY = 16;
    /** Algorithm bit 0 (keyid_ctrl bit 8): AES-XTS-128, the only algorithm the model implements. */
    public static final int ALG_AES_XTS_128 = 1;

    private KeyProgram() {}

    /**
     * Builds the structure. {@code key1}/{@code key2} may be null (zero) or up to 64 bytes; values
     * are written as given so tests can produce invalid structures. Returns 256 bytes.
     */
    public static byte[] build(int keyId, int command, int algorithm, int ctrlReserved, byte[] key1, byte[] key2) {
        if (keyId < 0 || keyId > 0xffff) throw new IllegalArgumentException("keyid " + keyId + " does not fit u16");
        if (command < 0 || command > 0xff) throw new IllegalArgumentException("command " + command + " does not fit 8 bits");
        if (algorithm < 0 || algorithm > 0xffff) throw new IllegalArgumentException("algorithm " + algorithm + " does not fit 16 bits");
        if (ctrlReserved < 0 || ctrlReserved > 0xff) throw new IllegalArgumentException("reserved " + ctrlReserved + " does not fit 8 bits");
        if (key1 != null && key1.length > KEY_FIELD) throw new IllegalArgumentException("key field 1 longer than 64 bytes: " + key1.length);
        if (key2 != null && key2.length > KEY_FIELD) throw new IllegalArgumentException("key field 2 longer than 64 bytes: " + key2.length);
        byte[] b = new byte[ALIGN];
        b[OFF_KEYID] = (byte) keyId;
        b[OFF_KEYID + 1] = (byte) (keyId >>> 8);
        int ctrl = command | algorithm << CTRL_ALG_SHIFT | ctrlReserved << CTRL_RESERVED_SHIFT;
        for (int i = 0; i < 4; i++) b[OFF_KEYID_CTRL + i] = (byte) (ctrl >>> (8 * i));
        if (key1 != null) System.arraycopy(key1, 0, b, OFF_KEY_FIELD_1, key1.length);
        if (key2 != null) System.arraycopy(key2, 0, b, OFF_KEY_FIELD_2, key2.length);
        return b;
    }

    /** The usual well-formed structure. */
    public static byte[] build(int keyId, PconfigCommand cmd, int algorithm, byte[] key1, byte[] key2) {
        return build(keyId, cmd.code, algorithm, 0, key1, key2);
    }

    static int keyId(byte[] s) {
        return (s[OFF_KEYID] & 0xff) | (s[OFF_KEYID + 1] & 0xff) << 8;
    }

    static int ctrl(byte[] s) {
        int v = 0;
        for (int i = 0; i < 4; i++) v |= (s[OFF_KEYID_CTRL + i] & 0xff) << (8 * i);
        return v;
    }

    static boolean reservedClear(byte[] s) {
        if ((ctrl(s) >>> CTRL_RESERVED_SHIFT) != 0) return false;
        for (int i = OFF_RESERVED; i < END_RESERVED; i++) if (s[i] != 0) return false;
        return true;
    }

    static boolean keyHighBytesClear(byte[] s) {
        for (int f : new int[] {OFF_KEY_FIELD_1, OFF_KEY_FIELD_2}) {
            for (int i = f + XTS128_KEY; i < f + KEY_FIELD; i++) if (s[i] != 0) return false;
        }
        return true;
    }

    static byte[] keyLow(byte[] s, int field) {
        return Arrays.copyOfRange(s, field, field + XTS128_KEY);
    }
}
