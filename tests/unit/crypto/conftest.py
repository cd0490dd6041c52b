"""Shared fixtures of the crypto tests: fixed keys (safe primes generated once) and dealings."""

from __future__ import annotations

import pytest
from support.keys import (
    OTHER_2048_P,
    OTHER_2048_Q,
    SAFE_2048_P,
    SAFE_2048_Q,
    TINY_256_P,
    TINY_256_Q,
)

from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import KeyShare, ThresholdKey, deal


def _private(p: int, q: int, *, tiny: bool = False) -> PrivateKey:
    return PrivateKey(PublicKey(p * q, _allow_insecure_test_key=tiny), p, q)


@pytest.fixture(scope="session")
def key2048() -> PrivateKey:
    return _private(SAFE_2048_P, SAFE_2048_Q)


@pytest.fixture(scope="session")
def other_key2048() -> PrivateKey:
    return _private(OTHER_2048_P, OTHER_2048_Q)


@pytest.fixture(scope="session")
def tiny_key() -> PrivateKey:
    return _private(TINY_256_P, TINY_256_Q, tiny=True)


@pytest.fixture(scope="session")
def pool2048(key2048: PrivateKey) -> RandomnessPool:
    return RandomnessPool(key2048.public_key)


@pytest.fixture(scope="session")
def tiny_pool(tiny_key: PrivateKey) -> RandomnessPool:
    return RandomnessPool(tiny_key.public_key)


@pytest.fixture(scope="session")
def dealing2048(key2048: PrivateKey) -> tuple[ThresholdKey, list[KeyShare]]:
    return deal(key2048, threshold=2, parties=3)


@pytest.fixture(scope="session")
def tiny_dealing(tiny_key: PrivateKey) -> tuple[ThresholdKey, list[KeyShare]]:
    return deal(tiny_key, threshold=3, parties=5)
