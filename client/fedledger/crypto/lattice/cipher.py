"""Encrypt exact integers, make decryption shares with noise flooding, combine t shares.

An update is a vector of signed integers ``|v| <= max_abs``. Round ``r``'s ciphertext of party i
is ``c0 = Delta * m - a_r * s_i + e`` per polynomial, with ``a_r`` the round's common polynomial
(derived from the public round seed, so only ``c0`` travels) and ``Delta = floor(q / t)``. The
sum of the contributors' ``c0`` is a ciphertext of the sum under ``s_C = sum_{i in C} s_i``.
A decryptor j turns its Shamir shares from the dealers in C into an additive share
``lambda_j * sum_{i in C} f_i(j)`` for the active set and publishes ``a_r * that + E_j`` with a
fresh uniform flood ``E_j`` (width from :mod:`fedledger.crypto.lattice.params`).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Mapping, Sequence

from fedledger.crypto.lattice.keys import shamir_residues
from fedledger.crypto.lattice.session import LatticeSession, derive_seed
from fedledger.errors import CryptoError, EncodingOverflowError
from fedledger.protocol.lattice_wire import (
    CIPHERTEXT,
    DECRYPTION_SHARE,
    KEY_SHARE,
    PUBLIC_CIPHERTEXT,
    SECRET_KEY,
    encode_blob,
    parse_blob,
)

__all__ = ["check_vector", "combine_shares", "decryption_share", "encrypt", "encrypt_public"]


def _pack_values(session: LatticeSession, values: Sequence[int]) -> tuple[int, bytes]:
    """Return (count, little-endian int64 bytes); raise when a value is not an int in bound."""
    bound = session.params.max_abs
    try:
        packed = array("q", values)
    except (TypeError, OverflowError) as exc:
        raise EncodingOverflowError(f"lattice values must be 64-bit integers: {exc}") from exc
    if not packed:
        raise CryptoError("nothing to encrypt: the vector is empty")
    if len(packed) > session.params.max_values:
        raise CryptoError(f"{len(packed)} values exceed the task's {session.params.max_values}")
    low, high = min(packed), max(packed)
    if low < -bound or high > bound:
        raise EncodingOverflowError(
            f"a value ({low if low < -bound else high}) is outside [-{bound}, {bound}]"
        )
    if sys.byteorder != "little":
        packed.byteswap()
    return len(packed), packed.tobytes()


def encrypt(
    session: LatticeSession, secret_key: bytes, round_number: int, values: Sequence[int]
) -> bytes:
    """Return the round's ciphertext of ``values`` under this party's own secret share.

    Never encrypt twice for the same round: two ciphertexts with the same ``a_r`` differ by
    ``Delta * (m - m') + (e - e')``, which reveals ``m - m'``. Raises EncodingOverflowError for a
    value outside the bound, CryptoError for an empty or too long vector.
    """
    count, packed = _pack_values(session, values)
    sk = parse_blob(secret_key, session.params.ring, SECRET_KEY, session.key_id).residues
    _, (c0,) = session.helper.call(
        "encrypt_seeded", session.params.ring, None, [sk, session.round_seed(round_number), packed]
    )
    return encode_blob(session.params.ring, CIPHERTEXT, session.key_id, count, c0)


def encrypt_public(session: LatticeSession, public_key: bytes, values: Sequence[int]) -> bytes:
    """Return a public-key ciphertext of ``values`` under the collective key (the key check).

    Raises as :func:`encrypt`, and ProtocolError for a malformed collective key.
    """
    count, packed = _pack_values(session, values)
    p0 = parse_blob(public_key, session.params.ring, KEY_SHARE, session.key_id).residues
    _, (c0, c1) = session.helper.call(
        "encrypt_public", session.params.ring, None, [p0, session.crs_seed, packed]
    )
    return encode_blob(session.params.ring, PUBLIC_CIPHERTEXT, session.key_id, count, c0 + c1)


def decryption_share(
    session: LatticeSession,
    ciphertext: bytes,
    *,
    received: Mapping[int, bytes],
    dealers: Sequence[int],
    own: int,
    actives: Sequence[int],
    round_number: int | None = None,
) -> bytes:
    """Return this party's flooded decryption share of ``ciphertext``.

    ``ciphertext`` is a round's aggregate (kind CIPHERTEXT, with ``round_number``) or a
    public-key ciphertext; ``dealers`` are the parties whose secrets it is under (the round's
    contributors, or everyone for the public key); ``received`` maps each dealer to the Shamir
    share it dealt to ``own``; ``actives`` are exactly ``threshold`` decryptors, ``own`` among them.
    Publish at most one share per ciphertext: two shares with fresh floods average the flood away.
    Raises CryptoError for a wrong active set or a missing share, ProtocolError for malformed
    input, HelperError if the helper refuses.
    """
    params = session.params
    ring, key_id = params.ring, session.key_id
    points = sorted(set(actives))
    if len(points) != params.threshold or own not in points:
        raise CryptoError(
            f"need exactly {params.threshold} distinct decryptors including {own},"
            f" got {list(actives)}"
        )
    if round_number is None:
        blob = parse_blob(ciphertext, ring, PUBLIC_CIPHERTEXT, key_id)
        source, seeded = blob.residues[len(blob.residues) // 2 :], False
    else:
        blob = parse_blob(ciphertext, ring, CIPHERTEXT, key_id)
        source, seeded = session.round_seed(round_number), True
    contributors = None if round_number is None else len(dealers)
    polys, flood_bits, _ = _noise(session, blob.values, contributors)
    shares = shamir_residues(session, received, dealers)
    args = {
        "own": own,
        "actives": points,
        "threshold": params.threshold,
        "dealers": len(dealers),
        "polys": polys,
        "seeded": seeded,
        "flood_bits": flood_bits,
    }
    _, (residues,) = session.helper.call("decrypt_share", ring, args, [source, *shares])
    return encode_blob(ring, DECRYPTION_SHARE, key_id, blob.values, residues)


def _noise(session: LatticeSession, values: int, contributors: int | None) -> tuple[int, int, int]:
    """Return (polynomials, flood bits per share, bound on the combined noise) of decrypting
    ``values`` values: a round's aggregate of ``contributors``, or a public-key ciphertext."""
    params = session.params
    polys = params.ring.polynomials(CIPHERTEXT, values)
    noise = params.public_noise() if contributors is None else params.seeded_noise(contributors)
    flood_bits = params.flood_bits(polys * params.ring.n, noise)
    return polys, flood_bits, noise + params.threshold * (1 << flood_bits)


def combine_shares(
    session: LatticeSession,
    ciphertext: bytes,
    shares: Sequence[bytes],
    *,
    contributors: int | None = None,
) -> list[int]:
    """Return the plaintext of ``ciphertext`` from the ``threshold`` shares of one active set.

    ``contributors`` is the number of updates in a round's aggregate; leave it out for a
    public-key ciphertext. Every coefficient's noise is checked against the bound an honest
    decryption cannot exceed, and the padding must decrypt to zero, so a wrong share (or the
    wrong round) is refused instead of yielding a random sum. A share shifted by a well-formed
    plaintext offset is not detectable here (see the package docstring).
    Raises CryptoError for a wrong number of shares, HelperError when the check fails,
    ProtocolError for malformed input.
    """
    public = contributors is None
    ring, key_id = session.params.ring, session.key_id
    if len(shares) != session.params.threshold:
        raise CryptoError(
            f"need exactly {session.params.threshold} decryption shares, got {len(shares)}"
        )
    kind = PUBLIC_CIPHERTEXT if public else CIPHERTEXT
    blob = parse_blob(ciphertext, ring, kind, key_id)
    c0 = blob.residues[: len(blob.residues) // 2] if public else blob.residues
    parts = [c0]
    for index, share in enumerate(shares):
        parsed = parse_blob(share, ring, DECRYPTION_SHARE, key_id)
        if parsed.values != blob.values:
            raise CryptoError(
                f"decryption share {index} covers {parsed.values} values, the"
                f" ciphertext {blob.values}"
            )
        parts.append(parsed.residues)
    _, _, bound = _noise(session, blob.values, contributors)
    args = {"values": blob.values, "noise_bound": str(bound)}
    _, (out,) = session.helper.call("combine", ring, args, parts)
    values = array("q")
    values.frombytes(out)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def check_vector(session: LatticeSession, length: int = 64) -> list[int]:
    """Return the task's known vector for the end-to-end key check (public: derived from the
    task's check seed, values spread over the whole range [-max_abs, max_abs])."""
    bound = session.params.max_abs
    stream = b"".join(
        derive_seed("key-check-values", session.check_seed, i) for i in range(-(-length // 4))
    )
    words = [int.from_bytes(stream[8 * i : 8 * i + 8], "little") for i in range(length)]
    return [w % (2 * bound + 1) - bound for w in words]
