"""Parameters of the lattice scheme follow from the task and the stated security parameters."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedledger.crypto.lattice.params import (
    HE_STANDARD_LOG_Q,
    derive_parameters,
    ntt_primes,
)
from fedledger.errors import CryptoError


@given(
    participants=st.integers(1, 20),
    quorum=st.integers(1, 20),
    max_abs=st.integers(1, 1 << 20),
    max_values=st.integers(1, 1 << 20),
)
def test_parameters_hold_every_honest_sum_and_decrypt_with_every_flood(
    participants: int, quorum: int, max_abs: int, max_values: int
) -> None:
    threshold = min(quorum, participants)

    params = derive_parameters(participants, threshold, max_abs, max_values)

    ring = params.ring
    t = ring.plaintext_modulus
    assert t == 2 * participants * max_abs + 1  # every sum in [-P*max_abs, P*max_abs], centred
    assert math.ceil(params.log_q) <= HE_STANDARD_LOG_Q[ring.log_n]  # 128-bit classical
    q = math.prod(ring.moduli)
    for coefficients, noise in (
        (params.value_coefficients(max_values), params.seeded_noise(participants)),
        (ring.n, params.public_noise()),
    ):
        total = noise + threshold * (1 << params.flood_bits(coefficients, noise))
        assert total < (q // t) // 2  # decryption stays exact with every share flooded


def test_the_flood_hides_the_noise_within_the_stated_distance() -> None:
    params = derive_parameters(3, 2, 1 << 16, 101_770)
    coefficients = params.value_coefficients(101_770)
    bits = params.flood_bits(coefficients, params.seeded_noise(3))

    # SD(U, U + x) <= n * B / 2^(b+1) for a flood uniform in [-2^b, 2^b).
    distance = coefficients * params.seeded_noise(3) / 2 ** (bits + 1)
    assert distance <= 2.0 ** -(params.stat_security + 1)
    assert bits == math.ceil(40 + math.log2(106_496) + math.log2(57))


def test_the_primes_are_ntt_friendly_primes_above_the_size() -> None:
    primes = ntt_primes(48, 3, 12)

    assert all(p % (2 << 12) == 1 and p > 1 << 48 for p in primes)
    assert all(all(p % d for d in range(3, 2000, 2)) for p in primes)  # no small factor
    assert all(pow(3, p - 1, p) == 1 for p in primes)  # and Fermat agrees
    assert len(set(primes)) == 3


def test_the_task_example_fits_n_4096_with_two_moduli() -> None:
    params = derive_parameters(10, 6, 1 << 16, 101_770)

    assert params.ring.log_n == 12
    assert len(params.ring.moduli) == 2
    assert params.log_q <= 109


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 4, 10, 10), "need 1 <= threshold <= participants, got 4 of 3"),
        ((3, 0, 10, 10), "need 1 <= threshold <= participants, got 0 of 3"),
        ((3, 2, 0, 10), "max_abs and max_values must be positive, got 0, 10"),
    ],
)
def test_impossible_tasks_are_refused(args: tuple[int, int, int, int], message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        derive_parameters(*args)


def test_a_task_too_large_for_any_ring_is_refused() -> None:
    with pytest.raises(CryptoError, match="no ring up to 2\\^15 fits"):
        derive_parameters(3, 2, 10, 10, stat_security=900)
