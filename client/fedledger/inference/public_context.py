"""The consumer's public evaluation context: what a provider needs to compute, and nothing more.

It holds the relinearisation key (for the activation's square) and the Galois keys of exactly the
rotations the layout uses (:meth:`SlotLayout.rotation_steps`), both as SEAL serialises them
(seeded: half the size of the expanded keys). It holds no secret key and not even a public key:
the consumer encrypts with its secret key (symmetric CKKS, seeded ciphertexts, half the size), and
the provider never encrypts anything. Bytes, version 1 (integers unsigned big-endian)::

    "FLCK" | 1 | name_len u8 | parameter set name | inputs u16 | hidden u16 | classes u16
           | relin_len u32 | relin keys | galois_len u32 | galois keys

A provider parses untrusted bytes with :func:`parse_public_context`, which checks the framing,
that the parameter set and the layout are the ones it serves, SEAL's header and SEAL's own
validation of each key against the context, and that the Galois keys are exactly the needed ones.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Protocol

from fedledger.errors import InferenceError
from fedledger.inference.framing import Reader
from fedledger.inference.params import CkksParams, import_sealapi, seal_context
from fedledger.inference.seal_io import load_object

__all__ = [
    "MAX_CONTEXT_BYTES",
    "EvaluationKeys",
    "KeyLayout",
    "encode_public_context",
    "galois_elements",
    "parse_public_context",
]

MAGIC = b"FLCK"
VERSION = 1
MAX_CONTEXT_BYTES = 64 * 1024 * 1024
_MAX_RELIN_BYTES = 8 * 1024 * 1024
_DIMS = struct.Struct(">HHH")
_LEN = struct.Struct(">I")


class KeyLayout(Protocol):
    """What the keys depend on: the model's dimensions and the rotations its layout uses."""

    @property
    def inputs(self) -> int: ...
    @property
    def hidden(self) -> int: ...
    @property
    def classes(self) -> int: ...
    def rotation_steps(self) -> list[int]: ...


@dataclass(frozen=True, eq=False)
class EvaluationKeys:
    """A consumer's parsed relinearisation and Galois keys, for one parameter set and layout."""

    params: CkksParams
    layout: KeyLayout
    relin_keys: Any
    galois_keys: Any
    size: int


def galois_elements(params: CkksParams, steps: list[int]) -> list[int]:
    """SEAL's Galois elements of left rotations by ``steps``: 3^step mod 2N."""
    return [pow(3, step, 2 * params.poly_modulus_degree) for step in steps]


def encode_public_context(
    params: CkksParams, layout: KeyLayout, relin: bytes, galois: bytes
) -> bytes:
    """Frame serialised relinearisation and Galois keys as a version-1 public context."""
    name = params.name.encode()
    return b"".join(
        [
            MAGIC,
            bytes([VERSION, len(name)]),
            name,
            _DIMS.pack(layout.inputs, layout.hidden, layout.classes),
            _LEN.pack(len(relin)),
            relin,
            _LEN.pack(len(galois)),
            galois,
        ]
    )


def parse_public_context(data: bytes, params: CkksParams, layout: KeyLayout) -> EvaluationKeys:
    """Parse and check a consumer's public context for ``params`` and ``layout``.

    Returns the EvaluationKeys. Raises InferenceError naming the first problem: oversized,
    truncated, trailing bytes, bad magic or version, another parameter set or layout, a key that
    SEAL cannot load for these parameters, missing or extra Galois keys.
    """
    if len(data) > MAX_CONTEXT_BYTES:
        raise InferenceError(
            f"public context is {len(data)} bytes; the limit is {MAX_CONTEXT_BYTES}"
        )
    reader = Reader(data, "public context")
    reader.expect(MAGIC, VERSION)
    name = reader.prefixed(1, "parameter set name").decode("ascii", errors="replace")
    if name != params.name:
        raise InferenceError(f"public context is for parameter set {name!r}, not {params.name!r}")
    dims = (reader.uint(2, "layout"), reader.uint(2, "layout"), reader.uint(2, "layout"))
    expected = (layout.inputs, layout.hidden, layout.classes)
    if dims != expected:
        raise InferenceError(
            f"public context is for a {dims[0]}-{dims[1]}-{dims[2]} model, "
            f"not {expected[0]}-{expected[1]}-{expected[2]}"
        )
    relin = reader.prefixed(4, "relinearisation keys")
    galois = reader.prefixed(4, "Galois keys")
    reader.finish()
    sa = import_sealapi()
    context = seal_context(params)
    relin_keys = load_object(relin, "relinearisation keys", _MAX_RELIN_BYTES, sa.RelinKeys, context)
    if relin_keys.size() != 1:
        raise InferenceError(f"expected one relinearisation key, got {relin_keys.size()}")
    galois_keys = load_object(galois, "Galois keys", MAX_CONTEXT_BYTES, sa.GaloisKeys, context)
    needed = galois_elements(params, layout.rotation_steps())
    missing = [elt for elt in needed if not galois_keys.has_key(elt)]
    if missing:
        raise InferenceError(f"Galois keys lack {len(missing)} of the {len(needed)} needed keys")
    if galois_keys.size() != len(needed):
        raise InferenceError(
            f"Galois keys hold {galois_keys.size()} keys; this layout needs exactly {len(needed)}"
        )
    return EvaluationKeys(params, layout, relin_keys, galois_keys, len(data))
