package dev.memcrypt.hw;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Everything that fixes a machine before power-on. Immutable; {@link #with(String, String)} gives a
 * changed copy, so the scenario language's {@code machine key=value ...} and the Java API share one
 * parser. Defaults are the embedded default machine.
 *
 * @param packages        CPU packages (sockets); each has its own key table and last-level cache
 * @param coresPerPackage cores in each package
 * @param dramBytes       DRAM size; DRAM is sparse, so a large size costs nothing until written
 * @param maxPhysAddr     MAXPHYADDR (CPUID 0x80000008 EAX[7:0]); KeyID bits sit just below it
 * @param maxKeyIdBits    IA32_TME_CAPABILITY[35:32] MK_TME_MAX_KEYID_BITS (0..15)
 * @param maxKeys         IA32_TME_CAPABILITY[50:36] MK_TME_MAX_KEYS (KeyID 0 not counted)
 * @param keyIdBits       MK_TME_KEYID_BITS that firmware writes to IA32_TME_ACTIVATE[35:32]
 * @param algorithms      IA32_TME_CAPABILITY[3:0]: bit0 AES-XTS-128, bit2 AES-XTS-256 (bits 1 and 3, the integrity variants, are not modelled)
 * @param tmePolicy       IA32_TME_ACTIVATE[7:4] that firmware writes (0 = AES-XTS-128, 2 = AES-XTS-256: the TME key is then two 256-bit halves)
 * @param bypassSupported IA32_TME_CAPABILITY[31]
 * @param bypass          firmware sets IA32_TME_ACTIVATE[31]: KeyID 0 is not encrypted
 * @param firmwareActivate firmware writes and locks IA32_TME_ACTIVATE at power-on (else software must)
 * @param tme             TME enumerated (CPUID.7.0:ECX[13])
 * @param pconfig         PCONFIG enumerated (CPUID.7.0:EDX[18])
 * @param l1Bytes         per-core L1 data cache size
 * @param l1Ways          L1 associativity
 * @param llcBytes        per-package last-level cache size
 * @param llcWays         LLC associativity
 * @param saltedTweak     per-boot random salt XORed into every line tweak (SPEC-FACTS §1, default off)
 * @param seed            entropy seed for reproducible runs; null means SecureRandom
 * @param sme             AMD SME platform variant (CPUID 0x8000001F EAX[0]); the C-bit replaces KeyIDs
 * @param cBit            SME C-bit position in PTEs and physical addresses (CPUID 0x8000001F EBX[5:0])
 * @param smePhysBitsLost physical address bits lost to SME (CPUID 0x8000001F EBX[11:6])
 * @param hypervisor      CPUID.1:ECX[31], "running under a hypervisor" (SME is then refused)
 * @param keyLocker       Intel Key Locker enumerated (CPUID.7.0:ECX[23])
 */
public record MachineConfig(
        int packages,
        int coresPerPackage,
        long dramBytes,
        int maxPhysAddr,
        int maxKeyIdBits,
        int maxKeys,
        int keyIdBits,
        int algorithms,
        int tmePolicy,
        boolean bypassSupported,
        boolean bypass,
        boolean firmwareActivate,
        boolean tme,
        boolean pconfig,
        int l1Bytes,
        int l1Ways,
        int llcBytes,
        int llcWays,
        boolean saltedTweak,
        Long seed,
        boolean sme,
        int cBit,
        int smePhysBitsLost,
        boolean hypervisor,
        boolean keyLocker) {

    public MachineConfig {
        req(packages >= 1 && packages <= 64, "packages", packages, "1..64");
        req(coresPerPackage >= 1 && coresPerPackage <= 256, "cores", coresPerPackage, "1..256");
        req(maxPhysAddr >= 36 && maxPhysAddr <= 52, "maxphyaddr", maxPhysAddr, "36..52");
        req(maxKeyIdBits >= 0 && maxKeyIdBits <= 15, "max_keyid_bits", maxKeyIdBits, "0..15");
        req(maxKeys >= 0 && maxKeys <= 0x7fff, "max_keys", maxKeys, "0..32767");
        req(keyIdBits >= 0 && keyIdBits <= maxKeyIdBits, "keyid_bits", keyIdBits, "0..max_keyid_bits");
        req(maxPhysAddr - keyIdBits >= 32, "keyid_bits", keyIdBits, "leaving at least 32 address bits");
        req(dramBytes >= 1 << 20 && dramBytes <= (1L << (maxPhysAddr - keyIdBits)), "dram", dramBytes,
                "1 MiB .. 2^(maxphyaddr-keyid_bits)");
        req((dramBytes & 0xfff) == 0, "dram", dramBytes, "a multiple of 4096");
        req(cBit >= 32 && cBit <= 51, "cbit", cBit, "32..51");
        req(smePhysBitsLost >= 0 && smePhysBitsLost <= 63, "sme_phys_bits_lost", smePhysBitsLost, "0..63");
        req((algorithms & ~0xf) == 0, "algorithms", algorithms, "bits 3:0");
        req((algorithms & 0b1010) == 0, "algorithms", algorithms, "bits 0 (AES-XTS-128) and 2 (AES-XTS-256): the integrity variants (bits 1 and 3) are not modelled");
        req(tmePolicy >= 0 && tmePolicy <= 15, "tme_policy", tmePolicy, "0..15");
        req(Integer.bitCount(l1Ways) == 1 && l1Bytes % (64 * l1Ways) == 0 && Integer.bitCount(l1Bytes / (64 * l1Ways)) == 1,
                "l1", l1Bytes, "power-of-two sets of 64-byte lines");
        req(Integer.bitCount(llcWays) == 1 && llcBytes % (64 * llcWays) == 0 && Integer.bitCount(llcBytes / (64 * llcWays)) == 1,
                "llc", llcBytes, "power-of-two sets of 64-byte lines");
    }

    private static void req(boolean ok, String name, long value, String range) {
        if (!ok) throw new IllegalArgumentException("machine option " + name + "=" + value + " out of range (" + range + ")");
    }

    /** The embedded default machine: 2 packages x 2 cores, 4 GiB DRAM, 46-bit PA with 6 KeyID bits. */
    public static MachineConfig defaults() {
        return new MachineConfig(2, 2, 4L << 30, 46, 6, 63, 6, 0b0001, 0, true, false, true, true, true,
                32 << 10, 8, 2 << 20, 16, false, 1L, false, 47, 5, false, true);
    }

    /** Number of KeyIDs the activated bits give, KeyID 0 included: 2^keyIdBits. */
    public int keyIdSlots() {
        return 1 << keyIdBits;
    }

    /** Physical address bits left to the OS: MAXPHYADDR minus KeyID bits. */
    public int physAddrBits() {
        return maxPhysAddr - keyIdBits;
    }

    public int cores() {
        return packages * coresPerPackage;
    }

    /** The option names {@link #with} accepts, with their current values, in a stable order. */
    public Map<String, String> options() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("packages", "" + packages);
        m.put("cores", "" + coresPerPackage);
        m.put("dram", "" + dramBytes);
        m.put("maxphyaddr", "" + maxPhysAddr);
        m.put("max_keyid_bits", "" + maxKeyIdBits);
        m.put("max_keys", "" + maxKeys);
        m.put("keyid_bits", "" + keyIdBits);
        m.put("algorithms", "" + algorithms);
        m.put("tme_policy", "" + tmePolicy);
        m.put("bypass_supported", "" + bypassSupported);
        m.put("bypass", "" + bypass);
        m.put("activate", "" + firmwareActivate);
        m.put("tme", "" + tme);
        m.put("pconfig", "" + pconfig);
        m.put("l1", "" + l1Bytes);
        m.put("l1_ways", "" + l1Ways);
        m.put("llc", "" + llcBytes);
        m.put("llc_ways", "" + llcWays);
        m.put("salted_tweak", "" + saltedTweak);
        m.put("seed", seed == null ? "random" : "" + seed);
        m.put("sme", "" + sme);
        m.put("cbit", "" + cBit);
        m.put("sme_phys_bits_lost", "" + smePhysBitsLost);
        m.put("hypervisor", "" + hypervisor);
        m.put("keylocker", "" + keyLocker);
        return m;
    }

    /**
     * A copy with one option changed. Sizes accept K/M/G/T suffixes (powers of 1024), numbers accept
     * 0x hex, booleans accept true/false/on/off/1/0; {@code seed=random} means SecureRandom.
     */
    public MachineConfig with(String key, String value) {
        String k = key.toLowerCase(Locale.ROOT);
        return switch (k) {
            case "packages" -> copy(k, num(k, value), null);
            case "cores" -> copy(k, num(k, value), null);
            case "dram" -> copy(k, size(k, value), null);
            case "maxphyaddr" -> copy(k, num(k, value), null);
            case "max_keyid_bits" -> copy(k, num(k, value), null);
            case "max_keys" -> copy(k, num(k, value), null);
            case "keyid_bits" -> copy(k, num(k, value), null);
            case "algorithms" -> copy(k, num(k, value), null);
            case "tme_policy" -> copy(k, num(k, value), null);
            case "bypass_supported", "bypass", "activate", "tme", "pconfig", "salted_tweak", "sme", "hypervisor", "keylocker" ->
                    copy(k, 0, bool(k, value));
            case "cbit", "sme_phys_bits_lost" -> copy(k, num(k, value), null);
            case "l1" -> copy(k, size(k, value), null);
            case "l1_ways" -> copy(k, num(k, value), null);
            case "llc" -> copy(k, size(k, value), null);
            case "llc_ways" -> copy(k, num(k, value), null);
            case "seed" -> new MachineConfig(packages, coresPerPackage, dramBytes, maxPhysAddr, maxKeyIdBits, maxKeys, keyIdBits,
                    algorithms, tmePolicy, bypassSupported, bypass, firmwareActivate, tme, pconfig, l1Bytes, l1Ways, llcBytes,
                    llcWays, saltedTweak, value.equalsIgnoreCase("random") ? null : num(k, value), sme, cBit, smePhysBitsLost,
                    hypervisor, keyLocker);
            default -> throw new IllegalArgumentException("unknown machine option '" + key + "' (known: " + String.join(", ", options().keySet()) + ")");
        };
    }

    private MachineConfig copy(String k, long n, Boolean b) {
        int i = (int) n;
        if (b == null && k.equals("dram") == false && (n > Integer.MAX_VALUE || n < Integer.MIN_VALUE)) {
            throw new IllegalArgumentException("machine option " + k + "=" + n + " out of range");
        }
        return new MachineConfig(
                k.equals("packages") ? i : packages,
                k.equals("cores") ? i : coresPerPackage,
                k.equals("dram") ? n : dramBytes,
                k.equals("maxphyaddr") ? i : maxPhysAddr,
                k.equals("max_keyid_bits") ? i : maxKeyIdBits,
                k.equals("max_keys") ? i : maxKeys,
                k.equals("keyid_bits") ? i : keyIdBits,
                k.equals("algorithms") ? i : algorithms,
                k.equals("tme_policy") ? i : tmePolicy,
                k.equals("bypass_supported") ? b : bypassSupported,
                k.equals("bypass") ? b : bypass,
                k.equals("activate") ? b : firmwareActivate,
                k.equals("tme") ? b : tme,
                k.equals("pconfig") ? b : pconfig,
                k.equals("l1") ? i : l1Bytes,
                k.equals("l1_ways") ? i : l1Ways,
                k.equals("llc") ? i : llcBytes,
                k.equals("llc_ways") ? i : llcWays,
                k.equals("salted_tweak") ? b : saltedTweak,
                seed,
                k.equals("sme") ? b : sme,
                k.equals("cbit") ? i : cBit,
                k.equals("sme_phys_bits_lost") ? i : smePhysBitsLost,
                k.equals("hypervisor") ? b : hypervisor,
                k.equals("keylocker") ? b : keyLocker);
    }

    private static long num(String k, String v) {
        try {
            String s = v.strip().replace("_", "");
            return s.startsWith("0x") || s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("machine option " + k + ": '" + v + "' is not a number");
        }
    }

    private static long size(String k, String v) {
        String s = v.strip().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B")) s = s.substring(0, s.length() - 1);
        int shift = 0;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
        }
        if (shift != 0) s = s.substring(0, s.length() - 1);
        long n = num(k, s);
        if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) throw new IllegalArgumentException("machine option " + k + "=" + v + " out of range");
        return n << shift;
    }

    private static boolean bool(String k, String v) {
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true", "on", "1", "yes" -> true;
            case "false", "off", "0", "no" -> false;
            default -> throw new IllegalArgumentException("machine option " + k + ": '" + v + "' is not a boolean");
        };
    }
}
