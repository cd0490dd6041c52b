"""Canonical JSON: one encoding per value, round trips, strict parsing, no floats."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedledger.protocol.canonical import dumps, loads, parse_array, parse_object, show
from fedledger.protocol.errors import ProtocolError

_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


def _shuffled(value: Any, reverse: bool) -> Any:
    """Return the same JSON value with every object's insertion order changed."""
    if isinstance(value, dict):
        keys = sorted(value, reverse=reverse)
        return {k: _shuffled(value[k], reverse) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, reverse) for v in value]
    return value


@given(json_values)
def test_dumps_round_trips_through_the_strict_parser(value: Any) -> None:
    assert loads(dumps(value)) == value


@given(json_values)
def test_dumps_does_not_depend_on_key_insertion_order(value: Any) -> None:
    assert dumps(_shuffled(value, reverse=True)) == dumps(_shuffled(value, reverse=False))


@given(json_values)
def test_dumps_is_a_fixed_point_of_parse_and_dump(value: Any) -> None:
    encoded = dumps(value)

    assert dumps(loads(encoded)) == encoded


@given(json_values)
def test_dumps_has_no_insignificant_whitespace(value: Any) -> None:
    encoded = dumps(value)

    assert encoded == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


@pytest.mark.parametrize("value", [1.5, Decimal("2"), (1, 2), {1: "a"}, {"a": [0.0]}, b"x"])
def test_dumps_refuses_non_canonical_types(value: Any) -> None:
    with pytest.raises(ProtocolError, match="canonical JSON"):
        dumps(value)


def test_dumps_refuses_lone_surrogates() -> None:
    with pytest.raises(ProtocolError, match="valid Unicode"):
        dumps("\ud800")


def test_dumps_writes_non_ascii_as_utf8() -> None:
    assert dumps({"é": "ü"}) == '{"é":"ü"}'.encode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("NaN", "NaN is not allowed"),
        ("[Infinity]", "Infinity is not allowed"),
        ("[-Infinity]", "-Infinity is not allowed"),
        (b"\xff", "not valid UTF-8: invalid start byte at byte 0"),
        ("[" * 100_000, "nesting is too deep"),
    ],
)
def test_loads_rejects_what_json_loads_lets_through(text: str | bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as rejected:
        loads(text)

    assert str(rejected.value) == message


def test_loads_refuses_integers_longer_than_python_converts() -> None:
    with pytest.raises(ProtocolError, match=r"^a number is too long"):
        loads("1" * 5000)


def test_loads_returns_fractional_numbers_as_decimals_for_precise_messages() -> None:
    assert loads("[1.5, 1e3, 7]") == [Decimal("1.5"), Decimal("1E+3"), 7]


def test_parse_object_and_array_name_what_was_parsed() -> None:
    with pytest.raises(ProtocolError) as not_json:
        parse_object("", "argument 1")
    with pytest.raises(ProtocolError) as not_object:
        parse_object("3", "argument 1")
    with pytest.raises(ProtocolError) as not_array:
        parse_array("null", "argument 2")

    assert str(not_json.value) == (
        "argument 1 must be a JSON object: Expecting value: line 1 column 1 (char 0)"
    )
    assert str(not_object.value) == "argument 1 must be a JSON object, got 3"
    assert str(not_array.value) == "argument 2 must be a JSON array, got null"


@given(st.text(min_size=65, max_size=10_000))
def test_show_keeps_messages_short(value: str) -> None:
    assert len(show(value)) <= 64


def test_show_describes_huge_integers_by_size() -> None:
    assert show(2**4000) == "an integer of 4001 bits"
