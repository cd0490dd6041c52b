"""Threshold Paillier public data and verifiable decryption shares: wire formats and verification.

Shared by the chaincode (which refuses an invalid share before it lands on the ledger) and the
clients (which make and combine shares, :mod:`fedledger.crypto.threshold`). Standard library only,
with :mod:`fedledger.protocol.bigint` for the arithmetic; every check raises ``ProtocolError``
(or its subclass :class:`ShareProofError`, which carries the reason alone) with a message meant
for people.

Wire formats, version 1 (integers unsigned big-endian; ``w`` is the byte length of n²)::

    threshold public  "FLTP" | 1 | n_len u16 | n (n_len bytes, no leading zero) | threshold u16
                      | parties u16 | w u16 | v (w bytes) | parties * v_i (w bytes each)
    decryption share  "FLDS" | 1 | key fingerprint 32 | index u16 | w u16 | count u32
                      | challenge 32 bytes | response (z bytes) | count * d_j (w bytes each)

The response width z is fixed by the key: the bytes of the largest response :func:`verify_share`
accepts, bits(n²) + bits(Δ) + 3·256 + 1, with Δ = parties!.

Share proof (Shoup's scheme with batching; the security argument is in
:mod:`fedledger.crypto.threshold`): 128-bit coefficients e_j are hashed from the key, the party's
verification key, every c_j and every d_j; C = Π c_j^(e_j), D = Π d_j^(e_j); the share proves
log_(C⁴)(D²) = log_v(v_i) with a Fiat-Shamir proof of equality of discrete logs (e, z).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from fedledger.protocol.bigint import gcd, multi_exp, powmod
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.keyid import key_fingerprint, modulus_bytes

__all__ = [
    "BATCH_BITS",
    "CHALLENGE_BITS",
    "FORMAT_VERSION",
    "DecryptionShare",
    "ShareProofError",
    "ThresholdPublic",
    "batched_bases",
    "check_exact_length",
    "check_format_prefix",
    "decryption_share_from_bytes",
    "decryption_share_to_bytes",
    "response_width",
    "share_challenge",
    "threshold_public_from_bytes",
    "threshold_public_to_bytes",
    "verify_share",
]

FORMAT_VERSION = 1
BATCH_BITS = 128
CHALLENGE_BITS = 256
_CHALLENGE_BYTES = CHALLENGE_BITS // 8
_DOMAIN = b"fedledger/threshold-paillier/v1\x00"
_PUBLIC_MAGIC, _DSHARE_MAGIC = b"FLTP", b"FLDS"
_PREFIX = struct.Struct(">4sB")
_PUBLIC_N_LEN = struct.Struct(">H")
_PUBLIC_PARAMS = struct.Struct(">HHH")
_DSHARE_HEADER = struct.Struct(">4sB32sHHI")
_RESPONSE_EXTRA_BITS = 3 * CHALLENGE_BITS + 1
_MAX_U16 = 0xFFFF


class ShareProofError(ProtocolError):
    """A decryption share does not verify; ``reason`` says why (without naming the party)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ThresholdPublic:
    """The public side of a threshold key: n, t, the number of parties, v and v_1..v_parties."""

    n: int
    threshold: int
    parties: int
    v: int
    verification_keys: tuple[int, ...]

    @property
    def nsquare(self) -> int:
        """n², the ciphertext modulus."""
        return self.n * self.n

    @property
    def width(self) -> int:
        """Byte length of n²: the width of every group element on the wire."""
        return (self.nsquare.bit_length() + 7) // 8

    @property
    def delta(self) -> int:
        """Δ = parties!, which clears the denominators of the Lagrange coefficients."""
        return math.factorial(self.parties)

    @property
    def fingerprint(self) -> str:
        """Hex SHA-256 of n (:func:`fedledger.protocol.keyid.key_fingerprint`)."""
        return key_fingerprint(self.n)

    def verification_key(self, party: int) -> int:
        """Return v_party; raises ``ProtocolError`` for an index outside 1..parties."""
        if not 1 <= party <= self.parties:
            raise ProtocolError(f"party index {party} is not in 1..{self.parties}")
        return self.verification_keys[party - 1]


@dataclass(frozen=True)
class DecryptionShare:
    """Party ``index``'s partial decryptions c_j^(2Δs_i) with its proof (challenge, response)."""

    index: int
    values: tuple[int, ...]
    challenge: int
    response: int


def check_format_prefix(data: object, magic: bytes, what: str, minimum: int) -> bytes:
    """Check the magic bytes and version of a serialised ``what``; return the bytes.

    Raises ``ProtocolError``: "a serialised <what> must be bytes", "<what> truncated: …", "not a
    serialised <what>: bad magic bytes …", "unknown <what> format version 2 …".
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(f"a serialised {what} must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _PREFIX.size:
        raise ProtocolError(f"{what} truncated: {len(data)} bytes")
    found, version = _PREFIX.unpack_from(data)
    if found != magic:
        raise ProtocolError(
            f"not a serialised {what}: bad magic bytes {found!r}, expected {magic!r}"
        )
    if version != FORMAT_VERSION:
        raise ProtocolError(f"unknown {what} format version {version} (this code reads version 1)")
    if len(data) < minimum:
        raise ProtocolError(f"{what} truncated: {len(data)} bytes, the header alone is {minimum}")
    return data


def check_exact_length(data: bytes, expected: int, what: str) -> None:
    """Raise ``ProtocolError`` unless ``data`` is exactly ``expected`` bytes long."""
    if len(data) < expected:
        raise ProtocolError(f"{what} truncated: {len(data)} bytes, the header announces {expected}")
    if len(data) > expected:
        raise ProtocolError(
            f"{what} has {len(data) - expected} trailing bytes after the {expected} announced"
        )


def _ints(data: bytes, offset: int, width: int, count: int) -> list[int]:
    view = memoryview(data)
    return [
        int.from_bytes(view[offset + i * width : offset + (i + 1) * width], "big")
        for i in range(count)
    ]


def threshold_public_to_bytes(public: ThresholdPublic) -> bytes:
    """Return the canonical bytes of ``public``; raises ``ProtocolError`` if it cannot."""
    if not 1 <= public.threshold <= public.parties <= _MAX_U16:
        raise ProtocolError(f"cannot serialise {public.threshold} of {public.parties} parties")
    if len(public.verification_keys) != public.parties:
        raise ProtocolError(
            f"{len(public.verification_keys)} verification keys for {public.parties} parties"
        )
    width = public.width
    return b"".join(
        [
            _PREFIX.pack(_PUBLIC_MAGIC, FORMAT_VERSION),
            _PUBLIC_N_LEN.pack(len(modulus_bytes(public.n))),
            modulus_bytes(public.n),
            _PUBLIC_PARAMS.pack(public.threshold, public.parties, width),
            public.v.to_bytes(width, "big"),
            *(vk.to_bytes(width, "big") for vk in public.verification_keys),
        ]
    )


def threshold_public_from_bytes(data: bytes) -> ThresholdPublic:
    """Parse :func:`threshold_public_to_bytes` output.

    The modulus size is not judged here (the task schema and ``fedledger.crypto`` do that).
    Raises ``ProtocolError`` for truncated or trailing bytes, a wrong magic or version, a modulus
    with a leading zero byte or that is even, 1 ≤ threshold ≤ parties violated, a width other than
    that of n², or v or a verification key outside Z*(n²).
    """
    what = "threshold public key"
    data = check_format_prefix(data, _PUBLIC_MAGIC, what, _PREFIX.size + _PUBLIC_N_LEN.size)
    (n_len,) = _PUBLIC_N_LEN.unpack_from(data, _PREFIX.size)
    params_at = _PREFIX.size + _PUBLIC_N_LEN.size + n_len
    if len(data) < params_at + _PUBLIC_PARAMS.size:
        raise ProtocolError(f"{what} truncated: {len(data)} bytes, cut inside the header")
    n_raw = data[_PREFIX.size + _PUBLIC_N_LEN.size : params_at]
    if n_raw[:1] == b"\x00":
        raise ProtocolError(f"{what} is not canonical: the modulus has a leading zero byte")
    n = int.from_bytes(n_raw, "big")
    if n < 15 or n % 2 == 0:
        raise ProtocolError(f"{what} has a modulus that is not an odd integer > 15")
    threshold, parties, width = _PUBLIC_PARAMS.unpack_from(data, params_at)
    if not 1 <= threshold <= parties:
        raise ProtocolError(f"{what} has threshold {threshold} of {parties} parties")
    nsquare = n * n
    expected_width = (nsquare.bit_length() + 7) // 8
    if width != expected_width:
        raise ProtocolError(f"{what} uses {width}-byte integers, n² needs {expected_width}")
    body_at = params_at + _PUBLIC_PARAMS.size
    check_exact_length(data, body_at + (1 + parties) * width, what)
    v, *keys = _ints(data, body_at, width, 1 + parties)
    for name, value in [("v", v)] + [(f"verification key {i}", k) for i, k in enumerate(keys, 1)]:
        if not 1 < value < nsquare or gcd(value, n) != 1:
            raise ProtocolError(f"{what}: {name} is not in Z*(n^2)")
    return ThresholdPublic(n, threshold, parties, v, tuple(keys))


def response_width(public: ThresholdPublic) -> int:
    """Byte width of a share's proof response under ``public`` (module docstring)."""
    bits = public.nsquare.bit_length() + public.delta.bit_length() + _RESPONSE_EXTRA_BITS
    return (bits + 7) // 8


def _check_index(index: int, public: ThresholdPublic, what: str) -> None:
    if not 1 <= index <= public.parties:
        raise ProtocolError(f"{what} names party index {index}, not in 1..{public.parties}")


def decryption_share_to_bytes(public: ThresholdPublic, dshare: DecryptionShare) -> bytes:
    """Return the canonical bytes of ``dshare`` under ``public``.

    Raises ``ProtocolError`` for an unknown party index, no values, or a value, challenge or
    response that does not fit its fixed width.
    """
    _check_index(dshare.index, public, "decryption share")
    width, rwidth = public.width, response_width(public)
    if not dshare.values:
        raise ProtocolError("a decryption share needs at least one value")
    limit = 1 << (8 * width)
    if any(not 0 <= d < limit for d in dshare.values):
        raise ProtocolError("a decryption share value does not fit the width of n²")
    if not 0 <= dshare.challenge < 1 << CHALLENGE_BITS:
        raise ProtocolError("decryption share challenge does not fit 32 bytes")
    if not 0 <= dshare.response < 1 << (8 * rwidth):
        raise ProtocolError(f"decryption share response does not fit {rwidth} bytes")
    header = _DSHARE_HEADER.pack(
        _DSHARE_MAGIC, FORMAT_VERSION, bytes.fromhex(public.fingerprint), dshare.index, width,
        len(dshare.values),
    )  # fmt: skip
    return b"".join(
        [
            header,
            dshare.challenge.to_bytes(_CHALLENGE_BYTES, "big"),
            dshare.response.to_bytes(rwidth, "big"),
            *(d.to_bytes(width, "big") for d in dshare.values),
        ]
    )


def decryption_share_from_bytes(data: bytes, public: ThresholdPublic) -> DecryptionShare:
    """Parse :func:`decryption_share_to_bytes` output, read against the task's ``public`` data.

    Only the structure is checked (the proof is checked by :func:`verify_share`). Raises
    ``ProtocolError`` for truncated or trailing bytes, a wrong magic or version, another key, a
    wrong width, an unknown party index or a zero count.
    """
    what = "decryption share"
    data = check_format_prefix(data, _DSHARE_MAGIC, what, _DSHARE_HEADER.size)
    _, _, fingerprint, index, width, count = _DSHARE_HEADER.unpack_from(data)
    if fingerprint.hex() != public.fingerprint:
        raise ProtocolError(
            f"{what} is for key {fingerprint.hex()[:16]}…, the task's key is "
            f"{public.fingerprint[:16]}…"
        )
    if width != public.width:
        raise ProtocolError(f"{what} uses {width}-byte integers, n² needs {public.width}")
    _check_index(index, public, what)
    if count == 0:
        raise ProtocolError(f"{what} announces no values")
    rwidth = response_width(public)
    body_at = _DSHARE_HEADER.size + _CHALLENGE_BYTES + rwidth
    check_exact_length(data, body_at + count * width, what)
    challenge = int.from_bytes(data[_DSHARE_HEADER.size : _DSHARE_HEADER.size + 32], "big")
    response = int.from_bytes(data[_DSHARE_HEADER.size + _CHALLENGE_BYTES : body_at], "big")
    return DecryptionShare(index, tuple(_ints(data, body_at, width, count)), challenge, response)


def _bytes_or_empty(value: int) -> bytes:
    """Big-endian minimal bytes of a non-negative integer (b"" for 0), for unambiguous hashing."""
    return modulus_bytes(value) if value > 0 else b""


def _key_bytes(public: ThresholdPublic, party: int) -> bytes:
    parts = [public.n, public.v, public.verification_key(party), party, public.parties]
    return b"".join(len(b).to_bytes(4, "big") + b for b in map(_bytes_or_empty, parts))


def batched_bases(
    public: ThresholdPublic, party: int, ciphertexts: Sequence[int], values: Sequence[int]
) -> tuple[int, int]:
    """Return (C⁴, D²) for the Fiat-Shamir batch coefficients of ``party``'s share."""
    width = public.width
    digest = hashlib.sha256(_DOMAIN + b"batch" + _key_bytes(public, party))
    for c in ciphertexts:
        digest.update(int(c).to_bytes(width, "big"))
    for d in values:
        digest.update(int(d).to_bytes(width, "big"))
    seed = digest.digest()
    coefficients = [
        int.from_bytes(hashlib.sha256(seed + j.to_bytes(4, "big")).digest()[:16], "big")
        for j in range(len(ciphertexts))
    ]
    nsquare = public.nsquare
    big_c = multi_exp(ciphertexts, coefficients, nsquare, BATCH_BITS)
    big_d = multi_exp(values, coefficients, nsquare, BATCH_BITS)
    return powmod(big_c, 4, nsquare), powmod(big_d, 2, nsquare)


def share_challenge(
    public: ThresholdPublic, party: int, u: int, u_tilde: int, a: int, b: int
) -> int:
    """Return the 256-bit Fiat-Shamir challenge of a share proof with commitments (a, b)."""
    digest = hashlib.sha256(_DOMAIN + b"dleq" + _key_bytes(public, party))
    for value in (u, u_tilde, a, b):
        raw = _bytes_or_empty(value)
        digest.update(len(raw).to_bytes(4, "big") + raw)
    return int.from_bytes(digest.digest(), "big")


def _check_group(public: ThresholdPublic, values: Sequence[int], what: str) -> None:
    n, nsquare = public.n, public.nsquare
    for index, c in enumerate(values):
        if not 0 < c < nsquare or gcd(c, n) != 1:
            raise ShareProofError(f"{what} {index} is not in Z*(n^2)")


def verify_share(
    public: ThresholdPublic, ciphertexts: Sequence[int], dshare: DecryptionShare
) -> None:
    """Return None if ``dshare`` is a correct decryption share of ``ciphertexts``.

    Raises :class:`ShareProofError` when the party index is unknown, the length is wrong, a value
    lies outside Z*(n²), the proof values are out of range or the proof fails.
    """
    party = dshare.index
    if not isinstance(party, int) or not 1 <= party <= public.parties:
        raise ShareProofError(f"index is not in 1..{public.parties}")
    if len(dshare.values) != len(ciphertexts):
        raise ShareProofError(f"{len(dshare.values)} values for {len(ciphertexts)} ciphertexts")
    _check_group(public, dshare.values, "value")
    e, z = dshare.challenge, dshare.response
    bound = public.nsquare.bit_length() + public.delta.bit_length() + 3 * CHALLENGE_BITS + 1
    if not (0 <= e < 1 << CHALLENGE_BITS and 0 <= z < 1 << bound):
        raise ShareProofError("proof values out of range")
    nsquare = public.nsquare
    u, u_tilde = batched_bases(public, party, ciphertexts, dshare.values)
    a = powmod(u, z, nsquare) * powmod(u_tilde, -e, nsquare) % nsquare
    vk = public.verification_key(party)
    b = powmod(public.v, z, nsquare) * powmod(vk, -e, nsquare) % nsquare
    if share_challenge(public, party, u, u_tilde, a, b) != e:
        raise ShareProofError("the proof of correct decryption does not verify")
