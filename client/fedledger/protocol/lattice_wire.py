"""The lattice scheme's wire format: ciphertexts, key shares and decryption shares as bytes.

Standard library only, because the chaincode will import it. Every blob is a vector of ring
polynomials in residue (RNS) form under one parameter set. Format, version 1, little-endian::

    magic "FLLT" | version u8 | kind u8 | log_n u8 | moduli u8 | parameter id 8 bytes
    | key id 8 bytes | values u32 | polynomials u16 | reserved u16 (zero)
    | polynomials * moduli * 2^log_n residues, each a u64 below its modulus

laid out polynomial by polynomial, modulus by modulus. ``values`` is the number of plaintext
values a ciphertext or decryption share carries (zero for keys); the polynomial count follows from
it, so every byte string is either the one encoding of a blob or refused with a message naming
what is wrong. The parameter id is a digest of the ring (degree, moduli, plaintext modulus); the
key id binds a blob to one task's key, so a blob of another task or parameter set is refused.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from fedledger.protocol.errors import ProtocolError

__all__ = [
    "CIPHERTEXT",
    "DECRYPTION_SHARE",
    "FORMAT_VERSION",
    "HEADER",
    "KEY_SHARE",
    "KINDS",
    "PUBLIC_CIPHERTEXT",
    "SECRET_KEY",
    "SHAMIR_SHARE",
    "LatticeBlob",
    "RingSpec",
    "encode_blob",
    "lane_constants",
    "parse_blob",
    "residue_words",
]

MAGIC = b"FLLT"
FORMAT_VERSION = 1
HEADER = struct.Struct("<4sBBBB8s8sIHH")

CIPHERTEXT = 1  # c0 only: c1 is the round's common polynomial, derived from a public seed
PUBLIC_CIPHERTEXT = 2  # c0 then c1, encrypted under the collective public key
KEY_SHARE = 3  # a party's public-key share; their sum is the collective public key
DECRYPTION_SHARE = 4  # c1 * s_j + flood, per polynomial of a ciphertext
SHAMIR_SHARE = 5  # one dealer's Shamir share for one recipient (secret: sealed in transit)
SECRET_KEY = 6  # a party's own secret share (never leaves the party)
KINDS = {
    CIPHERTEXT: "ciphertext",
    PUBLIC_CIPHERTEXT: "public-key ciphertext",
    KEY_SHARE: "public-key share",
    DECRYPTION_SHARE: "decryption share",
    SHAMIR_SHARE: "Shamir share",
    SECRET_KEY: "secret key",
}
_VALUE_KINDS = {CIPHERTEXT, PUBLIC_CIPHERTEXT, DECRYPTION_SHARE}
MAX_VALUES = 1 << 26


@dataclass(frozen=True)
class RingSpec:
    """A parameter set as the wire sees it: ring degree 2^log_n, RNS moduli, plaintext modulus."""

    log_n: int
    moduli: tuple[int, ...]
    plaintext_modulus: int

    @property
    def n(self) -> int:
        """Return the ring degree N (coefficients per polynomial)."""
        return 1 << self.log_n

    @property
    def param_id(self) -> bytes:
        """Return the 8-byte digest naming this parameter set on the wire."""
        text = f"fedledger-lattice-v1|{self.log_n}|{','.join(map(str, self.moduli))}"
        return hashlib.sha256(f"{text}|{self.plaintext_modulus}".encode()).digest()[:8]

    def polynomials(self, kind: int, values: int) -> int:
        """Return how many polynomials a blob of ``kind`` carrying ``values`` values holds."""
        if kind not in _VALUE_KINDS:
            return 1
        count = -(-values // self.n)
        return 2 * count if kind == PUBLIC_CIPHERTEXT else count


@dataclass(frozen=True)
class LatticeBlob:
    """One parsed blob: its kind, key id, value count and residues (``polys*moduli*N`` u64)."""

    kind: int
    key_id: bytes
    values: int
    polys: int
    residues: bytes


def encode_blob(spec: RingSpec, kind: int, key_id: bytes, values: int, residues: bytes) -> bytes:
    """Return the wire bytes of a blob; raise ProtocolError when the parts do not fit together."""
    if kind not in KINDS:
        raise ProtocolError(f"lattice blob: unknown kind {kind}")
    if len(key_id) != 8:
        raise ProtocolError(f"lattice blob: key id must be 8 bytes, got {len(key_id)}")
    polys = spec.polynomials(kind, values)
    if len(residues) != polys * len(spec.moduli) * spec.n * 8:
        raise ProtocolError(
            f"lattice blob: {len(residues)} bytes of residues for {polys} polynomials"
        )
    header = HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        kind,
        spec.log_n,
        len(spec.moduli),
        spec.param_id,
        key_id,
        values,
        polys,
        0,
    )
    return header + residues


def residue_words(data: bytes | memoryview) -> Sequence[int]:
    """Read little-endian u64s without copying on little-endian machines."""
    if sys.byteorder == "little":
        return memoryview(data).cast("Q")
    words = array("Q", bytes(data))
    words.byteswap()
    return words


def parse_blob(data: bytes, spec: RingSpec, kind: int, key_id: bytes) -> LatticeBlob:
    """Parse and check one blob of the expected kind, parameter set and key.

    Returns the blob. Raises ProtocolError naming the first thing that is wrong: length, magic,
    version, kind, ring, parameter id, key id, value count, polynomial count, reserved bits, or
    a residue that is not below its modulus.
    """
    name = KINDS.get(kind, "blob")
    if not isinstance(data, bytes | bytearray):
        raise ProtocolError(f"lattice {name}: expected bytes, got {type(data).__name__}")
    if len(data) < HEADER.size:
        raise ProtocolError(f"lattice {name}: {len(data)} bytes is shorter than the header")
    magic, version, got_kind, log_n, moduli, param_id, got_key, values, polys, reserved = (
        HEADER.unpack_from(data)
    )
    if magic != MAGIC:
        raise ProtocolError(f"lattice {name}: bad magic {magic!r}")
    if version != FORMAT_VERSION:
        raise ProtocolError(f"lattice {name}: unsupported version {version}")
    if got_kind != kind:
        got = KINDS.get(got_kind, f"unknown kind {got_kind}")
        raise ProtocolError(f"lattice {name}: got a {got}")
    if log_n != spec.log_n or moduli != len(spec.moduli):
        raise ProtocolError(
            f"lattice {name}: ring 2^{log_n} with {moduli} moduli, expected"
            f" 2^{spec.log_n} with {len(spec.moduli)}"
        )
    if param_id != spec.param_id:
        raise ProtocolError(
            f"lattice {name}: parameter id {param_id.hex()} is not {spec.param_id.hex()}"
        )
    if got_key != key_id:
        raise ProtocolError(f"lattice {name}: key id {got_key.hex()} is not {key_id.hex()}")
    _check_counts(name, spec, kind, values, polys, reserved)
    body = memoryview(data)[HEADER.size :]
    expected = polys * moduli * spec.n * 8
    if len(body) != expected:
        raise ProtocolError(f"lattice {name}: body is {len(body)} bytes, expected {expected}")
    _check_reduced(name, spec, body, polys)
    return LatticeBlob(kind, got_key, values, polys, bytes(body))


def _check_counts(
    name: str, spec: RingSpec, kind: int, values: int, polys: int, reserved: int
) -> None:
    if reserved != 0:
        raise ProtocolError(f"lattice {name}: reserved field is {reserved}, must be 0")
    if kind in _VALUE_KINDS and not 0 < values <= MAX_VALUES:
        raise ProtocolError(f"lattice {name}: value count {values} out of range 1..{MAX_VALUES}")
    if kind not in _VALUE_KINDS and values != 0:
        raise ProtocolError(f"lattice {name}: a key carries no values, got {values}")
    if polys != spec.polynomials(kind, values):
        raise ProtocolError(
            f"lattice {name}: {polys} polynomials for {values} values, expected"
            f" {spec.polynomials(kind, values)}"
        )


def _check_reduced(name: str, spec: RingSpec, body: memoryview, polys: int) -> None:
    """Refuse a residue not below its modulus: two whole-body big-integer checks (each lane
    below 2^63, then below q_i: see :func:`lane_constants`), and a scan only to name the culprit."""
    words = int.from_bytes(body, "little")
    _, offsets, ones = lane_constants(spec.moduli, spec.n, polys)
    if not (words >> 63) & ones and not ((words + offsets) >> 63) & ones:
        return
    lanes, n = residue_words(body), spec.n
    for p in range(polys):
        for i, q in enumerate(spec.moduli):
            start = (p * len(spec.moduli) + i) * n
            if max(lanes[start : start + n]) >= q:
                raise ProtocolError(
                    f"lattice {name}: polynomial {p} has a residue not below modulus {i}"
                )


@lru_cache(maxsize=16)
def lane_constants(moduli: tuple[int, ...], n: int, polys: int) -> tuple[int, int, int]:
    """Return (lanes of q_i, lanes of 2^63 - q_i, lanes of 1) for ``polys`` polynomials.

    A body read as one little-endian integer has the residues as 64-bit lanes. For a lane below
    2^63, adding 2^63 - q_i sets its top bit exactly when it is at least q_i, and never carries
    into the next lane; masking the shifted top bits with the lanes of 1 tests every lane at once.
    """
    modulus_lanes = b"".join(q.to_bytes(8, "little") * n for q in moduli) * polys
    offset_lanes = b"".join(((1 << 63) - q).to_bytes(8, "little") * n for q in moduli) * polys
    ones = (1).to_bytes(8, "little") * (n * len(moduli) * polys)
    return (
        int.from_bytes(modulus_lanes, "little"),
        int.from_bytes(offset_lanes, "little"),
        int.from_bytes(ones, "little"),
    )
