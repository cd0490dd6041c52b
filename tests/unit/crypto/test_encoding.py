"""Quantisation and packing: exact sums with up to P summands, and no silent overflow."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fedledger.crypto.encoding import (
    EncodingParams,
    decode,
    encode,
    pack,
    quantise,
    unpack,
)
from fedledger.errors import EncodingError, EncodingOverflowError
from fedledger.protocol.ciphervec import EncodingSpec

MODULUS = (1 << 255) + 95  # any odd 256-bit modulus: packing never needs its factors
PARAMS = EncodingParams.create(frac_bits=10, clip=2.0, max_summands=4, modulus_bits=256)

values = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)
vectors = st.lists(values, min_size=1, max_size=60)


@given(vectors)
def test_pack_then_unpack_returns_the_quantised_vector(xs: list[float]) -> None:
    # Prepare
    quantised = quantise(xs, PARAMS)
    # Execute
    plaintexts = [m % MODULUS for m in pack(quantised, PARAMS)]
    # Assert
    assert unpack(plaintexts, PARAMS, len(xs), modulus=MODULUS) == quantised


@given(st.integers(1, 4).flatmap(lambda k: st.lists(
    st.lists(values, min_size=25, max_size=25), min_size=k, max_size=k)))  # fmt: skip
def test_sum_of_up_to_p_packed_vectors_unpacks_to_the_exact_sum(rows: list[list[float]]) -> None:
    # Prepare
    packed = [pack(quantise(r, PARAMS), PARAMS) for r in rows]
    summed_plaintexts = [sum(col) % MODULUS for col in zip(*packed, strict=True)]
    expected = [sum(col) for col in zip(*(quantise(r, PARAMS) for r in rows), strict=True)]
    # Execute
    result = unpack(summed_plaintexts, PARAMS, 25, modulus=MODULUS, summands=len(rows))
    # Assert
    assert result == expected


def test_extreme_values_of_both_signs_survive_p_summands() -> None:
    # Prepare: every slot at +B or -B, P times: the worst case the headroom must absorb.
    row = [2.0, -2.0] * 30
    packed = pack(quantise(row, PARAMS), PARAMS)
    total = [(m * PARAMS.max_summands) % MODULUS for m in packed]
    # Execute
    result = decode(total, PARAMS, len(row), modulus=MODULUS, summands=PARAMS.max_summands)
    # Assert
    assert result == [x * PARAMS.max_summands for x in row]


def test_slot_width_at_the_exact_overflow_boundary_is_accepted() -> None:
    # Prepare: P * B == 2^(w-1) - 1 is the largest sum a signed w-bit slot holds.
    slot_bits, max_summands = 12, 3
    clip_units = ((1 << (slot_bits - 1)) - 1) // max_summands  # 682, and 3 * 682 = 2046 < 2047
    # Execute
    params = EncodingParams.create(
        frac_bits=0, clip=clip_units, max_summands=max_summands, modulus_bits=256,
        slot_bits=slot_bits,
    )  # fmt: skip
    # Assert
    assert params.max_summands * params.clip_units <= (1 << (slot_bits - 1)) - 1


def test_one_unit_past_the_overflow_boundary_raises() -> None:
    # Prepare: 2^(w-1) - 1 = 2047 = 23 * 89, so P = 23, B = 89 fits exactly and B = 90 does not.
    slot_bits = 12
    EncodingParams.create(frac_bits=0, clip=89, max_summands=23, modulus_bits=256, slot_bits=12)
    # Execute / Assert
    with pytest.raises(EncodingOverflowError, match="does not fit a 12-bit signed slot"):
        EncodingParams.create(
            frac_bits=0, clip=90, max_summands=23, modulus_bits=256, slot_bits=slot_bits
        )


def test_default_slot_width_is_the_narrowest_with_room_for_p_summands() -> None:
    # Execute
    params = EncodingParams.create(frac_bits=16, clip=0.5, max_summands=3, modulus_bits=2048)
    # Assert
    capacity = (1 << (params.slot_bits - 1)) - 1
    assert params.max_summands * params.clip_units <= capacity
    assert params.max_summands * params.clip_units > (1 << (params.slot_bits - 2)) - 1
    assert params.slots == 2047 // params.slot_bits


def test_more_summands_than_the_headroom_are_refused_when_unpacking() -> None:
    # Prepare
    plaintexts = [m % MODULUS for m in encode([0.5] * 10, PARAMS)]
    # Execute / Assert
    with pytest.raises(EncodingOverflowError, match="exceed the headroom"):
        unpack(plaintexts, PARAMS, 10, modulus=MODULUS, summands=PARAMS.max_summands + 1)


def test_values_beyond_the_clip_bound_are_clipped_by_default() -> None:
    # Execute
    result = quantise([5.0, -7.5, 1.0], PARAMS)
    # Assert
    assert result == [PARAMS.clip_units, -PARAMS.clip_units, 1 << PARAMS.frac_bits]


def test_values_beyond_the_clip_bound_raise_when_clipping_is_off() -> None:
    with pytest.raises(EncodingOverflowError, match=r"value 1 = 2\.5 exceeds the clip bound"):
        quantise([0.0, 2.5], PARAMS, clip=False)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected(bad: float) -> None:
    with pytest.raises(EncodingError, match="not finite"):
        quantise([0.0, bad], PARAMS)


def test_pack_rejects_a_quantised_value_beyond_the_bound() -> None:
    with pytest.raises(EncodingOverflowError, match="exceeds the clip bound"):
        pack([0, PARAMS.clip_units + 1], PARAMS)


def test_unpack_detects_a_plaintext_that_is_not_a_packing() -> None:
    # Prepare: a random-looking plaintext, as a wrong key or a bad share would produce.
    garbage = [(1 << 250) + 12345]
    # Execute / Assert
    with pytest.raises(EncodingError, match="is not a packing"):
        unpack(garbage, PARAMS, 5, modulus=MODULUS)


@given(st.integers(0, 40), st.floats(1e-3, 1e3), st.integers(1, 1000))
@settings(max_examples=60)
def test_params_survive_the_wire_spec(frac_bits: int, clip: float, summands: int) -> None:
    # Prepare
    assume(round(clip * (1 << frac_bits)) >= 1)
    params = EncodingParams.create(
        frac_bits=frac_bits, clip=clip, max_summands=summands, modulus_bits=4096
    )
    # Execute
    spec = params.to_spec()
    again = EncodingParams.from_spec(spec)
    # Assert
    assert isinstance(spec, EncodingSpec)
    assert again.to_spec() == spec
    assert again.clip_units == params.clip_units


def test_a_clip_below_the_precision_is_rejected() -> None:
    with pytest.raises(EncodingError, match="quantises to 0"):
        EncodingParams.create(frac_bits=2, clip=0.01, max_summands=2, modulus_bits=2048)
