"""protocol.prorata: pro-rata parts sum exactly to the whole, deterministically, without floats."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import MAX_INT64
from fedledger.protocol.prorata import split_pro_rata

parties = st.text(alphabet="abcdefgh/0123456789", min_size=1, max_size=12)
weight_maps = st.dictionaries(parties, st.integers(0, 10**12), min_size=1, max_size=12).filter(
    lambda weights: sum(weights.values()) > 0
)
totals = st.integers(0, MAX_INT64)


@settings(max_examples=300, deadline=None)
@given(total=totals, weights=weight_maps)
def test_the_parts_always_sum_exactly_to_the_whole(total: int, weights: dict[str, int]) -> None:
    parts = split_pro_rata(total, weights)

    assert sum(parts.values()) == total
    assert set(parts) == set(weights)


@settings(max_examples=300, deadline=None)
@given(total=totals, weights=weight_maps)
def test_each_part_is_its_exact_share_rounded_down_or_up(
    total: int, weights: dict[str, int]
) -> None:
    whole = sum(weights.values())

    parts = split_pro_rata(total, weights)

    for key, part in parts.items():
        exact = Fraction(total * weights[key], whole)
        assert exact - 1 < part < exact + 1
        if weights[key] == 0:
            assert part == 0


@settings(max_examples=200, deadline=None)
@given(total=totals, weights=weight_maps, data=st.data())
def test_the_split_does_not_depend_on_the_order_the_weights_come_in(
    total: int, weights: dict[str, int], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(list(weights.items())))

    assert split_pro_rata(total, dict(shuffled)) == split_pro_rata(total, weights)


def test_the_remainder_goes_to_the_largest_remainders_then_to_the_lowest_party_id() -> None:
    # 10 over weights 1:1:1 is 3.33 each: one unit left, equal remainders, lowest id wins.
    assert split_pro_rata(10, {"c": 1, "a": 1, "b": 1}) == {"a": 4, "b": 3, "c": 3}
    # 10 over 5:3:2 of 10 = 5, 3, 2 exactly; 7 over the same = 3.5, 2.1, 1.4: "a" has the
    # largest remainder (0.5) and gets the leftover unit.
    assert split_pro_rata(10, {"a": 5, "b": 3, "c": 2}) == {"a": 5, "b": 3, "c": 2}
    assert split_pro_rata(7, {"a": 5, "b": 3, "c": 2}) == {"a": 4, "b": 2, "c": 1}


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (-1, {"a": 1}, "the amount to split must be a non-negative integer, got -1"),
        (True, {"a": 1}, "the amount to split must be a non-negative integer, got true"),
        (1, {"a": -2}, "the weight of a must be a non-negative integer, got -2"),
        (1, {"a": 1.5}, "the weight of a must be a non-negative integer, got 1.5"),
        (1, {"a": 0, "b": 0}, "a pro-rata split needs at least one positive weight"),
        (1, {}, "a pro-rata split needs at least one positive weight"),
    ],
)
def test_bad_totals_and_weights_are_refused_with_their_reason(
    total: int, weights: dict[str, int], message: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        split_pro_rata(total, weights)

    assert str(caught.value) == message
