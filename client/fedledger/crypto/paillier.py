"""Raw Paillier on integers (g = n + 1): encryption with pooled randomness, full-key decryption.

With g = n + 1, g^m = 1 + m·n mod n², so encryption is c = (1 + m·n) · rho mod n² for a random n-th
residue rho (see :mod:`fedledger.crypto.randomness`). This is exactly python-paillier's scheme, so
its ``PaillierPrivateKey`` decrypts these ciphertexts and :func:`decrypt` decrypts its ones.
Decryption with the full private key exists for tests, interoperability and the dealer; in
production the aggregate is decrypted by threshold shares (:mod:`fedledger.crypto.threshold`).
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2

from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.errors import CryptoError

__all__ = [
    "check_ciphertext",
    "decrypt",
    "encrypt",
    "encrypt_with",
    "encrypt_with_exponents",
    "raw_add",
]


def encrypt_with(public_key: PublicKey, plaintext: int, rn: int) -> int:
    """Return (1 + (plaintext mod n)·n) · rn mod n², given a fresh n-th residue ``rn``.

    Negative plaintexts are taken mod n. The caller must never reuse ``rn``.
    """
    n, nsquare = public_key.n, public_key.nsquare
    return int((1 + (plaintext % n) * n) * gmpy2.mpz(rn) % nsquare)


def encrypt(public_key: PublicKey, plaintexts: Sequence[int], pool: RandomnessPool) -> list[int]:
    """Return one ciphertext per plaintext, consuming fresh randomness from ``pool``.

    Raises CryptoError if the pool belongs to another key.
    """
    return encrypt_with_exponents(public_key, plaintexts, pool)[0]


def encrypt_with_exponents(
    public_key: PublicKey, plaintexts: Sequence[int], pool: RandomnessPool
) -> tuple[list[int], list[int]]:
    """Return (ciphertexts, the DJN exponents of their randomness), one of each per plaintext.

    The exponents are the secret witness a proof of plaintext knowledge needs
    (:mod:`fedledger.crypto.popk`); drop them once the proof is made. Raises CryptoError if the
    pool belongs to another key.
    """
    if pool.public_key.n != public_key.n:
        raise CryptoError("the randomness pool was made for a different public key")
    n = gmpy2.mpz(public_key.n)
    nsquare = gmpy2.mpz(public_key.nsquare)
    randomness, exponents = pool.take_with_exponents(len(plaintexts))
    ciphertexts = [
        int((1 + (m % n) * n) * rn % nsquare) for m, rn in zip(plaintexts, randomness, strict=True)
    ]
    return ciphertexts, exponents


def check_ciphertext(public_key: PublicKey, ciphertext: int) -> None:
    """Return None if ``ciphertext`` lies in Z*(n²); raise CryptoError otherwise."""
    if not 0 < ciphertext < public_key.nsquare or gmpy2.gcd(ciphertext, public_key.n) != 1:
        raise CryptoError("ciphertext is not in Z*(n^2)")


def decrypt(private_key: PrivateKey, ciphertext: int) -> int:
    """Return the plaintext in [0, n) of ``ciphertext`` using p and q (CRT, as python-paillier).

    Raises CryptoError if the ciphertext is not in Z*(n²).
    """
    public = private_key.public_key
    check_ciphertext(public, ciphertext)
    parts = []
    for prime in (private_key.p, private_key.q):
        square = prime * prime
        # L_p(c^(p-1) mod p²) · L_p((1+n)^(p-1) mod p²)^-1 mod p gives m mod p.
        lp = (gmpy2.powmod(ciphertext, prime - 1, square) - 1) // prime
        hp = (gmpy2.powmod(public.n + 1, prime - 1, square) - 1) // prime
        parts.append(lp * gmpy2.invert(hp, prime) % prime)
    mp, mq = parts
    p, q = private_key.p, private_key.q
    return int((mp + (mq - mp) * gmpy2.invert(p, q) % q * p) % public.n)


def raw_add(public_key: PublicKey, *ciphertexts: int) -> int:
    """Return the product of ``ciphertexts`` mod n²: an encryption of their plaintexts' sum."""
    acc = gmpy2.mpz(1)
    for c in ciphertexts:
        acc = acc * c % public_key.nsquare
    return int(acc)
