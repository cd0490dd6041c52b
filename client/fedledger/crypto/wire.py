"""Canonical bytes of threshold key material: the public key, a key share, a decryption share.

The public key and the decryption share are read and written by :mod:`fedledger.protocol.threshold`
(the chaincode checks shares with the same code); this module adds the secret key share and turns
the protocol's errors into :class:`CryptoError`.

Each format starts with 4 magic bytes and a version byte; integers are unsigned big-endian, and
every length is fixed by the header (or by the threshold key the bytes are read against), so a
byte string is either the one encoding of one value or rejected with a CryptoError naming the
problem: truncated, trailing bytes, wrong magic, unknown version, a field out of range. ``w`` is
the byte length of n² (512 for a 2048-bit n). Version 1::

    threshold public  "FLTP" | 1 | n_len u16 | n (n_len bytes, no leading zero) | threshold u16
                      | parties u16 | w u16 | v (w bytes) | parties * v_i (w bytes each)
    key share         "FLKS" | 1 | key fingerprint 32 | index u16 | w u16 | s_i (w bytes)
    decryption share  "FLDS" | 1 | key fingerprint 32 | index u16 | w u16 | count u32
                      | challenge 32 bytes | response (z bytes) | count * d_j (w bytes each)

Δ = parties! is implied by ``parties``; the fingerprint is SHA-256 of n
(:func:`fedledger.protocol.keyid.key_fingerprint`). The response width z is fixed by the key:
the bytes of the largest response :func:`fedledger.crypto.threshold.verify_share` accepts. A key
share has a fixed width so a sealed share's size reveals nothing about the secret. The ledger
stores the standard padded base64 of the threshold public data and of decryption shares;
:func:`from_base64` accepts only that canonical form.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Callable
from typing import TypeVar

from fedledger.crypto.keys import PublicKey
from fedledger.crypto.threshold import DecryptionShare, KeyShare, ThresholdKey
from fedledger.errors import CryptoError
from fedledger.protocol import threshold as protocol
from fedledger.protocol.errors import ProtocolError

__all__ = [
    "FORMAT_VERSION",
    "decryption_share_from_base64",
    "decryption_share_from_bytes",
    "decryption_share_to_base64",
    "decryption_share_to_bytes",
    "from_base64",
    "key_share_from_bytes",
    "key_share_to_bytes",
    "threshold_key_from_base64",
    "threshold_key_from_bytes",
    "threshold_key_to_base64",
    "threshold_key_to_bytes",
    "to_base64",
]

FORMAT_VERSION = protocol.FORMAT_VERSION
_KEY_SHARE_MAGIC = b"FLKS"
_KEY_SHARE_HEADER = struct.Struct(">4sB32sHH")
_T = TypeVar("_T")


def _crypto(call: Callable[[], _T]) -> _T:
    """Run a protocol-level parse or encode; its ProtocolError becomes a CryptoError."""
    try:
        return call()
    except ProtocolError as exc:
        raise CryptoError(str(exc)) from None


def _width(public_key: PublicKey) -> int:
    return (public_key.nsquare.bit_length() + 7) // 8


def threshold_key_to_bytes(tkey: ThresholdKey) -> bytes:
    """Return the canonical bytes of the public side of ``tkey`` (module docstring).

    Raises CryptoError if ``parties`` does not fit 16 bits.
    """
    return _crypto(lambda: protocol.threshold_public_to_bytes(tkey.public_data))


def threshold_key_from_bytes(data: bytes) -> ThresholdKey:
    """Parse :func:`threshold_key_to_bytes` output and return the ThresholdKey.

    Raises CryptoError for truncated or trailing bytes, a wrong magic or version, a modulus under
    2048 bits or with a leading zero byte, 1 ≤ threshold ≤ parties violated, a width other than
    that of n², or v or a verification key outside Z*(n²).
    """
    public = _crypto(lambda: protocol.threshold_public_from_bytes(data))
    key = PublicKey(public.n)
    return ThresholdKey(key, public.threshold, public.parties, public.v, public.verification_keys)


def key_share_to_bytes(tkey: ThresholdKey, share: KeyShare) -> bytes:
    """Return the canonical bytes of ``share`` under ``tkey``; raises CryptoError if invalid."""
    _check_index(share.index, tkey, "key share")
    width = _width(tkey.public_key)
    if not 0 <= share.secret < 1 << (8 * width):
        raise CryptoError("key share secret does not fit the width of n²")
    header = _KEY_SHARE_HEADER.pack(
        _KEY_SHARE_MAGIC, FORMAT_VERSION, bytes.fromhex(tkey.public_key.fingerprint),
        share.index, width,
    )  # fmt: skip
    return header + share.secret.to_bytes(width, "big")


def key_share_from_bytes(data: bytes, tkey: ThresholdKey) -> KeyShare:
    """Parse :func:`key_share_to_bytes` output, read against the task's ``tkey``.

    Only the structure is checked here (magic, version, key fingerprint, width, index, length);
    :func:`fedledger.crypto.ceremony.open_key_share` also checks the verification key.
    Raises CryptoError naming the problem.
    """
    what = "key share"
    size = _KEY_SHARE_HEADER.size
    data = _crypto(lambda: protocol.check_format_prefix(data, _KEY_SHARE_MAGIC, what, size))
    _, _, fingerprint, index, width = _KEY_SHARE_HEADER.unpack_from(data)
    if fingerprint.hex() != tkey.public_key.fingerprint:
        raise CryptoError(
            f"{what} is for key {fingerprint.hex()[:16]}…, the task's key is "
            f"{tkey.public_key.fingerprint[:16]}…"
        )
    if width != _width(tkey.public_key):
        raise CryptoError(f"{what} uses {width}-byte integers, n² needs {_width(tkey.public_key)}")
    _check_index(index, tkey, what)
    _crypto(lambda: protocol.check_exact_length(data, size + width, what))
    return KeyShare(index, int.from_bytes(data[size:], "big"))


def _check_index(index: int, tkey: ThresholdKey, what: str) -> None:
    if not 1 <= index <= tkey.parties:
        raise CryptoError(f"{what} names party index {index}, not in 1..{tkey.parties}")


def decryption_share_to_bytes(tkey: ThresholdKey, dshare: DecryptionShare) -> bytes:
    """Return the canonical bytes of ``dshare`` under ``tkey`` (module docstring).

    Raises CryptoError for an unknown party index, no values, or a value, challenge or response
    that does not fit its fixed width.
    """
    return _crypto(lambda: protocol.decryption_share_to_bytes(tkey.public_data, dshare))


def decryption_share_from_bytes(data: bytes, tkey: ThresholdKey) -> DecryptionShare:
    """Parse :func:`decryption_share_to_bytes` output, read against the task's ``tkey``.

    Only the structure is checked (the proof is checked by
    :func:`fedledger.crypto.threshold.verify_share`). Raises CryptoError for truncated or
    trailing bytes, a wrong magic or version, another key, a wrong width, an unknown party
    index or a zero count.
    """
    return _crypto(lambda: protocol.decryption_share_from_bytes(data, tkey.public_data))


def to_base64(data: bytes) -> str:
    """Return the standard, padded base64 text of ``data`` (what the ledger stores)."""
    return base64.b64encode(bytes(data)).decode("ascii")


def from_base64(text: str, what: str = "value") -> bytes:
    """Return the bytes of canonical standard base64 ``text``.

    Raises CryptoError naming ``what`` for a non-string, invalid characters, bad padding or
    spare bits (non-canonical text would let two ledger values mean the same bytes).
    """
    if not isinstance(text, str):
        raise CryptoError(f"a base64 {what} must be a string, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CryptoError(f"{what} is not valid base64: {exc}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CryptoError(f"{what} base64 is not canonical (padding or spare bits)")
    return raw


def threshold_key_to_base64(tkey: ThresholdKey) -> str:
    """Return the base64 of :func:`threshold_key_to_bytes` (the task's ``threshold_public``)."""
    return to_base64(threshold_key_to_bytes(tkey))


def threshold_key_from_base64(text: str) -> ThresholdKey:
    """Parse :func:`threshold_key_to_base64` output; raises CryptoError."""
    return threshold_key_from_bytes(from_base64(text, "threshold public key"))


def decryption_share_to_base64(tkey: ThresholdKey, dshare: DecryptionShare) -> str:
    """Return the base64 of :func:`decryption_share_to_bytes`; raises CryptoError."""
    return to_base64(decryption_share_to_bytes(tkey, dshare))


def decryption_share_from_base64(text: str, tkey: ThresholdKey) -> DecryptionShare:
    """Parse :func:`decryption_share_to_base64` output against ``tkey``; raises CryptoError."""
    return decryption_share_from_bytes(from_base64(text, "decryption share"), tkey)
