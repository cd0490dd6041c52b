"""Coefficient-wise addition of lattice blobs modulo q: the chaincode's aggregation.

Standard library only and deterministic: the sum of ciphertexts (or of public-key shares, which
gives the collective public key) is the residue-wise sum modulo each RNS modulus, which is the sum
modulo q. Every input is parsed strictly first, so a malformed blob is refused before any
arithmetic and nothing partial is returned.

Speed without numpy: a body is read as one big integer whose 64-bit lanes are the residues.
Adding two bodies adds every lane at once (each residue is below 2^61, so a lane sum stays below
2^62 and never carries into its neighbour), and one branch-free conditional subtraction per
addition reduces every lane: adding ``2^63 - q_i`` sets a lane's top bit exactly when its sum is at
least ``q_i`` (:func:`~fedledger.protocol.lattice_wire.lane_constants`), and that bit, spread
to a full-lane mask, selects ``q_i`` to subtract.
"""

from __future__ import annotations

from collections.abc import Sequence

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.lattice_wire import (
    CIPHERTEXT,
    KEY_SHARE,
    KINDS,
    RingSpec,
    encode_blob,
    lane_constants,
    parse_blob,
)

__all__ = ["add_blobs", "add_bodies"]

_ADDABLE = {CIPHERTEXT, KEY_SHARE}
_LANE = 64
_LANE_MAX = (1 << _LANE) - 1


def add_bodies(bodies: Sequence[bytes], spec: RingSpec, polys: int) -> bytes:
    """Return the residue-wise sum modulo each q_i of already-validated bodies (reduced residues).

    Raises ProtocolError when there is nothing to add.
    """
    if not bodies:
        raise ProtocolError("lattice sum: nothing to add")
    if max(spec.moduli) >= 1 << 61:
        raise ProtocolError("lattice sum: moduli must be below 2^61")
    moduli, offsets, ones = lane_constants(spec.moduli, spec.n, polys)
    total = int.from_bytes(bodies[0], "little")
    for body in bodies[1:]:
        total += int.from_bytes(body, "little")
        # Top bit of each lane of (sum + 2^63 - q) is 1 exactly when the lane's sum >= q.
        at_least_q = ((total + offsets) >> 63) & ones
        total -= (at_least_q * _LANE_MAX) & moduli
    return total.to_bytes(len(bodies[0]), "little")


def add_blobs(blobs: Sequence[bytes], spec: RingSpec, kind: int, key_id: bytes) -> bytes:
    """Return the wire bytes of the sum of ``blobs`` (ciphertexts or public-key shares).

    Raises ProtocolError when there is nothing to add, the kind cannot be added, a blob is
    malformed or of another parameter set or key, or the blobs carry different value counts.
    """
    if kind not in _ADDABLE:
        raise ProtocolError(f"lattice sum: cannot add a {KINDS.get(kind, kind)}")
    if not blobs:
        raise ProtocolError("lattice sum: nothing to add")
    parsed = [parse_blob(b, spec, kind, key_id) for b in blobs]
    values = parsed[0].values
    for index, blob in enumerate(parsed):
        if blob.values != values:
            raise ProtocolError(
                f"lattice sum: blob {index} carries {blob.values} values, the first {values}"
            )
    total = add_bodies([b.residues for b in parsed], spec, parsed[0].polys)
    return encode_blob(spec, kind, key_id, values, total)
