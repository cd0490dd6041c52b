"""Tests for FedAvg arithmetic: weighted averages, encrypted-FedAvg scaling and its correction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedledger.errors import LearningError
from fedledger.learning.fedavg import (
    apply_update,
    compute_update,
    rescale_partial_sum,
    scale_update,
    weight_fraction,
    weight_fractions,
    weighted_average,
)

values = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def rounds(draw, min_participants: int = 1):
    """Updates of one length and a positive sample count per participant."""
    length = draw(st.integers(min_value=1, max_value=8))
    participants = draw(st.integers(min_value=min_participants, max_value=6))
    updates = [
        np.array(draw(st.lists(values, min_size=length, max_size=length)))
        for _ in range(participants)
    ]
    counts = draw(
        st.lists(
            st.integers(min_value=1, max_value=10_000),
            min_size=participants,
            max_size=participants,
        )
    )
    return updates, counts


def _plain_weighted_average(updates, counts) -> np.ndarray:
    return sum(u * n for u, n in zip(updates, counts, strict=True)) / sum(counts)


@given(rounds())
def test_sum_of_scaled_updates_equals_the_weighted_average(data) -> None:
    # Prepare
    updates, counts = data
    total = sum(counts)

    # Execute: what the chaincode's homomorphic sum computes, in plaintext
    summed = sum(scale_update(u, n, total) for u, n in zip(updates, counts, strict=True))

    # Assert
    np.testing.assert_allclose(summed, weighted_average(updates, counts), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        summed, _plain_weighted_average(updates, counts), rtol=1e-9, atol=1e-9
    )


@given(rounds(min_participants=2), st.data())
def test_rescaled_partial_sum_equals_the_contributors_weighted_average(data, draw) -> None:
    # Prepare: scaled for all expected participants, but only some contribute
    updates, counts = data
    expected = sum(counts)
    contributors = draw.draw(st.lists(st.sampled_from(range(len(counts))), min_size=1, unique=True))
    partial = sum(scale_update(updates[i], counts[i], expected) for i in contributors)
    contributed = sum(counts[i] for i in contributors)

    # Execute
    corrected = rescale_partial_sum(partial, expected, contributed)

    # Assert
    subset = weighted_average([updates[i] for i in contributors], [counts[i] for i in contributors])
    np.testing.assert_allclose(corrected, subset, rtol=1e-9, atol=1e-9)


@given(rounds())
def test_weighted_average_lies_between_the_smallest_and_largest_update(data) -> None:
    updates, counts = data
    average = weighted_average(updates, counts)
    stacked = np.stack(updates)
    assert np.all(average >= stacked.min(axis=0) - 1e-9)
    assert np.all(average <= stacked.max(axis=0) + 1e-9)


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=20))
def test_weight_fractions_are_n_over_total_and_sum_to_one(counts) -> None:
    fractions = weight_fractions(counts)
    assert fractions.sum() == pytest.approx(1.0)
    assert fractions[0] == pytest.approx(weight_fraction(counts[0], sum(counts)))


def test_more_samples_weigh_more() -> None:
    average = weighted_average([np.array([0.0]), np.array([1.0])], [1, 3])
    np.testing.assert_allclose(average, [0.75])


def test_compute_and_apply_update_are_inverse() -> None:
    old = np.array([1.0, 2.0, 3.0])
    new = np.array([1.5, 1.0, 3.25])
    np.testing.assert_allclose(apply_update(old, compute_update(new, old)), new)


@pytest.mark.parametrize(
    ("updates", "counts", "message"),
    [
        ([], [], "cannot average zero updates"),
        ([np.zeros(2)], [1, 2], "1 updates but 2 sample counts"),
        ([np.zeros(2)], [0], "sample count must be a positive integer, got 0"),
        ([np.zeros(2)], [True], "positive integer, got True"),
        ([np.zeros(2)], [2.5], "positive integer, got 2.5"),
        ([np.zeros(2), np.zeros(3)], [1, 1], "update 1 has 3 values but update 0 has 2"),
        ([np.array([np.inf, 0.0])], [1], "NaN or infinite"),
    ],
)
def test_weighted_average_rejects_bad_input(updates, counts, message) -> None:
    with pytest.raises(LearningError, match=message):
        weighted_average(updates, counts)


def test_participant_cannot_hold_more_than_the_total() -> None:
    with pytest.raises(LearningError, match="sample count 11 exceeds the total of 10"):
        weight_fraction(11, 10)


def test_contributors_cannot_exceed_the_expected_samples() -> None:
    with pytest.raises(LearningError, match="contributed samples 12 exceed the expected 10"):
        rescale_partial_sum(np.zeros(3), 10, 12)


def test_update_of_mismatched_vectors_is_rejected() -> None:
    with pytest.raises(LearningError, match="new weights has 2 values but global weights has 3"):
        compute_update(np.zeros(2), np.zeros(3))
