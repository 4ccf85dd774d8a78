package dev.memcrypt.kernel.keys.mktme;

import java.util.Arrays;
import javax.security.auth.Destroyable;

/**
 * The content of a struct MKTME_KEY_PROGRAM (SPEC-FACTS §1) as the kernel fills it: KeyID,
 * keyid_ctrl (command in [7:0], algorithm bitmap in [23:8]) and the low 16 bytes of each key
 * field (data key / tweak key, or entropy for SET_KEY_RANDOM). The kernel wipes it after use
 * (fixing seed 000's kmem_cache_free without zeroing); toString never shows the fields.
 */
public final class KeyProgram implements Destroyable {
    /** keyid_ctrl [7:0]: programming command. */
    public static final int CMD_SET_KEY_DIRECT = 0, CMD_SET_KEY_RANDOM = 1, CMD_CLEAR_KEY = 2, CMD_NO_ENCRYPT = 3;
    /** keyid_ctrl [23:8]: algorithm bitmap; bit 8 = AES-XTS-128. */
    public static final int ALG_AES_XTS_128 = 1 << 8;

    private final int keyId;
    private final int keyIdCtrl;
    private final byte[] field1 = new byte[16];
    private final byte[] field2 = new byte[16];
    private volatile boolean destroyed;

    public KeyProgram(int keyId, int keyIdCtrl, byte[] dataKey16, byte[] tweakKey16) {
        this.keyId = keyId;
        this.keyIdCtrl = keyIdCtrl;
        if (dataKey16 != null) System.arraycopy(dataKey16, 0, field1, 0, 16);
        if (tweakKey16 != null) System.arraycopy(tweakKey16, 0, field2, 0, 16);
    }

    public int keyId() {
        return keyId;
    }

    public int keyIdCtrl() {
        return keyIdCtrl;
    }

    public int command() {
        return keyIdCtrl & 0xff;
    }

    public int algorithms() {
        return (keyIdCtrl >>> 8) & 0xffff;
    }

    /** key_field_1 low 16 bytes (live; hardware models copy what they need). */
    public byte[] field1() {
        if (destroyed) throw new IllegalStateException("KeyProgram used after destroy()");
        return field1;
    }

    /** key_field_2 low 16 bytes (live). */
    public byte[] field2() {
        if (destroyed) throw new IllegalStateException("KeyProgram used after destroy()");
        return field2;
    }

    @Override
    public void destroy() {
        destroyed = true;
        Arrays.fill(field1, (byte) 0);
        Arrays.fill(field2, (byte) 0);
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "KeyProgram[keyid=" + keyId + ", ctrl=0x" + Integer.toHexString(keyIdCtrl) + "]";
    }
}
