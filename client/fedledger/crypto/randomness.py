"""Encryption randomness r^n mod n², produced ahead of time (Damgård-Jurik-Nielsen fixed base).

Encrypting m is c = (1 + m·n) · rho mod n² with rho a random n-th residue. rho is the costly
part, so :class:`RandomnessPool` makes it before it is needed (e.g. while the model trains),
optionally across cores, and the online step is one multiplication per ciphertext.

Construction (Damgård, Jurik, Nielsen, "A generalization of Paillier's public-key system with
applications to electronic voting", Int. J. Inf. Secur. 9(6), 2010): fix h = -x² mod n and
the base h_n = h^n mod n²; each rho = h_n^a for a fresh secret exponent a of ``exponent_bits`` bits
drawn with :mod:`secrets`. rho is still an n-th residue, so ciphertexts are ordinary Paillier
ciphertexts (python-paillier decrypts them). Because h_n is fixed, h_n^a is a product of entries
of a precomputed window table (one multiplication per 8-bit window of a).

Security assumption, stated plainly: semantic security rests on the DCR assumption (as for
Paillier) *and* on h^a with short a being indistinguishable from a uniform element of ⟨h⟩ — the
short-exponent assumption DJN make for this variant. The best known attack on a short exponent
is generic (kangaroo / baby-step giant-step, ≈ 2^(l/2) work), so l = 448 bits
(:data:`DEFAULT_EXPONENT_BITS`) gives ≈ 2^224, far above the ≈ 2^112 a 2048-bit modulus offers;
:data:`MIN_EXPONENT_BITS` refuses anything under 2 * 128. x is derived by hashing n, so every
party derives the same base from the public key alone and nobody chooses it; knowing x does not
reveal any exponent a.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import secrets
from collections import deque
from concurrent.futures import ProcessPoolExecutor

import gmpy2

from fedledger.crypto.keys import PublicKey
from fedledger.errors import CryptoError
from fedledger.protocol.keyid import modulus_bytes

# Worker processes start fresh (spawn): forking a process that has gRPC or TensorFlow threads
# running can deadlock the child.
_SPAWN = multiprocessing.get_context("spawn")

__all__ = [
    "DEFAULT_EXPONENT_BITS",
    "MIN_EXPONENT_BITS",
    "FixedBaseTable",
    "RandomnessPool",
    "djn_base",
]

DEFAULT_EXPONENT_BITS = 448
MIN_EXPONENT_BITS = 256
_WINDOW_BITS = 8


def djn_root(public_key: PublicKey) -> int:
    """Return h = -x² mod n, with x derived from n by SHAKE-256 (nothing up our sleeve).

    ``h^a mod n`` is the Paillier randomness r of the residue h_n^a = r^n mod n², which the proof
    of plaintext knowledge (:mod:`fedledger.crypto.popk`) needs. Raises CryptoError in the
    negligible case that the hash hit a factor of n.
    """
    n = public_key.n
    seed = hashlib.shake_256(b"fedledger/djn-base/v1\x00" + modulus_bytes(n))
    x = int.from_bytes(seed.digest(2 * ((n.bit_length() + 7) // 8)), "big") % n
    if gmpy2.gcd(x, n) != 1 or x < 2:
        raise CryptoError("the derived DJN base is not a unit mod n")
    return (-x * x) % n


def djn_base(public_key: PublicKey) -> int:
    """Return h_n = h^n mod n² for the h of :func:`djn_root`."""
    return int(gmpy2.powmod(djn_root(public_key), public_key.n, public_key.nsquare))


class FixedBaseTable:
    """Window table for h_n^a mod n² with exponents of up to ``exponent_bits`` bits.

    Row i holds h_n^(d · 2^(8i)) for d = 0..255, so an exponent costs one multiplication per
    non-zero byte. About exponent_bits/8 * 256 residues of n² (≈ 7 MB at 448 bits and n of 2048).
    """

    def __init__(self, public_key: PublicKey, exponent_bits: int = DEFAULT_EXPONENT_BITS) -> None:
        if exponent_bits < MIN_EXPONENT_BITS:
            raise CryptoError(
                f"a DJN exponent under {MIN_EXPONENT_BITS} bits is not safe, got {exponent_bits}"
            )
        self.public_key = public_key
        self.exponent_bits = exponent_bits
        nsquare = gmpy2.mpz(public_key.nsquare)
        self._nsquare = nsquare
        rows = -(-exponent_bits // _WINDOW_BITS)
        base = gmpy2.mpz(djn_base(public_key))
        table = []
        for _ in range(rows):
            row = [gmpy2.mpz(1), base]
            for _ in range((1 << _WINDOW_BITS) - 2):
                row.append(row[-1] * base % nsquare)
            table.append(row)
            base = row[-1] * base % nsquare  # h_n^(256^(i+1))
        self._table = table

    def power(self, exponent: int) -> gmpy2.mpz:
        """Return h_n^exponent mod n² for 0 ≤ exponent < 2^exponent_bits."""
        acc = gmpy2.mpz(1)
        nsquare = self._nsquare
        digits = exponent.to_bytes(len(self._table), "little")
        for row, digit in zip(self._table, digits, strict=True):
            if digit:
                acc = acc * row[digit] % nsquare
        return acc

    def fresh(self, count: int) -> list[tuple[gmpy2.mpz, int]]:
        """Return ``count`` new (h_n^a, a) pairs, a ← secrets.randbits(exponent_bits).

        The exponent a is the encryption's secret witness: keep it only as long as a proof needs.
        """
        bits = self.exponent_bits
        exponents = [secrets.randbits(bits) for _ in range(count)]
        return [(self.power(a), a) for a in exponents]


_WORKER_TABLE: FixedBaseTable | None = None


def _init_worker(n: int, exponent_bits: int, insecure_test_key: bool) -> None:
    global _WORKER_TABLE
    key = PublicKey(n, _allow_insecure_test_key=insecure_test_key)
    _WORKER_TABLE = FixedBaseTable(key, exponent_bits)


def _worker_fresh(count: int) -> list[tuple[int, int]]:
    if _WORKER_TABLE is None:  # pragma: no cover - the initializer always runs first
        raise CryptoError("randomness worker used before initialisation")
    return [(int(x), a) for x, a in _WORKER_TABLE.fresh(count)]


class RandomnessPool:
    """Precomputed, single-use encryption randomness for one public key.

    :meth:`fill` adds fresh values (in worker processes when ``processes`` > 1); :meth:`take`
    removes and returns values, computing any shortfall on the spot, so a value is never used
    twice and encryption never fails for want of randomness. Each value keeps its exponent a
    (h_n^a) until taken, for :meth:`take_with_exponents`.
    """

    def __init__(
        self, public_key: PublicKey, *, exponent_bits: int = DEFAULT_EXPONENT_BITS
    ) -> None:
        self.public_key = public_key
        self.exponent_bits = exponent_bits
        self._table: FixedBaseTable | None = None
        self._values: deque[tuple[gmpy2.mpz, int]] = deque()

    @property
    def table(self) -> FixedBaseTable:
        """The window table, built on first use (≈ exponent_bits/8 * 255 multiplications)."""
        if self._table is None:
            self._table = FixedBaseTable(self.public_key, self.exponent_bits)
        return self._table

    def __len__(self) -> int:
        return len(self._values)

    def fill(self, count: int, *, processes: int = 1) -> None:
        """Add ``count`` fresh values; with ``processes`` > 1, split the work across processes.

        Each worker builds its own table once (its cost is included). Raises CryptoError if
        count < 0 or processes < 1.
        """
        if count < 0 or processes < 1:
            raise CryptoError("fill needs count ≥ 0 and processes ≥ 1")
        if processes == 1 or count < 2 * processes:
            self._values.extend(self.table.fresh(count))
            return
        chunks = [count // processes + (i < count % processes) for i in range(processes)]
        with ProcessPoolExecutor(
            mp_context=_SPAWN,
            max_workers=processes,
            initializer=_init_worker,
            initargs=(
                self.public_key.n,
                self.exponent_bits,
                self.public_key._allow_insecure_test_key,
            ),
        ) as pool:
            for part in pool.map(_worker_fresh, chunks):
                self._values.extend((gmpy2.mpz(x), a) for x, a in part)

    def take(self, count: int) -> list[gmpy2.mpz]:
        """Remove and return ``count`` residues, computing any the pool lacks (see below)."""
        return self.take_with_exponents(count)[0]

    def take_with_exponents(self, count: int) -> tuple[list[gmpy2.mpz], list[int]]:
        """Remove ``count`` values; return their residues h_n^a and their exponents a.

        Raises CryptoError if count < 0.
        """
        if count < 0:
            raise CryptoError("cannot take a negative number of values")
        ready = min(count, len(self._values))
        pairs = [self._values.popleft() for _ in range(ready)]
        if ready < count:
            pairs.extend(self.table.fresh(count - ready))
        return [rho for rho, _ in pairs], [a for _, a in pairs]
