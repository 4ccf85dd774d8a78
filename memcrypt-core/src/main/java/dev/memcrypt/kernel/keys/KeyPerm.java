package dev.memcrypt.kernel.keys;

/**
 * Key permission mask layout (include/uapi/linux/keyctl.h via include/linux/key.h): four 8-bit
 * groups, possessor [31:24], user [23:16], group [15:8], other [7:0]; in each, bit0 view,
 * bit1 read, bit2 write, bit3 search, bit4 link, bit5 setattr.
 */
public final class KeyPerm {
    private KeyPerm() {}

    public static final int VIEW = 0x01, READ = 0x02, WRITE = 0x04, SEARCH = 0x08, LINK = 0x10, SETATTR = 0x20, ALL = 0x3f;

    public static final int POS_VIEW = VIEW << 24, POS_READ = READ << 24, POS_WRITE = WRITE << 24,
            POS_SEARCH = SEARCH << 24, POS_LINK = LINK << 24, POS_SETATTR = SETATTR << 24, POS_ALL = ALL << 24;
    public static final int USR_VIEW = VIEW << 16, USR_READ = READ << 16, USR_WRITE = WRITE << 16,
            USR_SEARCH = SEARCH << 16, USR_LINK = LINK << 16, USR_SETATTR = SETATTR << 16, USR_ALL = ALL << 16;
    public static final int GRP_VIEW = VIEW << 8, GRP_READ = READ << 8, GRP_WRITE = WRITE << 8,
            GRP_SEARCH = SEARCH << 8, GRP_LINK = LINK << 8, GRP_SETATTR = SETATTR << 8, GRP_ALL = ALL << 8;
    public static final int OTH_VIEW = VIEW, OTH_READ = READ, OTH_WRITE = WRITE,
            OTH_SEARCH = SEARCH, OTH_LINK = LINK, OTH_SETATTR = SETATTR, OTH_ALL = ALL;

    /** Every valid bit (keyctl_setperm_key rejects anything else with EINVAL). */
    public static final int VALID = POS_ALL | USR_ALL | GRP_ALL | OTH_ALL;

    /** "alswrv" style rendering of one 6-bit group, as keyutils prints it. */
    public static String render(int six) {
        return new String(new char[] {
            (six & SETATTR) != 0 ? 'a' : '-', (six & LINK) != 0 ? 'l' : '-', (six & SEARCH) != 0 ? 's' : '-',
            (six & WRITE) != 0 ? 'w' : '-', (six & READ) != 0 ? 'r' : '-', (six & VIEW) != 0 ? 'v' : '-'});
    }
}
