"""Paillier keys (g = n + 1): the public key with its fingerprint, private keys, safe-prime keygen.

Security policy: every public entry point refuses moduli under :data:`MIN_MODULUS_BITS` (2048).
Tiny keys exist only for exact regression vectors in tests, through the explicitly named keyword
``_allow_insecure_test_key=True``; nothing outside the test suite may pass it.

Threshold decryption (:mod:`fedledger.crypto.threshold`) needs *safe* primes p = 2p' + 1 and
q = 2q' + 1 so that the group of squares mod n² is cyclic of order n·p'·q' with no small prime
factors; :func:`generate_keypair` therefore produces safe primes by default.
"""

from __future__ import annotations

import multiprocessing
import secrets
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import gmpy2

from fedledger.errors import CryptoError
from fedledger.protocol.keyid import key_fingerprint

# Worker processes start fresh (spawn): forking a process that has gRPC or TensorFlow threads
# running can deadlock the child.
_SPAWN = multiprocessing.get_context("spawn")

__all__ = [
    "MIN_MODULUS_BITS",
    "PrivateKey",
    "PublicKey",
    "generate_keypair",
    "generate_safe_prime",
]

MIN_MODULUS_BITS = 2048
_SIEVE_LIMIT = 1 << 15
_SIEVE_WINDOW = 1 << 15


def _small_primes(limit: int) -> list[int]:
    flags = bytearray([1]) * limit
    flags[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytearray(len(flags[i * i :: i]))
    return [i for i in range(3, limit) if flags[i]]


_SMALL_PRIMES = _small_primes(_SIEVE_LIMIT)


@dataclass(frozen=True)
class PublicKey:
    """A Paillier public key with g = n + 1 (the python-paillier convention).

    Raises CryptoError if ``n`` is under 2048 bits (unless ``_allow_insecure_test_key``), even,
    or not an integer.
    """

    n: int
    _allow_insecure_test_key: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.n
        if isinstance(n, bool) or not isinstance(n, int) or n < 15 or n % 2 == 0:
            raise CryptoError(f"a Paillier modulus must be an odd integer > 15, got {n!r}")
        if n.bit_length() < MIN_MODULUS_BITS and not self._allow_insecure_test_key:
            raise CryptoError(
                f"refusing a {n.bit_length()}-bit Paillier modulus: at least "
                f"{MIN_MODULUS_BITS} bits are required"
            )

    @property
    def bits(self) -> int:
        """Bit length of n."""
        return self.n.bit_length()

    @cached_property
    def nsquare(self) -> int:
        """n², the ciphertext modulus."""
        return self.n * self.n

    @cached_property
    def fingerprint(self) -> str:
        """Hex SHA-256 of n, as :func:`fedledger.protocol.keyid.key_fingerprint`."""
        return key_fingerprint(self.n)


@dataclass(frozen=True)
class PrivateKey:
    """The factorisation of n. Decrypts with CRT; for tests, interop and the dealer only.

    Raises CryptoError if p·q ≠ n or p = q.
    """

    public_key: PublicKey
    p: int = field(repr=False)
    q: int = field(repr=False)

    def __post_init__(self) -> None:
        if self.p * self.q != self.public_key.n or self.p == self.q or min(self.p, self.q) < 3:
            raise CryptoError("p and q are not two distinct odd factors of the public modulus")

    @property
    def is_safe(self) -> bool:
        """True if p and q are safe primes (required by the threshold dealer)."""
        return all(
            gmpy2.is_prime(x, 25) and gmpy2.is_prime((x - 1) // 2, 25) for x in (self.p, self.q)
        )


def generate_safe_prime(bits: int) -> int:
    """Return a random safe prime p = 2p' + 1 of exactly ``bits`` bits whose top two bits are set.

    The top two bits make the product of two such primes exactly 2·bits long. Candidates for p'
    are sieved together with 2p' + 1 by the odd primes below 2^15, then tested with a base-2 Fermat
    test on p and Miller-Rabin (gmpy2, 30 rounds) on both. Raises CryptoError if bits < 16.
    """
    if bits < 16:
        raise CryptoError(f"a safe prime needs at least 16 bits, got {bits}")
    while True:
        found = _search_window(bits)
        if found is not None:
            return found


def _search_window(bits: int) -> int | None:
    # p' has bits - 1 bits with its top two set; it must be odd.
    start = secrets.randbits(bits - 1) | (3 << (bits - 3)) | 1
    alive = bytearray([1]) * _SIEVE_WINDOW
    for r in _SMALL_PRIMES:
        if r >= start:
            break
        inv2 = (r + 1) // 2
        # candidate k is p' = start + 2k; kill p' ≡ 0 and 2p' + 1 ≡ 0 (p' ≡ -1/2) modulo r.
        for residue in (0, r - inv2):
            k0 = ((residue - start) * inv2) % r
            alive[k0::r] = bytearray(len(alive[k0::r]))
    for k in range(_SIEVE_WINDOW):
        if not alive[k]:
            continue
        p_half = gmpy2.mpz(start + 2 * k)
        p = 2 * p_half + 1
        if p.bit_length() != bits:
            return None
        if gmpy2.powmod(2, p - 1, p) != 1:
            continue
        if gmpy2.is_prime(p_half, 30) and gmpy2.is_prime(p, 30):
            return int(p)
    return None


def generate_keypair(
    bits: int = MIN_MODULUS_BITS, *, safe_primes: bool = True, processes: int = 1
) -> tuple[PublicKey, PrivateKey]:
    """Return a fresh Paillier key pair whose modulus has exactly ``bits`` bits.

    With ``safe_primes`` (the default, needed for threshold decryption) p and q are safe primes;
    ``processes`` > 1 searches for them in parallel worker processes. Raises CryptoError if
    ``bits`` is under 2048 or odd.
    """
    if bits < MIN_MODULUS_BITS or bits % 2:
        raise CryptoError(f"a modulus must have an even number of bits ≥ {MIN_MODULUS_BITS}")
    return _generate(bits, safe_primes=safe_primes, processes=processes)


def _generate(bits: int, *, safe_primes: bool, processes: int) -> tuple[PublicKey, PrivateKey]:
    half = bits // 2
    while True:
        if not safe_primes:
            p, q = (_random_prime(half) for _ in range(2))
        elif processes > 1:
            with ProcessPoolExecutor(max_workers=min(processes, 2), mp_context=_SPAWN) as pool:
                p, q = pool.map(generate_safe_prime, [half, half])
        else:
            p, q = generate_safe_prime(half), generate_safe_prime(half)
        if p != q and (p * q).bit_length() == bits:
            public = PublicKey(p * q, _allow_insecure_test_key=bits < MIN_MODULUS_BITS)
            return public, PrivateKey(public, p, q)


def _random_prime(bits: int) -> int:
    candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
    return int(gmpy2.next_prime(candidate))


def generate_insecure_test_keypair(
    bits: int, *, safe_primes: bool = True
) -> tuple[PublicKey, PrivateKey]:
    """TEST ONLY: return a key pair of any even size ≥ 32 bits, including insecure ones.

    Exists so regression tests can use tiny keys; never call it from library code.
    Raises CryptoError for fewer than 32 or an odd number of bits.
    """
    if bits < 32 or bits % 2:
        raise CryptoError("a test key needs an even number of bits ≥ 32")
    return _generate(bits, safe_primes=safe_primes, processes=1)
