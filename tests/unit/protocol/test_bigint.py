"""protocol.bigint: the GMP path and the pure-Python path give the same exact integers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.protocol import bigint

moduli = st.integers(3, 2**521).map(lambda m: m | 1)


@settings(max_examples=60, deadline=None)
@given(
    modulus=moduli,
    pairs=st.lists(st.tuples(st.integers(0, 2**600), st.integers(0, 2**128 - 1)), max_size=30),
)
def test_multi_exp_equals_the_product_of_powers(modulus: int, pairs: list[tuple[int, int]]) -> None:
    bases = [b for b, _ in pairs]
    exponents = [e for _, e in pairs]
    expected = 1
    for base, exponent in pairs:
        expected = expected * pow(base, exponent, modulus) % modulus

    assert bigint.multi_exp(bases, exponents, modulus, 128) == expected % modulus


@settings(max_examples=40, deadline=None)
@given(modulus=moduli, values=st.lists(st.integers(0, 2**600), max_size=20))
def test_product_mod_and_the_pure_python_path_agree_with_python(
    modulus: int, values: list[int]
) -> None:
    expected = 1
    for value in values:
        expected = expected * value % modulus
    with_gmp = bigint.product_mod(values, modulus)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bigint, "_gmpy2", None)
        pure = bigint.product_mod(values, modulus)
        cubed = bigint.multi_exp(values, [3] * len(values), modulus, 2)

    assert with_gmp == pure == expected % modulus
    assert cubed == pow(expected, 3, modulus)


def test_multi_exp_refuses_exponents_longer_than_announced() -> None:
    with pytest.raises(ValueError, match="at most 8 bits"):
        bigint.multi_exp([2], [256], 101, 8)
    with pytest.raises(ValueError, match="1 bases but 2 exponents"):
        bigint.multi_exp([2], [1, 2], 101, 8)


def test_powmod_with_a_negative_exponent_inverts() -> None:
    assert bigint.powmod(3, -1, 101) * 3 % 101 == 1
