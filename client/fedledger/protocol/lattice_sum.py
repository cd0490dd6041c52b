"""Coefficient-wise addition of lattice blobs modulo q: the chaincode's aggregation.

Standard library only and deterministic: the sum of ciphertexts (or of public-key shares, which
gives the collective public key) is the residue-wise sum modulo each RNS modulus, which is the sum
modulo q. Every input is parsed strictly first, so a malformed blob is refused before any
arithmetic and nothing partial is returned.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.lattice_wire import (
    CIPHERTEXT,
    KEY_SHARE,
    KINDS,
    RingSpec,
    encode_blob,
    parse_blob,
    residue_words,
)

__all__ = ["add_blobs"]

_ADDABLE = {CIPHERTEXT, KEY_SHARE}


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
    words = [residue_words(b.residues) for b in parsed]
    total = array("Q")
    n, moduli = spec.n, spec.moduli
    for p in range(parsed[0].polys):
        for i, q in enumerate(moduli):
            start = (p * len(moduli) + i) * n
            block = zip(*(w[start : start + n] for w in words), strict=True)
            total.extend(sum(column) % q for column in block)
    if sys.byteorder != "little":
        total.byteswap()
    return encode_blob(spec, kind, key_id, values, total.tobytes())
