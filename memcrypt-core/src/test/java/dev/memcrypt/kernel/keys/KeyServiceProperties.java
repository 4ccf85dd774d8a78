package dev.memcrypt.kernel.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memcrypt.kernel.ErrnoException;
import dev.memcrypt.kernel.keys.mktme.MktmeInvariants;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Random operation sequences keep quotas, KeyIDs and key tables consistent after every step. */
class KeyServiceProperties {
    static final String[] PAYLOADS = {
        "type=cpu algorithm=aes-xts-128", "type=clear", "type=no-encrypt",
        "type=user algorithm=aes-xts-128 key=00112233445566778899aabbccddeeff tweak=ffeeddccbbaa99887766554433221100",
        "type=cpu", "",
    };

    @Property(tries = 60)
    void quotasAndKeyIdsStayConsistent(@ForAll @Size(max = 60) List<@IntRange(min = 0, max = 999) Integer> ops) {
        KeysFixture f = new KeysFixture(2, 1, 5, false);
        List<Integer> ids = new ArrayList<>();
        for (int op : ops) {
            int pick = ids.isEmpty() ? 0 : ids.get(op % ids.size());
            try {
                switch (op % 9) {
                    case 0, 1 -> ids.add(f.svc.addKey(f.root, "mktme", "m" + op % 7, PAYLOADS[op % PAYLOADS.length].getBytes(StandardCharsets.UTF_8), KeyService.KEY_SPEC_USER_KEYRING));
                    case 2 -> ids.add(f.svc.addKey(f.root, "user", "u" + op % 5, new byte[1 + op], KeyService.KEY_SPEC_USER_KEYRING));
                    case 3 -> f.svc.update(f.root, pick, PAYLOADS[op % PAYLOADS.length].getBytes(StandardCharsets.UTF_8));
                    case 4 -> f.svc.invalidate(f.root, pick);
                    case 5 -> f.svc.revoke(f.root, pick);
                    case 6 -> f.svc.unlink(f.root, pick, KeyService.KEY_SPEC_USER_KEYRING);
                    case 7 -> f.svc.setTimeout(f.root, pick, op % 3);
                    default -> f.clock.advance(Duration.ofSeconds(op));
                }
            } catch (ErrnoException e) {
                // errno results are fine; consistency is what is checked
            }
            f.svc.gc();
            assertEquals(List.of(), MktmeInvariants.check(f.svc, f.mktme, f.pconfig::table, null));
            long keys = 0, bytes = 0;
            for (Key k : f.svc.liveKeys()) {
                if (k.uid() != 0) continue;
                keys++;
                bytes += k.quotalen;
                assertEquals(k.description().length() + 1 + k.datalen(), k.quotalen, "quotalen of " + k);
            }
            assertEquals(keys, f.svc.quotaUsage(0)[0]);
            assertEquals(bytes, f.svc.quotaUsage(0)[1]);
        }
    }
}
