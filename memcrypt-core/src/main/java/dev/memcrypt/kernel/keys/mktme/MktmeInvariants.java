package dev.memcrypt.kernel.keys.mktme;

import dev.memcrypt.crypto.XtsKey;
import dev.memcrypt.hw.controller.KeyTable;
import dev.memcrypt.kernel.keys.Key;
import dev.memcrypt.kernel.keys.KeyService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Cross-checks the KeyID map, the live mktme keys and the packages' key tables. Call it when the
 * system is quiescent (no calls in flight, gc run). Returns human-readable violations (never key
 * bytes); empty means consistent.
 */
public final class MktmeInvariants {
    private MktmeInvariants() {}

    /**
     * @param tableOfPackage the key table of a package (for every package with a lead CPU)
     * @param extraRefs      references held outside the key service (e.g. VMAs), by KeyID; may be null
     */
    public static List<String> check(KeyService svc, MktmeKeyType type, IntFunction<KeyTable> tableOfPackage, Map<Integer, Integer> extraRefs) {
        List<String> v = new ArrayList<>();
        MktmeKeyIds ids = type.keyIds();
        MktmeKeyIds.Snapshot s = ids.snapshot();
        int n = ids.nrKeyIds();
        int avail = 0;
        Map<Object, Integer> ownerSeen = new IdentityHashMap<>();
        for (int k = 1; k <= n; k++) {
            MktmeKeyIds.State st = s.states()[k];
            int refs = s.refs()[k];
            int extra = extraRefs == null ? 0 : extraRefs.getOrDefault(k, 0);
            switch (st) {
                case AVAILABLE -> {
                    avail++;
                    if (refs != 0 || s.owners()[k] != null) v.add("KeyID " + k + " AVAILABLE with refs=" + refs + " or an owner");
                }
                case ASSIGNED -> {
                    if (s.owners()[k] == null) v.add("KeyID " + k + " ASSIGNED without owner");
                    else if (ownerSeen.put(s.owners()[k], k) != null) v.add("key owns two KeyIDs: " + k);
                    if (refs != 1 + extra) v.add("KeyID " + k + " refs=" + refs + ", expected " + (1 + extra));
                }
                case REF_KILLED -> {
                    if (s.owners()[k] != null) v.add("KeyID " + k + " REF_KILLED with an owner");
                    if (refs != extra || refs == 0) v.add("KeyID " + k + " REF_KILLED refs=" + refs + ", expected " + extra);
                }
                case REF_RELEASED -> v.add("KeyID " + k + " stuck in REF_RELEASED");
            }
        }
        if (avail != s.available()) v.add("available count " + s.available() + " but " + avail + " AVAILABLE KeyIDs");

        int liveMktme = 0;
        for (Key key : svc.liveKeys()) {
            if (!(key.type() instanceof MktmeKeyType)) continue;
            if (key.state() != Key.State.POSITIVE) {
                v.add("half-created mktme key " + key.serial() + " in state " + key.state());
                continue;
            }
            liveMktme++;
            int keyId = MktmeKeyType.keyIdOf(key);
            if (keyId < 1 || keyId > n) {
                v.add("live mktme key " + key.serial() + " without KeyID");
                continue;
            }
            if (s.states()[keyId] != MktmeKeyIds.State.ASSIGNED || s.owners()[keyId] != key) {
                v.add("live mktme key " + key.serial() + " KeyID " + keyId + " is " + s.states()[keyId] + " / not owned by it");
            }
        }
        int assigned = 0;
        for (int k = 1; k <= n; k++) if (s.states()[k] == MktmeKeyIds.State.ASSIGNED) assigned++;
        if (assigned != liveMktme) v.add(assigned + " ASSIGNED KeyIDs but " + liveMktme + " live mktme keys (leak)");

        Map<Integer, MktmeOptions.Type> programmed = type.programmedKeyIds();
        for (int k = 1; k <= n; k++) {
            boolean inUse = s.states()[k] == MktmeKeyIds.State.ASSIGNED || s.states()[k] == MktmeKeyIds.State.REF_KILLED;
            if (inUse != programmed.containsKey(k)) v.add("KeyID " + k + " in use=" + inUse + " but programmed record=" + programmed.containsKey(k));
        }
        for (Map.Entry<Integer, MktmeOptions.Type> e : programmed.entrySet()) {
            int k = e.getKey();
            KeyTable.Mode want = switch (e.getValue()) {
                case USER, CPU -> KeyTable.Mode.KEY;
                case CLEAR -> KeyTable.Mode.TME;
                case NO_ENCRYPT -> KeyTable.Mode.NO_ENCRYPT;
            };
            byte[] first = null;
            for (int pkg : type.leadCpus().keySet()) {
                KeyTable.Entry en = tableOfPackage.apply(pkg).get(k);
                if (en.mode() != want) v.add("package " + pkg + " KeyID " + k + " is " + en.mode() + ", expected " + want);
                if (e.getValue() == MktmeOptions.Type.USER && en.key() != null) {
                    byte[] b = copy(en.key());
                    if (first == null) first = b;
                    else {
                        if (!Arrays.equals(first, b)) v.add("package " + pkg + " KeyID " + k + " holds a different user key");
                        Arrays.fill(b, (byte) 0);
                    }
                }
            }
            if (first != null) Arrays.fill(first, (byte) 0);
        }
        return v;
    }

    private static byte[] copy(XtsKey k) {
        try {
            return k.copyBytes();
        } catch (IllegalStateException e) {
            return new byte[0];
        }
    }
}
