"""Key fingerprints: how the ledger names a Paillier public key (standard library only)."""

from __future__ import annotations

import hashlib

from fedledger.protocol.errors import ProtocolError

__all__ = ["FINGERPRINT_HEX_LENGTH", "key_fingerprint", "modulus_bytes"]

FINGERPRINT_HEX_LENGTH = 64


def modulus_bytes(n: int) -> bytes:
    """Return the canonical encoding of a positive integer: minimal-length big-endian bytes.

    Raises ProtocolError if ``n`` is not a positive ``int``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ProtocolError(f"a modulus must be a positive integer, got {n!r}")
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def key_fingerprint(n: int) -> str:
    """Return the fingerprint of the Paillier public key with modulus ``n``.

    It is the lowercase hex SHA-256 of :func:`modulus_bytes` (``n`` alone determines the key since
    g = n + 1). Raises ProtocolError if ``n`` is not a positive integer.
    """
    return hashlib.sha256(modulus_bytes(n)).hexdigest()
