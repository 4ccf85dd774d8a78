package dev.memcrypt.kernel.keys;

/**
 * Per-uid quota accounting (struct key_user, security/keys/key.c): keys and bytes owned,
 * checked against the limits of /proc/sys/kernel/keys/{maxkeys,maxbytes} (or root_* for uid 0).
 * Its own monitor is a leaf lock.
 */
final class KeyUser {
    final int uid;
    int nkeys;   // keys owned (in or out of quota)
    int nikeys;  // instantiated keys
    int qnkeys;  // keys charged to the quota
    long qnbytes; // bytes charged to the quota

    KeyUser(int uid) {
        this.uid = uid;
    }
}
