#!/usr/bin/env python3
"""Independent Key Locker handle wrap (SPEC-FACTS §3) for differential tests of the Java model.

POLYVAL here is plain polynomial arithmetic on Python ints (multiply, reduce mod P, multiply by
x^-128 computed from x^-1), unlike the Java word-wise Montgomery code; AES is pyca/cryptography.
Prints `iwkey_integrity iwkey_encryption restrictions key handle` lines (hex, memory order).
"""
import os, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

P = (1 << 128) | (1 << 127) | (1 << 126) | (1 << 121) | 1


def clmul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        b >>= 1
    return r


def mod(a):
    while a.bit_length() > 128:
        a ^= P << (a.bit_length() - 129)
    return a


def mulmod(a, b):
    return mod(clmul(a, b))


X_INV = (1 << 127) | (1 << 126) | (1 << 125) | (1 << 120)  # x * X_INV = P - 1 = 1 mod P
assert mulmod(2, X_INV) == 1
X_INV128 = 1
for _ in range(128):
    X_INV128 = mulmod(X_INV128, X_INV)


def polyval(h, blocks):
    hh = int.from_bytes(h, 'little')
    s = 0
    for b in blocks:
        s = mulmod(mulmod(s ^ int.from_bytes(b, 'little'), hh), X_INV128)
    return s.to_bytes(16, 'little')


def aes(k, block):
    e = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def wrap(ik, ek, restrictions, key):
    keytype = 0 if len(key) == 16 else 1
    aad = (restrictions | keytype << 24).to_bytes(16, 'little')
    blocks = [aad] + [key[i:i + 16] for i in range(0, len(key), 16)]
    blocks.append((128).to_bytes(8, 'little') + (8 * len(key)).to_bytes(8, 'little'))
    s = bytearray(polyval(ik, blocks))
    s[15] &= 0x7f
    tag = aes(ek, bytes(s))
    out = b''
    c0 = int.from_bytes(tag[:4], 'little')
    for i in range(len(key) // 16):
        ctr = bytearray(tag)
        ctr[15] |= 0x80
        ctr[:4] = ((c0 + i) & 0xffffffff).to_bytes(4, 'little')
        ks = aes(ek, bytes(ctr))
        out += bytes(x ^ y for x, y in zip(key[16 * i:16 * i + 16], ks))
    return aad + tag + out


if __name__ == '__main__':
    # RFC 8452 Appendix A POLYVAL check of this independent implementation
    assert polyval(bytes.fromhex('25629347589242761d31f826ba4b757b'),
                   [bytes.fromhex('4f4f95668c83dfb6401762bb2d01a262'), bytes.fromhex('d1a24ddd2721d006bbe45f20d3c9f362')]).hex() \
        == 'f7a3b47b846119fae5b7866cf5e5b77e'
    assert wrap(bytes(16), bytes(32), 0, bytes(16))[16:].hex() == 'dc95c078a2408989ad48a2149284208708c374848c228233c2b34f332bd2e9d3'
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    for i in range(n):
        ik, ek = os.urandom(16), os.urandom(32)
        key = os.urandom(16 if i % 2 == 0 else 32)
        r = i % 8
        print(ik.hex(), ek.hex(), r, key.hex(), wrap(ik, ek, r, key).hex())
