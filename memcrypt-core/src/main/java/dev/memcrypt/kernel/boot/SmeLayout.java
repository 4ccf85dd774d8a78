package dev.memcrypt.kernel.boot;

/**
 * Where sme_encrypt_kernel put things (all physical addresses; end exclusive).
 *
 * @param kernelStart    _text (LOAD_PHYSICAL_ADDR, 16 MiB)
 * @param kernelEnd      ALIGN(_end, 2 MiB)
 * @param initrdStart    initrd (2 MiB aligned; equal to initrdEnd if none)
 * @param initrdEnd      ALIGN(initrd end, 2 MiB)
 * @param workareaStart  = kernelEnd: the stack page
 * @param routinePage    workareaStart + 4 KiB: the copy of the encryption routine
 * @param bufferStart    workareaStart + 8 KiB: the 2 MiB intermediate copy buffer
 * @param pgtableStart   after the buffer: the page-table area
 * @param pgtableEnd     end of the page-table area as reserved
 * @param workareaEnd    ALIGN(pgtableEnd, 2 MiB)
 * @param decryptedBase  virtual offset of the decrypted mapping: (pgd_index(workareaEnd) + 1) << 39
 * @param newPgd         physical address of the new PGD (the first page of the page-table area)
 * @param tablePagesReserved page-table pages the calculation reserved
 */
public record SmeLayout(long kernelStart, long kernelEnd, long initrdStart, long initrdEnd, long workareaStart, long routinePage,
        long bufferStart, long pgtableStart, long pgtableEnd, long workareaEnd, long decryptedBase, long newPgd, int tablePagesReserved) {

    public long stackPage() {
        return workareaStart;
    }

    public int decryptedPgdIndex() {
        return (int) (decryptedBase >>> 39) & 511;
    }
}
