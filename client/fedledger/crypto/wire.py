"""Canonical bytes of threshold key material: the public key, a key share, a decryption share.

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

import gmpy2

from fedledger.crypto.keys import PublicKey
from fedledger.crypto.threshold import DecryptionShare, KeyShare, ThresholdKey
from fedledger.errors import CryptoError

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

FORMAT_VERSION = 1
_PUBLIC_MAGIC, _KEY_SHARE_MAGIC, _DSHARE_MAGIC = b"FLTP", b"FLKS", b"FLDS"
_PREFIX = struct.Struct(">4sB")
_PUBLIC_N_LEN = struct.Struct(">H")
_PUBLIC_PARAMS = struct.Struct(">HHH")
_KEY_SHARE_HEADER = struct.Struct(">4sB32sHH")
_DSHARE_HEADER = struct.Struct(">4sB32sHHI")
_CHALLENGE_BYTES = 32
# Mirrors the response bound of threshold.verify_share: |z| < 2^(bits(n²) + bits(Δ) + 3·256 + 1).
_RESPONSE_EXTRA_BITS = 3 * 8 * _CHALLENGE_BYTES + 1
_MAX_U16 = 0xFFFF


def _width(public_key: PublicKey) -> int:
    return (public_key.nsquare.bit_length() + 7) // 8


def _response_width(tkey: ThresholdKey) -> int:
    bits = tkey.public_key.nsquare.bit_length() + tkey.delta.bit_length() + _RESPONSE_EXTRA_BITS
    return (bits + 7) // 8


def _check_prefix(data: object, magic: bytes, what: str, minimum: int) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CryptoError(f"a serialised {what} must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _PREFIX.size:
        raise CryptoError(f"{what} truncated: {len(data)} bytes")
    found, version = _PREFIX.unpack_from(data)
    if found != magic:
        raise CryptoError(f"not a serialised {what}: bad magic bytes {found!r}, expected {magic!r}")
    if version != FORMAT_VERSION:
        raise CryptoError(f"unknown {what} format version {version} (this code reads version 1)")
    if len(data) < minimum:
        raise CryptoError(f"{what} truncated: {len(data)} bytes, the header alone is {minimum}")
    return data


def _check_length(data: bytes, expected: int, what: str) -> None:
    if len(data) < expected:
        raise CryptoError(f"{what} truncated: {len(data)} bytes, the header announces {expected}")
    if len(data) > expected:
        raise CryptoError(
            f"{what} has {len(data) - expected} trailing bytes after the {expected} announced"
        )


def _ints(data: bytes, offset: int, width: int, count: int) -> list[int]:
    view = memoryview(data)
    return [
        int.from_bytes(view[offset + i * width : offset + (i + 1) * width], "big")
        for i in range(count)
    ]


def _check_key_binding(tkey: ThresholdKey, fingerprint: bytes, width: int, what: str) -> None:
    if fingerprint.hex() != tkey.public_key.fingerprint:
        raise CryptoError(
            f"{what} is for key {fingerprint.hex()[:16]}…, the task's key is "
            f"{tkey.public_key.fingerprint[:16]}…"
        )
    if width != _width(tkey.public_key):
        raise CryptoError(f"{what} uses {width}-byte integers, n² needs {_width(tkey.public_key)}")


def _check_index(index: int, tkey: ThresholdKey, what: str) -> None:
    if not 1 <= index <= tkey.parties:
        raise CryptoError(f"{what} names party index {index}, not in 1..{tkey.parties}")


def threshold_key_to_bytes(tkey: ThresholdKey) -> bytes:
    """Return the canonical bytes of the public side of ``tkey`` (module docstring).

    Raises CryptoError if ``parties`` does not fit 16 bits.
    """
    if not 1 <= tkey.threshold <= tkey.parties <= _MAX_U16:
        raise CryptoError(f"cannot serialise {tkey.threshold} of {tkey.parties} parties")
    n = tkey.public_key.n
    n_raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    width = _width(tkey.public_key)
    return b"".join(
        [
            _PREFIX.pack(_PUBLIC_MAGIC, FORMAT_VERSION),
            _PUBLIC_N_LEN.pack(len(n_raw)),
            n_raw,
            _PUBLIC_PARAMS.pack(tkey.threshold, tkey.parties, width),
            tkey.v.to_bytes(width, "big"),
            *(vk.to_bytes(width, "big") for vk in tkey.verification_keys),
        ]
    )


def threshold_key_from_bytes(data: bytes) -> ThresholdKey:
    """Parse :func:`threshold_key_to_bytes` output and return the ThresholdKey.

    Raises CryptoError for truncated or trailing bytes, a wrong magic or version, a modulus under
    2048 bits or with a leading zero byte, 1 ≤ threshold ≤ parties violated, a width other than
    that of n², or v or a verification key outside Z*(n²).
    """
    what = "threshold public key"
    data = _check_prefix(data, _PUBLIC_MAGIC, what, _PREFIX.size + _PUBLIC_N_LEN.size)
    (n_len,) = _PUBLIC_N_LEN.unpack_from(data, _PREFIX.size)
    params_at = _PREFIX.size + _PUBLIC_N_LEN.size + n_len
    if len(data) < params_at + _PUBLIC_PARAMS.size:
        raise CryptoError(f"{what} truncated: {len(data)} bytes, cut inside the header")
    n_raw = data[_PREFIX.size + _PUBLIC_N_LEN.size : params_at]
    if n_raw[:1] == b"\x00":
        raise CryptoError(f"{what} is not canonical: the modulus has a leading zero byte")
    public = PublicKey(int.from_bytes(n_raw, "big"))
    threshold, parties, width = _PUBLIC_PARAMS.unpack_from(data, params_at)
    if not 1 <= threshold <= parties:
        raise CryptoError(f"{what} has threshold {threshold} of {parties} parties")
    if width != _width(public):
        raise CryptoError(f"{what} uses {width}-byte integers, n² needs {_width(public)}")
    body_at = params_at + _PUBLIC_PARAMS.size
    _check_length(data, body_at + (1 + parties) * width, what)
    v, *keys = _ints(data, body_at, width, 1 + parties)
    for name, value in [("v", v)] + [(f"verification key {i}", k) for i, k in enumerate(keys, 1)]:
        if not 1 < value < public.nsquare or gmpy2.gcd(value, public.n) != 1:
            raise CryptoError(f"{what}: {name} is not in Z*(n^2)")
    return ThresholdKey(public, threshold, parties, v, tuple(keys))


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
    data = _check_prefix(data, _KEY_SHARE_MAGIC, what, _KEY_SHARE_HEADER.size)
    _, _, fingerprint, index, width = _KEY_SHARE_HEADER.unpack_from(data)
    _check_key_binding(tkey, fingerprint, width, what)
    _check_index(index, tkey, what)
    _check_length(data, _KEY_SHARE_HEADER.size + width, what)
    return KeyShare(index, int.from_bytes(data[_KEY_SHARE_HEADER.size :], "big"))


def decryption_share_to_bytes(tkey: ThresholdKey, dshare: DecryptionShare) -> bytes:
    """Return the canonical bytes of ``dshare`` under ``tkey`` (module docstring).

    Raises CryptoError for an unknown party index, no values, or a value, challenge or response
    that does not fit its fixed width.
    """
    _check_index(dshare.index, tkey, "decryption share")
    width, response_width = _width(tkey.public_key), _response_width(tkey)
    if not dshare.values:
        raise CryptoError("a decryption share needs at least one value")
    limit = 1 << (8 * width)
    if any(not 0 <= d < limit for d in dshare.values):
        raise CryptoError("a decryption share value does not fit the width of n²")
    if not 0 <= dshare.challenge < 1 << (8 * _CHALLENGE_BYTES):
        raise CryptoError("decryption share challenge does not fit 32 bytes")
    if not 0 <= dshare.response < 1 << (8 * response_width):
        raise CryptoError(f"decryption share response does not fit {response_width} bytes")
    header = _DSHARE_HEADER.pack(
        _DSHARE_MAGIC, FORMAT_VERSION, bytes.fromhex(tkey.public_key.fingerprint),
        dshare.index, width, len(dshare.values),
    )  # fmt: skip
    return b"".join(
        [
            header,
            dshare.challenge.to_bytes(_CHALLENGE_BYTES, "big"),
            dshare.response.to_bytes(response_width, "big"),
            *(d.to_bytes(width, "big") for d in dshare.values),
        ]
    )


def decryption_share_from_bytes(data: bytes, tkey: ThresholdKey) -> DecryptionShare:
    """Parse :func:`decryption_share_to_bytes` output, read against the task's ``tkey``.

    Only the structure is checked (the proof is checked by
    :func:`fedledger.crypto.threshold.verify_share`). Raises CryptoError for truncated or
    trailing bytes, a wrong magic or version, another key, a wrong width, an unknown party
    index or a zero count.
    """
    what = "decryption share"
    data = _check_prefix(data, _DSHARE_MAGIC, what, _DSHARE_HEADER.size)
    _, _, fingerprint, index, width, count = _DSHARE_HEADER.unpack_from(data)
    _check_key_binding(tkey, fingerprint, width, what)
    _check_index(index, tkey, what)
    if count == 0:
        raise CryptoError(f"{what} announces no values")
    response_width = _response_width(tkey)
    body_at = _DSHARE_HEADER.size + _CHALLENGE_BYTES + response_width
    _check_length(data, body_at + count * width, what)
    challenge, response = (
        int.from_bytes(data[_DSHARE_HEADER.size : _DSHARE_HEADER.size + _CHALLENGE_BYTES], "big"),
        int.from_bytes(data[_DSHARE_HEADER.size + _CHALLENGE_BYTES : body_at], "big"),
    )
    return DecryptionShare(index, tuple(_ints(data, body_at, width, count)), challenge, response)


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
