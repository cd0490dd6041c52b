"""The prover of the proof of plaintext knowledge that every submitted update carries.

The statement, the security argument and the verifier live in :mod:`fedledger.protocol.popk`
(the chaincode checks proofs with it). Proving needs what only the encrypting party has: each
packed plaintext m_j and the DJN exponent a_j of its randomness (rho_j = h_n^(a_j) = (h^(a_j))^n,
:mod:`fedledger.crypto.randomness`). The combined randomness R = Π (h^(a_j))^(e_j) is then one
short exponentiation, h^(Σ e_j a_j) mod n, so proving costs a few exponentiations whatever the
vector's length: x and s are fresh from :mod:`secrets` for every proof.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import gmpy2

from fedledger.crypto.keys import PublicKey
from fedledger.crypto.randomness import djn_root
from fedledger.errors import CryptoError
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.popk import (
    PlaintextProof,
    ProofContext,
    batch_coefficients,
    batch_seed,
    proof_challenge,
)

__all__ = ["prove_plaintext_knowledge"]


def prove_plaintext_knowledge(
    public_key: PublicKey,
    vector: CipherVector,
    plaintexts: Sequence[int],
    exponents: Sequence[int],
    context: ProofContext,
) -> PlaintextProof:
    """Return the proof that the maker of ``vector`` knows its plaintexts, bound to ``context``.

    ``plaintexts`` are the packed plaintexts that were encrypted (any integers; taken mod n) and
    ``exponents`` the DJN exponents of their randomness, both in ciphertext order. Raises
    CryptoError for another key or context key, or lengths that do not match the vector.
    """
    n, nsquare = public_key.n, public_key.nsquare
    if public_key.fingerprint not in (vector.key_fingerprint, context.key_fingerprint) or (
        vector.key_fingerprint != context.key_fingerprint
    ):
        raise CryptoError("the vector, the key and the proof context name different keys")
    count = len(vector.ciphertexts)
    if len(plaintexts) != count or len(exponents) != count:
        raise CryptoError(
            f"{count} ciphertexts need as many plaintexts and exponents, got "
            f"{len(plaintexts)} and {len(exponents)}"
        )
    seed = batch_seed(context, hashlib.sha256(vector.to_bytes()).digest())
    coefficients = batch_coefficients(seed, count)
    total_m = sum(e * (m % n) for e, m in zip(coefficients, plaintexts, strict=True)) % n
    total_a = sum(e * a for e, a in zip(coefficients, exponents, strict=True))
    big_r = gmpy2.powmod(djn_root(public_key), total_a, n)
    big_c = int((1 + total_m * n) * gmpy2.powmod(big_r, n, nsquare) % nsquare)
    x = secrets.randbelow(n)
    s = _unit(n)
    commitment = int((1 + x * n) * gmpy2.powmod(s, n, nsquare) % nsquare)
    challenge = proof_challenge(context, seed, big_c, commitment, n)
    z = (x + challenge * total_m) % n
    w = int(s * gmpy2.powmod(big_r, challenge, n) % n)
    return PlaintextProof(n, challenge, z, w)


def _unit(n: int) -> int:
    while True:
        s = secrets.randbelow(n)
        if s > 1 and gmpy2.gcd(s, n) == 1:
            return s
