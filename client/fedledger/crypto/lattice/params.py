"""Parameters of the lattice scheme, derived from the task: plaintext modulus, flooding, ring.

Nothing here is copied from an example; every size follows from four task numbers and two
security parameters:

- **Plaintext modulus t.** An honest sum of ``participants`` values each in ``[-max_abs,
  max_abs]`` lies in ``[-B, B]`` with ``B = participants * max_abs``; ``t = 2B + 1`` holds every
  such sum exactly, centred, so an honest sum never wraps (and a value outside the bound is
  refused before encryption).
- **Noise flooding.** A decryption share is ``c1 * s_j + E_j`` with ``E_j`` uniform in
  ``[-2^b, 2^b)``. What it must hide is the ciphertext's noise ``e`` (it is a function of the
  contributors' secret randomness, and with the public ``c0`` it would give ``c1 * s`` exactly,
  hence ``s``). For one coefficient, ``SD(U, U + x) = |x| / 2^(b+1)`` for ``|x| <= B_e``; over
  the ``n`` coefficients of one share the union bound gives ``n * B_e / 2^(b+1)``. Choosing
  ``b = ceil(stat_security + log2 n + log2 B_e)`` makes every share within statistical distance
  ``2^-(stat_security+1)`` of one computed from the plaintext alone, even if every other
  decryptor is dishonest (each share floods on its own).
- **Ciphertext modulus q.** Decryption is exact when the total noise (ciphertext noise plus
  ``threshold`` floods) is below ``q / (2t)``; q is the product of NTT-friendly primes of at most
  60 bits (``q_i = 1 mod 2N``) just large enough, with one bit of margin.
- **Ring degree N.** The smallest power of two whose ``log2 q`` stays within the HE Standard's
  bound for 128-bit classical security with a uniform ternary secret and error sigma 3.2
  (Albrecht et al., Homomorphic Encryption Security Standard, 2018, table 1): N = 2048: 54 bits,
  4096: 109, 8192: 218, 16384: 438, 32768: 881.

Noise bounds: Lattigo's error sampler is a discrete Gaussian with sigma 3.2 cut at 19.2, and
secrets are ternary. A seeded ciphertext (secret-key encryption under a party's own share) has
noise at most 19 per contributor. A public-key ciphertext has noise ``u*e_pk + e0 + e1*s`` with
``e_pk`` and ``s`` sums over all key holders: at most ``2 * N * holders * 19 + 19``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fedledger.errors import CryptoError
from fedledger.protocol.lattice_wire import RingSpec

__all__ = ["HE_STANDARD_LOG_Q", "LatticeParameters", "derive_parameters", "ntt_primes"]

HE_STANDARD_LOG_Q = {11: 54, 12: 109, 13: 218, 14: 438, 15: 881}
"""Largest log2(q) for 128-bit classical security, uniform ternary secret (HE Standard, 2018)."""

ERROR_BOUND = 19  # Lattigo's discrete Gaussian: sigma 3.2, cut at 6 sigma = 19.2
MAX_PRIME_BITS = 60
DEFAULT_STAT_SECURITY = 40


@dataclass(frozen=True)
class LatticeParameters:
    """A parameter set with the numbers it was derived from (all stated, none copied)."""

    ring: RingSpec
    participants: int
    threshold: int
    max_abs: int
    max_values: int
    stat_security: int

    @property
    def log_q(self) -> float:
        """Return log2 of the ciphertext modulus q."""
        return sum(math.log2(q) for q in self.ring.moduli)

    def flood_bits(self, coefficients: int, noise_bound: int) -> int:
        """Return b such that a flood uniform in [-2^b, 2^b) hides noise up to ``noise_bound``
        in ``coefficients`` coefficients within statistical distance 2^-(stat_security+1)."""
        return math.ceil(self.stat_security + math.log2(coefficients) + math.log2(noise_bound))

    def seeded_noise(self, contributors: int) -> int:
        """Return the noise bound of a sum of ``contributors`` seeded ciphertexts."""
        return contributors * ERROR_BOUND

    def public_noise(self) -> int:
        """Return the noise bound of one public-key ciphertext under the collective key."""
        return 2 * self.ring.n * self.participants * ERROR_BOUND + ERROR_BOUND

    def value_coefficients(self, values: int) -> int:
        """Return the coefficients a decryption share of ``values`` values covers."""
        return self.ring.n * -(-values // self.ring.n)


def _is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for n < 3.3e24 (the first 13 prime bases suffice)."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n in bases:
        return True
    if any(n % p == 0 for p in bases):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def ntt_primes(bits: int, count: int, log_n: int) -> tuple[int, ...]:
    """Return the ``count`` smallest primes above 2^bits that are 1 mod 2N (NTT-friendly)."""
    step = 2 << log_n
    primes: list[int] = []
    candidate = (1 << bits) + 1
    while len(primes) < count:
        if _is_prime(candidate):
            primes.append(candidate)
        candidate += step
    return tuple(primes)


def derive_parameters(
    participants: int,
    threshold: int,
    max_abs: int,
    max_values: int,
    stat_security: int = DEFAULT_STAT_SECURITY,
) -> LatticeParameters:
    """Return the smallest parameter set for the task, sized as the module docstring explains.

    Raises CryptoError when a number is out of range or no ring up to 2^15 is large enough.
    """
    if participants < 1 or not 1 <= threshold <= participants:
        raise CryptoError(f"need 1 <= threshold <= participants, got {threshold} of {participants}")
    if max_abs < 1 or max_values < 1:
        raise CryptoError(f"max_abs and max_values must be positive, got {max_abs}, {max_values}")
    t = 2 * participants * max_abs + 1
    for log_n, limit in HE_STANDARD_LOG_Q.items():
        probe = LatticeParameters(
            RingSpec(log_n, (), t), participants, threshold, max_abs, max_values, stat_security
        )
        floods = max(
            probe.flood_bits(
                probe.value_coefficients(max_values), probe.seeded_noise(participants)
            ),
            probe.flood_bits(probe.ring.n, probe.public_noise()),
        )
        noise = probe.public_noise() + threshold * (1 << floods)
        need = math.ceil(math.log2(2 * t * noise)) + 1
        count = -(-need // MAX_PRIME_BITS)
        bits = -(-need // count)
        if count * (bits + 1) > limit:
            continue
        moduli = ntt_primes(bits, count, log_n)
        return LatticeParameters(
            RingSpec(log_n, moduli, t), participants, threshold, max_abs, max_values, stat_security
        )
    raise CryptoError(f"no ring up to 2^15 fits t = {t} with {stat_security}-bit flooding")
