"""Float vectors in and out of packed ciphertext vectors: the layer the participant role uses.

encrypt: quantise → pack → Paillier with pooled randomness → :class:`CipherVector`, and for a
submitted update (:func:`encrypt_update`) the proof of plaintext knowledge bound to its round.
decrypt: t threshold shares (or, in tests, the full key) → plaintexts → unpack → floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fedledger.crypto import paillier
from fedledger.crypto.encoding import EncodingParams, decode, encode
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.popk import prove_plaintext_knowledge
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import (
    DecryptionShare,
    KeyShare,
    ThresholdKey,
    combine_shares,
    partial_decrypt,
)
from fedledger.errors import CryptoError, EncodingError
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.popk import PlaintextProof, ProofContext

__all__ = [
    "decrypt_vector",
    "decrypt_vector_with_shares",
    "encrypt_update",
    "encrypt_vector",
    "partial_decrypt_vector",
]


def _width(public_key: PublicKey) -> int:
    return (public_key.nsquare.bit_length() + 7) // 8


def encrypt_vector(
    values: Iterable[float],
    public_key: PublicKey,
    params: EncodingParams,
    pool: RandomnessPool,
    *,
    clip: bool = True,
) -> CipherVector:
    """Return the packed encryption of ``values`` (clipped to ±params.clip unless ``clip=False``).

    Raises EncodingError if the vector is empty or the packing does not fit the modulus,
    EncodingOverflowError for an unclipped value beyond the bound, CryptoError for a pool of
    another key.
    """
    vector, _, _ = _encrypt(values, public_key, params, pool, clip=clip)
    return vector


def encrypt_update(
    values: Iterable[float],
    public_key: PublicKey,
    params: EncodingParams,
    pool: RandomnessPool,
    context: ProofContext,
    *,
    clip: bool = True,
) -> tuple[CipherVector, PlaintextProof]:
    """Return the packed encryption of ``values`` and its proof of plaintext knowledge.

    ``context`` binds the proof to the task, round, submitting party and key; the chaincode
    refuses an update whose proof does not verify for the submitter. Raises as
    :func:`encrypt_vector`, and CryptoError when ``context`` names another key.
    """
    vector, plaintexts, exponents = _encrypt(values, public_key, params, pool, clip=clip)
    proof = prove_plaintext_knowledge(public_key, vector, plaintexts, exponents, context)
    return vector, proof


def _encrypt(
    values: Iterable[float],
    public_key: PublicKey,
    params: EncodingParams,
    pool: RandomnessPool,
    *,
    clip: bool,
) -> tuple[CipherVector, list[int], list[int]]:
    values = list(values)
    if not values:
        raise EncodingError("cannot encrypt an empty vector")
    if params.slots * params.slot_bits > public_key.bits - 1:
        raise EncodingError(
            f"{params.slots} slots of {params.slot_bits} bits do not fit a {public_key.bits}-bit n"
        )
    plaintexts = encode(values, params, clip=clip)
    ciphertexts, exponents = paillier.encrypt_with_exponents(public_key, plaintexts, pool)
    vector = CipherVector(
        public_key.fingerprint, params.to_spec(), len(values), _width(public_key),
        tuple(ciphertexts),
    )  # fmt: skip
    return vector, plaintexts, exponents


def _check_key(public_key: PublicKey, vec: CipherVector) -> None:
    if vec.key_fingerprint != public_key.fingerprint:
        raise CryptoError("the cipher vector was encrypted under a different key")


def decrypt_vector(private_key: PrivateKey, vec: CipherVector, *, summands: int = 1) -> list[float]:
    """Return the float (sum) vector in ``vec`` using the full private key (tests, dealer).

    Raises CryptoError for another key or a ciphertext outside Z*(n²), EncodingError or
    EncodingOverflowError if the plaintexts are not a packing of ``summands`` vectors.
    """
    public = private_key.public_key
    _check_key(public, vec)
    plaintexts = [paillier.decrypt(private_key, c) for c in vec.ciphertexts]
    params = EncodingParams.from_spec(vec.spec)
    return decode(plaintexts, params, vec.value_count, modulus=public.n, summands=summands)


def partial_decrypt_vector(
    tkey: ThresholdKey, share: KeyShare, vec: CipherVector, *, processes: int = 1
) -> DecryptionShare:
    """Return this party's verifiable decryption share of ``vec``; raises CryptoError."""
    _check_key(tkey.public_key, vec)
    return partial_decrypt(tkey, share, vec.ciphertexts, processes=processes)


def decrypt_vector_with_shares(
    tkey: ThresholdKey,
    vec: CipherVector,
    shares: Sequence[DecryptionShare],
    *,
    summands: int,
    verify: bool = True,
) -> list[float]:
    """Return the float sum of ``summands`` vectors in ``vec`` from ≥ t verified shares.

    ``verify=False`` skips share verification, for callers that have just verified the shares.
    Raises InvalidShareError naming a bad party, CryptoError for too few shares or another key,
    EncodingError if the result is not a packing of ``summands`` vectors.
    """
    _check_key(tkey.public_key, vec)
    plaintexts = combine_shares(tkey, vec.ciphertexts, shares, verify=verify)
    params = EncodingParams.from_spec(vec.spec)
    return decode(plaintexts, params, vec.value_count, modulus=tkey.public_key.n, summands=summands)
