package dev.memcrypt.lab;

import static dev.memcrypt.lab.Verdict.FAILS;
import static dev.memcrypt.lab.Verdict.HOLDS;

/**
 * The threat-model claims of seed 001 (the MKTME API RFC v2 review thread, Dec. 2018) that the
 * experiments test, quoted verbatim with author, date and message number ("#N" as the archive
 * numbers the replies), and one from seed 003 (the encrypt_mprotect() RFC 45/62 review, June 2019).
 * {@code threadSays} is where the thread itself ended up.
 */
public final class Claims {
    private Claims() {}

    private static final String SEED = "seed 001 #";

    // ---------------------------------------------------------------- cold boot
    public static final Claim LUTO_COLD_BOOT = new Claim("luto-cold-boot", "Andy Lutomirski", "Dec. 6, 2018", SEED + 10,
            "TME itself provides a ton of protection -- you can't just barge into the datacenter, refrigerate the DIMMs,"
                    + " walk away with them, and read off everyone's data.", HOLDS);
    public static final Claim LUTO_USER_MODE_WEAKER = new Claim("luto-user-mode-weaker", "Andy Lutomirski", "Dec. 12, 2018", SEED + 35,
            "TME does this, AFAIK.  MKTME does, too, unless the \"user\" mode is used, in which case the protection is weaker.", HOLDS);
    public static final Claim KAI_CPU_KEY_GONE = new Claim("kai-cpu-key-gone", "Huang, Kai", "Dec. 7, 2018", SEED + 18,
            "I think one usage of user-specified key is for NVDIMM, since CPU key will be gone after machine reboot, therefore if"
                    + " NVDIMM is encrypted by CPU key we are not able to retrieve it once shutdown/reboot, etc.", HOLDS);

    // ---------------------------------------------------------------- replay
    public static final Claim JARKKO_REPLAY = new Claim("jarkko-replay", "Jarkko Sakkinen", "Dec. 5, 2018", SEED + 8,
            "For me it looks like that you can read, write and even replay encrypted pages both in SME and TME.", HOLDS);
    public static final Claim KAI_NO_NONCE = new Claim("kai-no-nonce", "Huang, Kai", "Dec. 8, 2018", SEED + 31,
            "Currently there's no nonce to protect cache line so TME/MKTME is not able to prevent replay attack you mentioned.", HOLDS);
    public static final Claim KIRILL_WHAT_REPLAY = new Claim("kirill-what-replay", "Kirill A. Shutemov", "Dec. 7, 2018", SEED + 24,
            "What replay attack are you talking about? MKTME uses AES-XTS with physical address tweak.", FAILS);
    public static final Claim LUTO_PAGE_TABLE_REPLAY = new Claim("luto-page-table-replay", "Andy Lutomirski", "Dec. 7, 2018", SEED + 28,
            "For example, if I can replay the contents of a page table, I can write to freed memory.", HOLDS);

    // ---------------------------------------------------------------- relocation
    public static final Claim KIRILL_PA_TWEAK = new Claim("kirill-pa-tweak", "Kirill A. Shutemov", "Dec. 7, 2018", SEED + 24,
            "MKTME uses AES-XTS with physical address tweak. So the data is tied to the place in physical address space and"
                    + " replacing one encrypted page with another encrypted page from different address will produce garbage on decryption.", HOLDS);
    public static final Claim LUTO_PREDETERMINED_PA = new Claim("luto-predetermined-pa", "Andy Lutomirski", "Dec. 7, 2018", SEED + 29,
            "The third problem is the real show-stopper, though: this scheme requires that the ciphertext go into predetermined"
                    + " physical addresses, which would be a giant mess.", HOLDS);
    public static final Claim DAVE_TWEAK_PER_BOOT = new Claim("dave-tweak-per-boot", "Dave Hansen", "Dec. 8, 2018", SEED + 30,
            "So, not only would you need to put stuff at a fixed physical address, the tweaks can change from boot-to-boot, so"
                    + " whatever you did would only be good for one boot.", HOLDS);

    // ---------------------------------------------------------------- aliasing and flushes
    public static final Claim LUTO_ALIAS_GARBAGE = new Claim("luto-alias-garbage", "Andy Lutomirski", "Dec. 4, 2018", SEED + 3,
            "So, if you modify a physical address with one key (or SME-enable bit), and you read it with another, you get garbage"
                    + " unless you flush.", HOLDS);
    public static final Claim LUTO_REMAP_CORRUPTION = new Claim("luto-remap-corruption", "Andy Lutomirski", "Dec. 4, 2018", SEED + 3,
            "And, if you modify memory with one key then remap it with a different key without flushing in the mean time, you risk"
                    + " corruption.", HOLDS);
    public static final Claim DAVE_FLUSH_RULE = new Claim("dave-flush-rule", "Dave Hansen", "Dec. 5, 2018", SEED + 9,
            "Basically, you can keep as many mappings of a physical page as you want, but only write to one mapping at a time,"
                    + " and clflush the old one when you want to write to a new one.", HOLDS);
    public static final Claim LUTO_ZERO_NEW = new Claim("luto-zero-new", "Andy Lutomirski", "Dec. 6, 2018", SEED + 15,
            "Now I clflush mapping 1 and read 2.  It contains garbage in the cache, but the garbage in the cache is inconsistent"
                    + " with the garbage in memory. ... I suppose the right fix is to clflush the old mapping and then to zero the new mapping.", HOLDS);
    public static final Claim LUTO_PCONFIG_RACE = new Claim("luto-pconfig-race", "Andy Lutomirski", "Dec. 4, 2018", SEED + 3,
            "If you have dirty cache lines for some (PA, key) and you PCONFIG to change the underlying key, you get different"
                    + " results depending on whether the writeback happens before or after the package doing the writeback notices the PCONFIG.", HOLDS);
    public static final Claim DAVE_FLUSH_BEFORE_PCONFIG = new Claim("dave-flush-before-pconfig", "Dave Hansen", "Dec. 5, 2018", SEED + 9,
            "So, before PCONFIG can happen, we just need to make sure that all the VMAs are gone, all the pages are freed, and"
                    + " all dirty cachelines have been clflushed.", HOLDS);

    // ---------------------------------------------------------------- the kernel's direct map
    public static final Claim LUTO_DIRECT_MAP_WRONG_DATA = new Claim("luto-direct-map-wrong-data", "Andy Lutomirski", "Dec. 4, 2018", SEED + 3,
            "it looks like it may have serious cache-coherency issues and like swapping the pages might corrupt them, both because there are"
                    + " no flushes and because the direct-map alias looks like it will use the default key and therefore appear to contain the wrong data.", HOLDS);
    public static final Claim DAVE_DIRECT_MAP_PER_KEYID = new Claim("dave-direct-map-per-keyid", "Dave Hansen", "Dec. 5, 2018", SEED + 9,
            "contains a direct map per keyid.  When you do phys_to_virt() and friends, you get the correct, decrypted view direct map which is"
                    + " appropriate for the physical page.  And, yes, this has very consequential security implications.", HOLDS);
    public static final Claim LUTO_RW_ALIASES = new Claim("luto-rw-aliases", "Andy Lutomirski", "Dec. 4, 2018", SEED + 3,
            "Unless I missed something, you're not doing anything about the direct map, which means that you have RW aliases of the same"
                    + " memory with different keys.", HOLDS);
    public static final Claim LUTO_DIRECT_MAP_FIX = new Claim("luto-direct-map-fix", "Andy Lutomirski", "Dec. 4, 2018", SEED + 3,
            "For use case #2, this probably means that you need to either get rid of the direct map and make get_user_pages() fail, or you"
                    + " need to change the key on the direct map as well, probably using the pageattr.c code.", HOLDS);
    public static final Claim DAVE_XPO = new Claim("dave-xpo", "Dave Hansen", "Dec. 5, 2018", SEED + 9,
            "The XPO approach is \"fun\", and would certainly be a way to keep the direct map from being exploited to get access to"
                    + " plain-text mappings of ciphertext.", HOLDS);
    public static final Claim LUTO_DAX_COHERENCE = new Claim("luto-dax-coherence", "Andy Lutomirski", "Jun 17, 2019", "seed 003",
            "If we try to do MKTME behind the DAX driver's back, aren't we going to end up with cache coherence problems?", HOLDS);

    // ---------------------------------------------------------------- caches
    public static final Claim KAI_CACHE_CLEAR = new Claim("kai-cache-clear", "Huang, Kai", "Dec. 12, 2018", SEED + 37,
            "Right. MKTME doesn't prevent cache based attack. Data in cache is in clear.", HOLDS);
    public static final Claim LUTO_L1TF = new Claim("luto-l1tf", "Andy Lutomirski", "Dec. 12, 2018", SEED + 35,
            "So an attack like L1TF that leaks a cacheline that's selected by physical address will leak the cleartext if the"
                    + " key selection bits are set correctly.", HOLDS);
    public static final Claim DAVE_DIMM_PROMISE = new Claim("dave-dimm-promise", "Dave Hansen", "Dec. 5, 2018", SEED + 9,
            "It's functionally MADV_DONTNEED, plus a future promise that your writes will never show up as plaintext on the DIMM.", HOLDS);

    // ---------------------------------------------------------------- hypervisor
    public static final Claim DAVE_HV_TRUST = new Claim("dave-hv-trust", "Dave Hansen", "Dec. 6, 2018", SEED + 14,
            "The design definitely has the hypervisor in the trust boundary.  If the hypervisor is evil, or if someone evil"
                    + " compromises the hypervisor, MKTME obviously provides less protection.", HOLDS);
    public static final Claim JARKKO_VM_ISOLATION = new Claim("jarkko-vm-isolation", "Jarkko Sakkinen", "Dec. 12, 2018", SEED + 34,
            "1. The hypervisor has not been infiltrated. 2. The hypervisor does not leak secrets. When (1) and (2) hold [1], we"
                    + " harden VMs in two different ways: A. VMs cannot leak data to each other", HOLDS);
    public static final Claim LUTO_COKE_CLEARTEXT = new Claim("luto-coke-cleartext", "Andy Lutomirski", "Dec. 6, 2018", SEED + 10,
            "With MKTME, if they can read through the host direct map, then they'll get Coke's cleartext, and if they can corrupt"
                    + " a page table or use L1TF to read from your memory, they'll get Coke's cleartext.", HOLDS);
    public static final Claim LUTO_NO_AUTHENTICATION = new Claim("luto-no-authentication", "Andy Lutomirski", "Dec. 7, 2018", SEED + 29,
            "Second, sensible scheme for this type of VM image protection would use *authenticated* encryption or at least"
                    + " verify a signature, which MKTME can't do.", HOLDS);
    public static final Claim ERIC_CROSS_VM_REPLAY = new Claim("eric-cross-vm-replay", "Eric Rannaud", "Dec. 7, 2018", SEED + 26,
            "Note 1: Actually, even if with MKTME you cannot disable encryption but *if* Eve knows its own key, Eve can always"
                    + " write a preimage P that the CPU encrypts to E for VM_Alice to read back and decrypt: P = mktme_decrypt(VM_Eve_key, hwaddr, E)", HOLDS);
    public static final Claim DAVE_CLUSTER = new Claim("dave-cluster", "Dave Hansen", "Dec. 5, 2018", SEED + 9,
            "It is handy, for one, to let you \"cluster\" key usage.  If you have 5 Pepsi VMs and 5 Coke VMs, each Pepsi one using the same key"
                    + " and each Coke one using the same key, you can boil it down to only 2 hardware keyid slots that get used, and do this transparently.", HOLDS);
    public static final Claim ERIC_TME_NO_REPLAY = new Claim("eric-tme-no-replay", "Eric Rannaud", "Dec. 7, 2018", SEED + 26,
            "For TME, this doesn't work as you cannot partially disable encryption, so if Eve tries to write the stolen encrypted"
                    + " bits E, even in the \"right place\", they get encrypted again to tme_encrypt(hwaddr, E).", HOLDS);
}
