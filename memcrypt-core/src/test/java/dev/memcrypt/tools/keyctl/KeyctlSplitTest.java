package dev.memcrypt.tools.keyctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.memcrypt.kernel.keys.KeysFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyctlSplitTest {
    @Test
    void shellLikeSplitting() {
        assertEquals(List.of("add", "mktme", "k", "type=cpu algorithm=aes-xts-128", "@u"),
                Keyctl.split("add mktme k \"type=cpu algorithm=aes-xts-128\" @u"));
        assertEquals(List.of("a b", "c\"d", "e f", ""), Keyctl.split("'a b' \"c\\\"d\" e\\ f ''"));
        assertEquals(List.of("x\ty"), Keyctl.split("\"x\ty\""));
        assertThrows(IllegalArgumentException.class, () -> Keyctl.split("add \"open"));
    }

    @Test
    void runLine() {
        KeysFixture f = new KeysFixture();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int rc = f.keyctl.run(f.root, "keyctl add mktme k \"type=cpu algorithm=aes-xts-128\" @u", new PrintStream(o), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(0, rc);
        assertEquals(6, f.mktme.keyIds().available());
    }
}
