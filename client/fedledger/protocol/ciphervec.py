"""Packed Paillier ciphertext vectors on the wire: format, validation, homomorphic sum.

Standard library only, because the chaincode imports it. A :class:`CipherVector` is what a
participant submits for a round and what the chaincode stores as the round's aggregate.

Binary format, version 1 (all integers unsigned big-endian)::

    magic "FLCV" | version u8 | key fingerprint 32 bytes (raw SHA-256 of n)
    | frac_bits u16 | clip_units u64 | max_summands u32 | slot_bits u16 | slots u32
    | value_count u32 | ciphertext_width u16 | ciphertext_count u32
    | ciphertext_count * ciphertext_width bytes (each ciphertext, fixed width)

``ciphertext_width`` is the byte length of n². Every field has exactly one valid encoding and
the total length is implied by the header, so a byte string is either the canonical encoding of
one vector or rejected; the ledger stores the standard base64 (with padding) of these bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd
from typing import Any

from fedledger.protocol.bigint import product_mod
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.keyid import key_fingerprint

__all__ = [
    "FORMAT_VERSION",
    "CipherVector",
    "EncodingSpec",
    "homomorphic_sum",
    "key_fingerprint",
    "validate_cipher_vector",
]

FORMAT_VERSION = 1
_MAGIC = b"FLCV"
_HEADER = struct.Struct(">4sB32sHQIHIIHI")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LIMITS = {
    "frac_bits": 0xFFFF,
    "clip_units": 0xFFFF_FFFF_FFFF_FFFF,
    "max_summands": 0xFFFF_FFFF,
    "slot_bits": 0xFFFF,
    "slots": 0xFFFF_FFFF,
}


def _check_uint(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{name} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ProtocolError(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class EncodingSpec:
    """How floats were quantised and packed into plaintexts, as plain integers.

    A value x is quantised to round(x · 2^frac_bits), with |q| ≤ clip_units; ``slots`` signed
    slots of ``slot_bits`` bits are packed per plaintext, and the sum of up to ``max_summands``
    vectors fits every slot: max_summands · clip_units ≤ 2^(slot_bits - 1) - 1.
    Raises ProtocolError if a field is out of range or the headroom inequality fails.
    """

    frac_bits: int
    clip_units: int
    max_summands: int
    slot_bits: int
    slots: int

    def __post_init__(self) -> None:
        for name, high in _LIMITS.items():
            low = 2 if name == "slot_bits" else (0 if name == "frac_bits" else 1)
            _check_uint(name, getattr(self, name), low, high)
        capacity = (1 << (self.slot_bits - 1)) - 1
        if self.max_summands * self.clip_units > capacity:
            raise ProtocolError(
                f"slot overflow: {self.max_summands} summands * {self.clip_units} exceeds the "
                f"{self.slot_bits}-bit slot capacity {capacity}"
            )

    def ciphertext_count(self, value_count: int) -> int:
        """Return how many ciphertexts hold ``value_count`` values (the last one may be partial)."""
        return -(-value_count // self.slots)

    def fits_modulus(self, n: int) -> bool:
        """True if a packed plaintext's signed range (< 2^(slots·slot_bits - 1)) stays under n/2."""
        return self.slots * self.slot_bits <= n.bit_length() - 1

    def to_dict(self) -> dict[str, int]:
        """Return the fields as a dict of ints, for canonical JSON."""
        return {name: getattr(self, name) for name in _LIMITS}

    @classmethod
    def from_dict(cls, data: Any) -> EncodingSpec:
        """Return the spec described by ``data``; raises ProtocolError on missing/extra keys."""
        if not isinstance(data, dict) or set(data) != set(_LIMITS):
            raise ProtocolError(f"an encoding spec needs exactly the keys {sorted(_LIMITS)}")
        return cls(**data)


@dataclass(frozen=True)
class CipherVector:
    """A packed ciphertext vector under the key with fingerprint ``key_fingerprint``.

    ``value_count`` is the number of packed values; ``ciphertext_width`` the byte length of n².
    Raises ProtocolError if the fields are malformed or inconsistent with each other.
    """

    key_fingerprint: str
    spec: EncodingSpec
    value_count: int
    ciphertext_width: int
    ciphertexts: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.key_fingerprint, str) or not _HEX64.fullmatch(self.key_fingerprint):
            raise ProtocolError("key fingerprint must be 64 lowercase hex digits")
        if not isinstance(self.spec, EncodingSpec):
            raise ProtocolError("spec must be an EncodingSpec")
        _check_uint("value_count", self.value_count, 1, 0xFFFF_FFFF)
        _check_uint("ciphertext_width", self.ciphertext_width, 1, 0xFFFF)
        if not isinstance(self.ciphertexts, tuple):
            raise ProtocolError("ciphertexts must be a tuple of integers")
        expected = self.spec.ciphertext_count(self.value_count)
        if len(self.ciphertexts) != expected:
            raise ProtocolError(
                f"{self.value_count} values in {self.spec.slots}-slot plaintexts need {expected} "
                f"ciphertexts, got {len(self.ciphertexts)}"
            )
        bound = 1 << (8 * self.ciphertext_width)
        for index, c in enumerate(self.ciphertexts):
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < bound:
                raise ProtocolError(
                    f"ciphertext {index} is not an integer of at most {self.ciphertext_width} bytes"
                )

    def to_bytes(self) -> bytes:
        """Return the canonical binary encoding (module docstring)."""
        spec = self.spec
        header = _HEADER.pack(
            _MAGIC, FORMAT_VERSION, bytes.fromhex(self.key_fingerprint), spec.frac_bits,
            spec.clip_units, spec.max_summands, spec.slot_bits, spec.slots, self.value_count,
            self.ciphertext_width, len(self.ciphertexts),
        )  # fmt: skip
        width = self.ciphertext_width
        return header + b"".join(c.to_bytes(width, "big") for c in self.ciphertexts)

    @classmethod
    def from_bytes(cls, data: bytes) -> CipherVector:
        """Parse the canonical binary encoding.

        Raises ProtocolError for a short or long input, a wrong magic or unknown version, or
        fields that are out of range or inconsistent.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ProtocolError("a cipher vector must be given as bytes")
        data = bytes(data)
        if len(data) < _HEADER.size:
            raise ProtocolError(
                f"cipher vector truncated: {len(data)} bytes, the header alone is {_HEADER.size}"
            )
        (magic, version, fingerprint, frac_bits, clip_units, max_summands, slot_bits, slots,
         value_count, width, count) = _HEADER.unpack_from(data)  # fmt: skip
        if magic != _MAGIC:
            raise ProtocolError("not a cipher vector: bad magic bytes")
        if version != FORMAT_VERSION:
            raise ProtocolError(f"unknown cipher vector format version {version}")
        expected_size = _HEADER.size + count * width
        if len(data) != expected_size:
            raise ProtocolError(
                f"cipher vector length mismatch: header announces {count} ciphertexts of {width} "
                f"bytes ({expected_size} bytes in all), got {len(data)} bytes"
            )
        spec = EncodingSpec(frac_bits, clip_units, max_summands, slot_bits, slots)
        body = memoryview(data)[_HEADER.size :]
        ciphertexts = tuple(
            int.from_bytes(body[i * width : (i + 1) * width], "big") for i in range(count)
        )
        return cls(fingerprint.hex(), spec, value_count, width, ciphertexts)

    def to_base64(self) -> str:
        """Return the standard, padded base64 of :meth:`to_bytes` (what the ledger stores)."""
        return base64.b64encode(self.to_bytes()).decode("ascii")

    @classmethod
    def from_base64(cls, text: str) -> CipherVector:
        """Parse :meth:`to_base64` output; raises ProtocolError on non-canonical base64."""
        if not isinstance(text, str):
            raise ProtocolError("a base64 cipher vector must be a string")
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ProtocolError(f"cipher vector is not valid base64: {exc}") from None
        if base64.b64encode(raw).decode("ascii") != text:
            raise ProtocolError("cipher vector base64 is not canonical (padding or spare bits)")
        return cls.from_bytes(raw)


def validate_cipher_vector(
    vec: CipherVector,
    *,
    n: int,
    expected_length: int,
    expected_fingerprint: str,
    expected_spec: EncodingSpec | None = None,
) -> None:
    """Check a submitted vector against the task: key, length, encoding and every ciphertext.

    ``expected_length`` counts ciphertexts. Returns None; raises ProtocolError naming the first
    problem: fingerprint, width, length, encoding, or "ciphertext i is not in Z*(n^2)" for a
    ciphertext that is 0, ≥ n² or shares a factor with n.
    """
    if key_fingerprint(n) != expected_fingerprint:
        raise ProtocolError("the task's modulus does not match the task's key fingerprint")
    if vec.key_fingerprint != expected_fingerprint:
        raise ProtocolError(
            f"cipher vector is under key {vec.key_fingerprint[:16]}…, "
            f"the task's key is {expected_fingerprint[:16]}…"
        )
    nsquare = n * n
    width = (nsquare.bit_length() + 7) // 8
    if vec.ciphertext_width != width:
        raise ProtocolError(f"ciphertext width is {vec.ciphertext_width} bytes, n² needs {width}")
    if len(vec.ciphertexts) != expected_length:
        raise ProtocolError(f"expected {expected_length} ciphertexts, got {len(vec.ciphertexts)}")
    if expected_spec is not None and vec.spec != expected_spec:
        raise ProtocolError(f"encoding {vec.spec.to_dict()} differs from the task's")
    if not vec.spec.fits_modulus(n):
        raise ProtocolError("encoding packs more bits per plaintext than the modulus allows")
    for index, c in enumerate(vec.ciphertexts):
        if not 0 < c < nsquare or gcd(c, n) != 1:
            raise ProtocolError(f"ciphertext {index} is not in Z*(n^2)")


def homomorphic_sum(vectors: Sequence[CipherVector], n: int) -> CipherVector:
    """Return the slot-wise product mod n² of ``vectors``: an encryption of their packed sum.

    All vectors must share key fingerprint (that of ``n``), encoding, value count and width, and
    there may be at most ``spec.max_summands`` of them (more could overflow a slot). Raises
    ProtocolError otherwise or if ``vectors`` is empty. Membership of Z*(n²) is checked by
    :func:`validate_cipher_vector` at submission, not here.
    """
    if not vectors:
        raise ProtocolError("cannot sum an empty list of cipher vectors")
    first = vectors[0]
    if first.key_fingerprint != key_fingerprint(n):
        raise ProtocolError("cipher vectors are not under the given modulus")
    shape = (first.key_fingerprint, first.spec, first.value_count, first.ciphertext_width)
    for index, vec in enumerate(vectors):
        if (vec.key_fingerprint, vec.spec, vec.value_count, vec.ciphertext_width) != shape:
            raise ProtocolError(
                f"cipher vector {index} differs from vector 0 in key, encoding or length"
            )
    if len(vectors) > first.spec.max_summands:
        raise ProtocolError(
            f"{len(vectors)} summands exceed the encoding's headroom of {first.spec.max_summands}"
        )
    nsquare = n * n
    columns = zip(*(vec.ciphertexts for vec in vectors), strict=True)
    totals = [product_mod(column, nsquare) for column in columns]
    return CipherVector(
        first.key_fingerprint, first.spec, first.value_count, first.ciphertext_width, tuple(totals)
    )
