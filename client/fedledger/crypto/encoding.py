"""Fixed-point quantisation and packing of float vectors into Paillier plaintexts.

A value x becomes q = round(x · 2^f) (f fractional bits, half-to-even), with |x| clipped to the
bound C so |q| ≤ B = round(C · 2^f). Each plaintext holds ``slots`` signed digits of w bits:
m = Σ_j q_j · 2^(w·j), each digit in [-2^(w-1), 2^(w-1)).

Why sums stay exact (the encoder's proof obligation): adding k ≤ P packed plaintexts adds digit by
digit with no carries ever needed, because every digit sum satisfies |Σ q| ≤ P·B ≤ 2^(w-1) - 1,
which :class:`EncodingParams` checks on construction (EncodingOverflowError otherwise). The packed
integer of such digits is below 2^(slots·w - 1) in magnitude, and ``slots`` is chosen so that
slots·w ≤ bits(n) - 1, hence below n/2: reduction mod n is undone exactly by lifting to
(-n/2, n/2), and the signed digits are then recovered uniquely. Nothing ever wraps silently.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fedledger.errors import EncodingError, EncodingOverflowError
from fedledger.protocol.ciphervec import EncodingSpec

__all__ = [
    "EncodingParams",
    "centre",
    "decode",
    "dequantise",
    "encode",
    "pack",
    "quantise",
    "unpack",
]

_MAX_FRAC_BITS = 60


@dataclass(frozen=True)
class EncodingParams:
    """Precision, clip bound, headroom P and the derived packing of a task's updates.

    Build it with :meth:`create`. Raises EncodingOverflowError if P · B does not fit a signed
    ``slot_bits``-bit slot, EncodingError for other invalid fields.
    """

    frac_bits: int
    clip: float
    max_summands: int
    slot_bits: int
    slots: int

    def __post_init__(self) -> None:
        if not 0 <= self.frac_bits <= _MAX_FRAC_BITS:
            raise EncodingError(f"frac_bits must be in [0, {_MAX_FRAC_BITS}], got {self.frac_bits}")
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise EncodingError(f"the clip bound must be a positive finite number, got {self.clip}")
        if self.clip_units < 1:
            raise EncodingError("the clip bound is below the precision: it quantises to 0")
        if self.max_summands < 1 or self.slots < 1 or self.slot_bits < 2:
            raise EncodingError("max_summands and slots must be ≥ 1 and slot_bits ≥ 2")
        worst = self.max_summands * self.clip_units
        capacity = (1 << (self.slot_bits - 1)) - 1
        if worst > capacity:
            raise EncodingOverflowError(
                f"{self.max_summands} summands * max |value| {self.clip_units} = {worst} does "
                f"not fit a {self.slot_bits}-bit signed slot (capacity {capacity})"
            )

    @classmethod
    def create(
        cls,
        *,
        frac_bits: int,
        clip: float,
        max_summands: int,
        modulus_bits: int,
        slot_bits: int | None = None,
    ) -> EncodingParams:
        """Return parameters packing as many slots as a ``modulus_bits``-bit n allows.

        ``slot_bits`` defaults to the narrowest slot with room for ``max_summands`` summands.
        Raises EncodingOverflowError if a given ``slot_bits`` is too narrow, EncodingError if
        not even one slot fits the modulus.
        """
        units = round(clip * (1 << frac_bits)) if math.isfinite(clip) else 0
        width = slot_bits if slot_bits is not None else (max_summands * units).bit_length() + 1
        slots = (modulus_bits - 1) // width
        if slots < 1:
            raise EncodingError(f"a {width}-bit slot does not fit a {modulus_bits}-bit modulus")
        return cls(frac_bits, float(clip), max_summands, width, slots)

    @property
    def clip_units(self) -> int:
        """B, the largest |quantised value|: round(clip · 2^frac_bits)."""
        return round(self.clip * (1 << self.frac_bits))

    @property
    def resolution(self) -> float:
        """2^-frac_bits; the quantisation error of one value is at most half of it."""
        return 1.0 / (1 << self.frac_bits)

    def to_spec(self) -> EncodingSpec:
        """Return the wire form (integers only) of these parameters."""
        return EncodingSpec(
            self.frac_bits, self.clip_units, self.max_summands, self.slot_bits, self.slots
        )

    @classmethod
    def from_spec(cls, spec: EncodingSpec) -> EncodingParams:
        """Return the parameters a wire spec describes (clip = clip_units · 2^-frac_bits)."""
        clip = spec.clip_units / (1 << spec.frac_bits)
        return cls(spec.frac_bits, clip, spec.max_summands, spec.slot_bits, spec.slots)


def quantise(values: Iterable[float], params: EncodingParams, *, clip: bool = True) -> list[int]:
    """Return round(x · 2^frac_bits) for each value.

    With ``clip`` (default) values beyond ±clip are clipped first; without it such a value raises
    EncodingOverflowError. Raises EncodingError for NaN or infinity.
    """
    scale = float(1 << params.frac_bits)
    bound = params.clip
    out: list[int] = []
    for index, raw in enumerate(values):
        x = float(raw)
        if not math.isfinite(x):
            raise EncodingError(f"value {index} is not finite: {x}")
        if x > bound or x < -bound:
            if not clip:
                raise EncodingOverflowError(f"value {index} = {x} exceeds the clip bound {bound}")
            x = bound if x > 0 else -bound
        out.append(round(x * scale))
    return out


def pack(quantised: Sequence[int], params: EncodingParams) -> list[int]:
    """Return signed plaintext integers holding ``quantised``, ``params.slots`` per plaintext.

    Slot j of plaintext i holds value i·slots + j; the last plaintext may be partly filled.
    Raises EncodingOverflowError if some |q| exceeds the clip bound in units.
    """
    bound = params.clip_units
    if quantised and max(max(quantised), -min(quantised)) > bound:
        raise EncodingOverflowError(f"a quantised value exceeds the clip bound of {bound} units")
    width, slots = params.slot_bits, params.slots
    plaintexts = []
    for start in range(0, len(quantised), slots):
        acc = 0
        for q in reversed(quantised[start : start + slots]):
            acc = (acc << width) + q
        plaintexts.append(acc)
    return plaintexts


def centre(m: int, n: int) -> int:
    """Return the representative of m mod n in (-n/2, n/2]."""
    m %= n
    return m - n if m > n // 2 else m


def unpack(
    plaintexts: Sequence[int],
    params: EncodingParams,
    value_count: int,
    *,
    modulus: int,
    summands: int = 1,
) -> list[int]:
    """Return the ``value_count`` slot values of decrypted plaintexts (each taken mod ``modulus``).

    ``summands`` is how many packed vectors were added (1 ≤ summands ≤ P). Raises
    EncodingOverflowError if summands > P, EncodingError if the plaintext count is wrong or a slot
    lies beyond summands * clip (a wrong key, a bad share, or tampering).
    """
    if not 1 <= summands <= params.max_summands:
        raise EncodingOverflowError(
            f"{summands} summands exceed the headroom of {params.max_summands}"
        )
    if len(plaintexts) != -(-value_count // params.slots):
        raise EncodingError(f"{len(plaintexts)} plaintexts cannot hold {value_count} values")
    width, limit = params.slot_bits, summands * params.clip_units
    mask, half, full = (1 << width) - 1, 1 << (width - 1), 1 << width
    out: list[int] = []
    for index, plain in enumerate(plaintexts):
        m = centre(plain, modulus)
        for _ in range(min(params.slots, value_count - len(out))):
            digit = m & mask
            if digit >= half:
                digit -= full
            out.append(digit)
            m = (m - digit) >> width
        if m != 0 or max(map(abs, out[-params.slots :])) > limit:
            raise EncodingError(f"plaintext {index} is not a packing of {summands} summand(s)")
    return out


def dequantise(quantised: Iterable[int], params: EncodingParams) -> list[float]:
    """Return q · 2^-frac_bits for each quantised value."""
    scale = params.resolution
    return [q * scale for q in quantised]


def encode(values: Iterable[float], params: EncodingParams, *, clip: bool = True) -> list[int]:
    """Return ``pack(quantise(values))``; raises as :func:`quantise` and :func:`pack`."""
    return pack(quantise(values, params, clip=clip), params)


def decode(
    plaintexts: Sequence[int],
    params: EncodingParams,
    value_count: int,
    *,
    modulus: int,
    summands: int = 1,
) -> list[float]:
    """Return the float sum packed in ``plaintexts``; raises as :func:`unpack`."""
    return dequantise(
        unpack(plaintexts, params, value_count, modulus=modulus, summands=summands), params
    )
