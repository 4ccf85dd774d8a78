package dev.memcrypt.tools.keyctl;

import dev.memcrypt.kernel.keys.KeysFixture;
import org.junit.jupiter.api.Test;

class KeyctlSmokeTest {
    @Test
    void smoke() {
        KeysFixture f = new KeysFixture();
        String[][] cmds = {
            {"add", "user", "foo", "bar", "@u"},
            {"show"},
            {"list", "@u"},
            {"describe", "@u"},
            {"add", "mktme", "k1", "type=cpu algorithm=aes-xts-128", "@u"},
            {"show", "@s"},
            {"read", "%user:foo"},
            {"print", "%user:foo"},
            {"add", "user", "foo", "", "@u"},
            {"newring", "r1", "@s"},
            {"show"},
        };
        for (String[] c : cmds) {
            KeysFixture.Run r = f.keyctl(f.alice, c);
            System.out.println("$ keyctl " + String.join(" ", c) + "  => " + r.exit() + "\n" + r.out() + r.err());
        }
        System.out.println(f.svc.procKeys(f.alice));
        System.out.println(f.svc.procKeyUsers());
        for (String[] c : new String[][] {{"add", "mktme", "k1", "type=cpu algorithm=aes-xts-128", "@u"}, {"show"}}) {
            KeysFixture.Run r = f.keyctl(f.root, c);
            System.out.println("# keyctl " + String.join(" ", c) + "  => " + r.exit() + "\n" + r.out() + r.err());
        }
    }
}
