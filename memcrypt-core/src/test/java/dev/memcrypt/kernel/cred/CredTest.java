package dev.memcrypt.kernel.cred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memcrypt.kernel.Errno;
import org.junit.jupiter.api.Test;

class CredTest {
    @Test
    void parseScriptForms() {
        Cred r = Cred.parse("root");
        assertEquals(0, r.uid());
        assertTrue(r.capable(Capability.CAP_SYS_ADMIN));
        Cred u = Cred.parse("uid=1000 gid=100 groups=5,6 caps=CAP_SYS_RESOURCE,sys_nice");
        assertEquals(1000, u.uid());
        assertEquals(100, u.gid());
        assertTrue(u.inGroup(6) && u.inGroup(100) && !u.inGroup(7));
        assertTrue(u.capable(Capability.CAP_SYS_RESOURCE) && u.capable(Capability.CAP_SYS_NICE));
        assertFalse(u.capable(Capability.CAP_SYS_ADMIN));
        Cred d = Cred.parse("uid=7");
        assertEquals(7, d.gid());
        assertTrue(d.caps().isEmpty());
        assertEquals(Capability.values().length, Cred.parse("uid=0 caps=all").caps().size());
    }

    @Test
    void parseErrorsNameTheProblem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cred.parse("gid=5")).getMessage().contains("uid"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cred.parse("uid=x")).getMessage().contains("uid"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cred.parse("uid=1 caps=CAP_FLY")).getMessage().contains("CAP_FLY"));
        assertThrows(IllegalArgumentException.class, () -> Cred.parse("uid=1 colour=red"));
    }

    @Test
    void capabilityNumbersFollowLinux() {
        assertEquals(21, Capability.CAP_SYS_ADMIN.number());
        assertEquals(24, Capability.CAP_SYS_RESOURCE.number());
    }

    @Test
    void errnoNumbersAndMessages() {
        assertEquals(126, Errno.ENOKEY.number());
        assertEquals("Key has been revoked", Errno.EKEYREVOKED.message());
        assertEquals(122, Errno.EDQUOT.number());
        assertEquals("EINVAL", Errno.EINVAL.exception().outcomeName());
        assertEquals(Errno.EBUSY, Errno.ofNumber(16));
    }
}
