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
from fedledger.crypto.lattice.session import LatticeSession
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

__all__ = ["combine_shares", "decryption_share", "encrypt", "encrypt_public"]


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
        half = len(blob.residues) // 2
        source, seeded, polys = blob.residues[half:], False, blob.polys // 2
        noise = params.public_noise()
    else:
        blob = parse_blob(ciphertext, ring, CIPHERTEXT, key_id)
        source, seeded, polys = session.round_seed(round_number), True, blob.polys
        noise = params.seeded_noise(len(dealers))
    shares = shamir_residues(session, received, dealers)
    args = {
        "own": own,
        "actives": points,
        "threshold": params.threshold,
        "dealers": len(dealers),
        "polys": polys,
        "seeded": seeded,
        "flood_bits": params.flood_bits(polys * ring.n, noise),
    }
    _, (residues,) = session.helper.call("decrypt_share", ring, args, [source, *shares])
    return encode_blob(ring, DECRYPTION_SHARE, key_id, blob.values, residues)


def combine_shares(
    session: LatticeSession, ciphertext: bytes, shares: Sequence[bytes], *, public: bool = False
) -> list[int]:
    """Return the plaintext of ``ciphertext`` from the ``threshold`` shares of one active set.

    Raises CryptoError for a wrong number of shares or a result outside the plaintext range
    (a wrong share), ProtocolError for malformed input.
    """
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
    _, (out,) = session.helper.call("combine", ring, {"values": blob.values}, parts)
    values = array("q")
    values.frombytes(out)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()
