"""Threshold Paillier decryption, t of n, with verifiable decryption shares (Shoup / Damgård-Jurik).

Key ceremony (:func:`deal`) — trust assumption: one *dealer* knows p = 2p' + 1 and q = 2q' + 1
(safe primes) during the ceremony. It sets m = p'q', the secret d with d ≡ 0 (mod m) and
d ≡ 1 (mod n), and Shamir-shares d with a random polynomial f of degree t - 1 over Z_(n·m):
party i gets s_i = f(i). It publishes a random square v of Z*(n²) and verification keys
v_i = v^(Δ·s_i), Δ = n_parties!. Whoever runs the dealer can decrypt everything, so the dealer
must be trusted for the duration of the ceremony and must then erase p, q, m, d and the
polynomial (in practice: run it in a short-lived process that seals each share to its party
and exits, keeping no copy). This module keeps no reference to them after :func:`deal` returns.

Decryption: party i publishes d_j = c_j^(2Δ·s_i) for every ciphertext c_j, with a proof. Any t
valid shares S combine: Π_(i∈S) d_(i,j)^(2λ_i) = c_j^(4Δ²·d) = (1 + n)^(4Δ²·m_j), with the
integer Lagrange coefficients λ_i = Δ·Π_(k∈S - {i}) k / (k - i); hence m_j = L(·)·(4Δ²)^-1 mod n.
With fewer than t shares the secret is information-theoretically hidden and nothing decrypts.

Share verification (batched, Fiat-Shamir with SHA-256): let e_j be 128-bit coefficients derived
by hashing the key, the party's verification key, all c_j and all d_j. Set C = Π c_j^(e_j) and
D = Π d_j^(e_j). The party proves log_(C⁴)(D²) = log_v(v_i) (= Δ·s_i) with Shoup's
non-interactive proof of equality of discrete logs: a = (C⁴)^r, b = v^r, challenge
e = H(…, a, b), response z = r + e·Δ·s_i over the integers (r has 2 * 256 bits more than e·Δ·s_i,
so z statistically hides the share). Soundness of the batching: the squares of Z*(n²) form a
group of order n·p'·q' with no prime factor below 2^1000. If some share is wrong, the element
δ_j = d_j² / c_j^(4Δs_i) ≠ 1 has order above 2^128, so for any fixed other coefficients at most
one 128-bit e_j makes Π δ_j^(e_j) = 1; since the e_j are hashed from the d_j, a cheater must hit
that value, probability ≤ 2^-128 per hash evaluation it tries (random-oracle model). Squaring
(C⁴, D²) removes the order-2 components that an unverifiable sign flip could hide, and the
combination only uses d_j², exactly as in Shoup's scheme.
"""

from __future__ import annotations

import math
import multiprocessing
import secrets
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import gmpy2

from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.errors import CryptoError, InvalidShareError
from fedledger.protocol import threshold as wire
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.threshold import CHALLENGE_BITS, DecryptionShare, ThresholdPublic

# Worker processes start fresh (spawn): forking a process that has gRPC or TensorFlow threads
# running can deadlock the child.
_SPAWN = multiprocessing.get_context("spawn")

__all__ = [
    "DecryptionShare",
    "KeyShare",
    "ThresholdKey",
    "combine_shares",
    "deal",
    "partial_decrypt",
    "verify_share",
]


@dataclass(frozen=True)
class ThresholdKey:
    """The public side of a threshold key: Paillier key, t, n_parties, v and v_1..v_n."""

    public_key: PublicKey
    threshold: int
    parties: int
    v: int
    verification_keys: tuple[int, ...]

    @property
    def delta(self) -> int:
        """Δ = parties!, which clears the denominators of the Lagrange coefficients."""
        return self.public_data.delta

    @cached_property
    def public_data(self) -> ThresholdPublic:
        """The same key as the protocol's :class:`ThresholdPublic` (what the ledger holds)."""
        return ThresholdPublic(
            self.public_key.n, self.threshold, self.parties, self.v, self.verification_keys
        )

    def verification_key(self, party: int) -> int:
        """Return v_party; raises CryptoError for an index outside 1..parties."""
        try:
            return self.public_data.verification_key(party)
        except ProtocolError as exc:
            # The wire form checks the index; a key holder sees the crypto layer's error.
            raise CryptoError(str(exc)) from None


@dataclass(frozen=True)
class KeyShare:
    """Party ``index``'s secret share s_i of the decryption exponent. Keep it secret."""

    index: int
    secret: int = field(repr=False)


def deal(
    private_key: PrivateKey, *, threshold: int, parties: int
) -> tuple[ThresholdKey, list[KeyShare]]:
    """Run the one-time dealer ceremony (module docstring); return the public key and n shares.

    The caller must erase ``private_key`` afterwards. Raises CryptoError unless
    1 ≤ threshold ≤ parties and p, q are safe primes.
    """
    if not 1 <= threshold <= parties:
        raise CryptoError(f"need 1 ≤ threshold ≤ parties, got {threshold} of {parties}")
    if not private_key.is_safe:
        raise CryptoError("threshold Paillier needs safe primes p = 2p' + 1 and q = 2q' + 1")
    public = private_key.public_key
    n, nsquare = public.n, public.nsquare
    m = ((private_key.p - 1) // 2) * ((private_key.q - 1) // 2)
    modulus = n * m
    d = m * int(gmpy2.invert(m, n))  # d ≡ 0 mod m, d ≡ 1 mod n
    coefficients = [d] + [secrets.randbelow(modulus) for _ in range(threshold - 1)]
    secrets_ = [_evaluate(coefficients, i, modulus) for i in range(1, parties + 1)]
    v = _random_square(public)
    delta = math.factorial(parties)
    keys = tuple(int(gmpy2.powmod(v, delta * s, nsquare)) for s in secrets_)
    tkey = ThresholdKey(public, threshold, parties, v, keys)
    return tkey, [KeyShare(i, s) for i, s in enumerate(secrets_, start=1)]


def _evaluate(coefficients: Sequence[int], x: int, modulus: int) -> int:
    acc = 0
    for coefficient in reversed(coefficients):
        acc = (acc * x + coefficient) % modulus
    return acc


def _random_square(public: PublicKey) -> int:
    while True:
        r = secrets.randbelow(public.nsquare)
        if r > 1 and gmpy2.gcd(r, public.n) == 1:
            return int(r * r % public.nsquare)


def _powmod_chunk(job: tuple[list[int], int, int]) -> list[int]:
    bases, exponent, modulus = job
    return [int(x) for x in gmpy2.powmod_base_list(bases, exponent, modulus)]


def _power_all(bases: Sequence[int], exponent: int, modulus: int, processes: int) -> list[int]:
    if processes <= 1 or len(bases) < 2 * processes:
        return _powmod_chunk((list(bases), exponent, modulus))
    size = -(-len(bases) // processes)
    jobs = [(list(bases[i : i + size]), exponent, modulus) for i in range(0, len(bases), size)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=_SPAWN) as pool:
        return [x for part in pool.map(_powmod_chunk, jobs) for x in part]


def _check_group(public: PublicKey, values: Sequence[int], what: str) -> None:
    for index, c in enumerate(values):
        if not 0 < c < public.nsquare or gmpy2.gcd(c, public.n) != 1:
            raise CryptoError(f"{what} {index} is not in Z*(n^2)")


def partial_decrypt(
    tkey: ThresholdKey,
    share: KeyShare,
    ciphertexts: Sequence[int],
    *,
    processes: int = 1,
) -> DecryptionShare:
    """Return party ``share.index``'s verifiable decryption share of ``ciphertexts``.

    Costs one ~4,100-bit exponentiation mod n² per ciphertext; ``processes`` > 1 spreads them
    over worker processes. Raises CryptoError for an empty vector, a ciphertext outside Z*(n²),
    or a share that does not match its verification key.
    """
    public = tkey.public_key
    if not ciphertexts:
        raise CryptoError("nothing to decrypt: the ciphertext vector is empty")
    _check_group(public, ciphertexts, "ciphertext")
    x = tkey.delta * share.secret
    if gmpy2.powmod(tkey.v, x, public.nsquare) != tkey.verification_key(share.index):
        raise CryptoError(f"key share {share.index} does not match its verification key")
    values = _power_all(ciphertexts, 2 * x, public.nsquare, processes)
    u, u_tilde = wire.batched_bases(tkey.public_data, share.index, ciphertexts, values)
    nsquare = public.nsquare
    r = secrets.randbits(nsquare.bit_length() + tkey.delta.bit_length() + 2 * CHALLENGE_BITS)
    a, b = gmpy2.powmod(u, r, nsquare), gmpy2.powmod(tkey.v, r, nsquare)
    challenge = wire.share_challenge(tkey.public_data, share.index, u, u_tilde, int(a), int(b))
    return DecryptionShare(share.index, tuple(values), challenge, r + challenge * x)


def verify_share(tkey: ThresholdKey, ciphertexts: Sequence[int], dshare: DecryptionShare) -> None:
    """Return None if ``dshare`` is a correct decryption share of ``ciphertexts``.

    The check is the protocol's (:func:`fedledger.protocol.threshold.verify_share`), the one the
    chaincode runs before a share lands on the ledger. Raises InvalidShareError naming
    ``dshare.index`` when the party index is unknown, the length is wrong, a value lies outside
    Z*(n²) or the proof fails.
    """
    try:
        wire.verify_share(tkey.public_data, ciphertexts, dshare)
    except ProtocolError as exc:
        reason = exc.reason if isinstance(exc, wire.ShareProofError) else str(exc)
        raise InvalidShareError(dshare.index, reason) from None


def combine_shares(
    tkey: ThresholdKey,
    ciphertexts: Sequence[int],
    shares: Sequence[DecryptionShare],
    *,
    verify: bool = True,
) -> list[int]:
    """Return the plaintexts in [0, n) of ``ciphertexts`` from at least t decryption shares.

    Every share is verified first (unless ``verify`` is False), so a wrong share is reported,
    never combined. Raises InvalidShareError naming the first bad party, CryptoError if two
    different shares claim the same party or fewer than t distinct parties contributed.
    """
    by_party: dict[int, DecryptionShare] = {}
    for dshare in shares:
        if by_party.setdefault(dshare.index, dshare) != dshare:
            raise CryptoError(f"two different decryption shares claim party {dshare.index}")
    if len(by_party) < tkey.threshold:
        raise CryptoError(
            f"need decryption shares from {tkey.threshold} parties, got {len(by_party)}: "
            "fewer than the threshold decrypt nothing"
        )
    if verify:
        for dshare in by_party.values():
            verify_share(tkey, ciphertexts, dshare)
    chosen = [by_party[i] for i in sorted(by_party)[: tkey.threshold]]
    return _lagrange_combine(tkey, chosen, len(ciphertexts))


def _lagrange_combine(
    tkey: ThresholdKey, chosen: Sequence[DecryptionShare], count: int
) -> list[int]:
    public, delta = tkey.public_key, tkey.delta
    n, nsquare = gmpy2.mpz(public.n), gmpy2.mpz(public.nsquare)
    indices = [s.index for s in chosen]
    exponents = []
    for i in indices:
        lam = delta * math.prod(Fraction(k, k - i) for k in indices if k != i)
        if lam.denominator != 1:  # pragma: no cover - Δ clears every denominator
            raise CryptoError("internal error: Lagrange coefficient is not an integer")
        exponents.append(2 * lam.numerator)
    inverse = gmpy2.invert(4 * delta * delta, n)
    plaintexts = []
    for j in range(count):
        acc = gmpy2.mpz(1)
        for dshare, exponent in zip(chosen, exponents, strict=True):
            acc = acc * gmpy2.powmod(dshare.values[j], exponent, nsquare) % nsquare
        plaintexts.append(int((acc - 1) // n * inverse % n))
    return plaintexts
