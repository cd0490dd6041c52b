"""Keys without a dealer: each party's secret share, its public-key share, its Shamir shares.

Each party samples its own ternary secret ``s_i`` in its own helper; the collective public key is
``(sum_i p_i, a)`` with ``p_i = -a * s_i + e_i`` and ``a`` the common random polynomial of the
task's seed, so no process ever computes ``s = sum_i s_i``. For t-of-N decryption each party
deals Shamir shares of ``s_i`` (Lattigo's Thresholdizer: a random polynomial of degree t - 1 with
constant term ``s_i``, evaluated at each recipient's point); a recipient keeps the share of every
dealer apart, so a round can be decrypted under the key of exactly the parties that contributed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fedledger.crypto.lattice.session import LatticeSession
from fedledger.errors import CryptoError
from fedledger.protocol.lattice_sum import add_blobs
from fedledger.protocol.lattice_wire import (
    KEY_SHARE,
    SECRET_KEY,
    SHAMIR_SHARE,
    encode_blob,
    parse_blob,
)

__all__ = [
    "collective_public_key",
    "deal_shamir_shares",
    "generate_secret_key",
    "public_key_share",
]


def generate_secret_key(session: LatticeSession) -> bytes:
    """Return a fresh secret share as a blob; it must never leave its party."""
    _, (residues,) = session.helper.call("keygen", session.params.ring)
    return encode_blob(session.params.ring, SECRET_KEY, session.key_id, 0, residues)


def _residues(session: LatticeSession, blob: bytes, kind: int) -> bytes:
    return parse_blob(blob, session.params.ring, kind, session.key_id).residues


def public_key_share(session: LatticeSession, secret_key: bytes) -> bytes:
    """Return this party's public-key share for the task's common random polynomial.

    Raises ProtocolError for a malformed secret key, HelperError if the helper refuses.
    """
    sk = _residues(session, secret_key, SECRET_KEY)
    _, (residues,) = session.helper.call(
        "pk_share", session.params.ring, None, [sk, session.crs_seed]
    )
    return encode_blob(session.params.ring, KEY_SHARE, session.key_id, 0, residues)


def collective_public_key(session: LatticeSession, shares: Sequence[bytes]) -> bytes:
    """Return the collective public key: the coefficient-wise sum of every party's share.

    Raises ProtocolError when a share is malformed or of another task.
    """
    return add_blobs(shares, session.params.ring, KEY_SHARE, session.key_id)


def deal_shamir_shares(
    session: LatticeSession, secret_key: bytes, recipients: Sequence[int]
) -> dict[int, bytes]:
    """Return this party's Shamir share of its secret for each recipient point (1..65535).

    Any ``threshold`` recipients' shares determine the secret, fewer reveal nothing about it.
    The shares are secret: each must reach its recipient sealed. Raises CryptoError for bad
    points.
    """
    points = list(recipients)
    if len(set(points)) != len(points) or not all(0 < p < 1 << 16 for p in points):
        raise CryptoError(f"recipient points must be distinct and in 1..65535, got {points}")
    sk = _residues(session, secret_key, SECRET_KEY)
    args = {"threshold": session.params.threshold, "recipients": points}
    _, blobs = session.helper.call("shamir_deal", session.params.ring, args, [sk])
    ring, key_id = session.params.ring, session.key_id
    return {
        p: encode_blob(ring, SHAMIR_SHARE, key_id, 0, b) for p, b in zip(points, blobs, strict=True)
    }


def shamir_residues(
    session: LatticeSession, received: Mapping[int, bytes], dealers: Sequence[int]
) -> list[bytes]:
    """Return the residues of the shares received from ``dealers``, in dealer order.

    Raises CryptoError when a dealer's share is missing, ProtocolError when one is malformed.
    """
    missing = [d for d in dealers if d not in received]
    if missing:
        raise CryptoError(f"no Shamir share from dealer(s) {missing}")
    return [_residues(session, received[d], SHAMIR_SHARE) for d in dealers]
