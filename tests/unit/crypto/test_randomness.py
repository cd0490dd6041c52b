"""Precomputed encryption randomness: n-th residues, single use, parallel fill, safe exponents."""

from __future__ import annotations

import pytest

from fedledger.crypto import paillier
from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.randomness import FixedBaseTable, RandomnessPool, djn_base
from fedledger.errors import CryptoError


def test_pooled_values_are_encryptions_of_zero(key2048: PrivateKey) -> None:
    # Prepare
    pool = RandomnessPool(key2048.public_key)
    pool.fill(3)
    # Execute
    values = pool.take(3)
    # Assert: an n-th residue is a Paillier encryption of 0.
    assert [paillier.decrypt(key2048, int(v)) for v in values] == [0, 0, 0]
    assert len(set(values)) == 3


def test_take_consumes_values_and_computes_any_shortfall(tiny_key: PrivateKey) -> None:
    # Prepare
    pool = RandomnessPool(tiny_key.public_key)
    pool.fill(2)
    # Execute
    values = pool.take(5)
    # Assert
    assert len(values) == 5
    assert len(pool) == 0
    assert all(paillier.decrypt(tiny_key, int(v)) == 0 for v in values)


def test_parallel_fill_produces_valid_residues(tiny_key: PrivateKey) -> None:
    # Prepare
    pool = RandomnessPool(tiny_key.public_key)
    # Execute
    pool.fill(8, processes=2)
    # Assert
    values = pool.take(8)
    assert len(set(values)) == 8
    assert all(paillier.decrypt(tiny_key, int(v)) == 0 for v in values)


def test_table_power_agrees_with_plain_exponentiation(tiny_key: PrivateKey) -> None:
    # Prepare
    public = tiny_key.public_key
    table = FixedBaseTable(public)
    exponent = (1 << 447) + 0xDEADBEEF
    # Execute
    result = table.power(exponent)
    # Assert
    assert result == pow(djn_base(public), exponent, public.nsquare)


def test_short_exponents_below_the_minimum_are_refused(tiny_key: PrivateKey) -> None:
    with pytest.raises(CryptoError, match="not safe"):
        FixedBaseTable(tiny_key.public_key, exponent_bits=128)


def test_the_base_is_derived_from_the_public_key_alone(
    key2048: PrivateKey, other_key2048: PrivateKey
) -> None:
    # Assert
    assert djn_base(key2048.public_key) == djn_base(key2048.public_key)
    assert djn_base(key2048.public_key) != djn_base(other_key2048.public_key)
