"""Tests for flat weight vectors: round trips, shape and length checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedledger.errors import LearningError
from fedledger.learning.models import build_model, weight_shapes
from fedledger.learning.weights import (
    as_weight_arrays,
    as_weight_vector,
    flatten_weights,
    get_weight_vector,
    set_weight_vector,
    unflatten_weights,
)

shapes_strategy = st.lists(
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=3).map(tuple),
    min_size=1,
    max_size=5,
)


@given(shapes=shapes_strategy, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_vector_round_trip_restores_arrays_and_vector(shapes, seed) -> None:
    # Prepare
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]

    # Execute
    vector = flatten_weights(arrays)
    restored = unflatten_weights(vector, shapes)

    # Assert
    assert vector.dtype == np.float64
    assert vector.size == sum(math.prod(s) for s in shapes)
    for original, back in zip(arrays, restored, strict=True):
        np.testing.assert_array_equal(original, back)
    np.testing.assert_array_equal(flatten_weights(restored), vector)


def test_vector_of_wrong_length_is_rejected_with_both_lengths() -> None:
    with pytest.raises(LearningError, match="has 25449 values; the model needs 25450"):
        unflatten_weights(np.zeros(25_449), weight_shapes("mlp32"))


def test_non_finite_vector_is_rejected() -> None:
    vector = np.zeros(6)
    vector[2] = np.nan
    with pytest.raises(LearningError, match="NaN or infinite"):
        unflatten_weights(vector, [(2, 3)])


def test_matrix_is_not_a_weight_vector() -> None:
    with pytest.raises(LearningError, match="one-dimensional"):
        unflatten_weights(np.zeros((2, 3)), [(2, 3)])


def test_list_of_arrays_and_flat_list_give_the_same_vector() -> None:
    # Prepare
    arrays = [np.arange(6.0).reshape(2, 3), np.array([6.0, 7.0])]
    shapes = [(2, 3), (2,)]

    # Execute
    from_arrays = as_weight_vector(arrays, shapes)
    from_numbers = as_weight_vector([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], shapes)

    # Assert
    np.testing.assert_array_equal(from_arrays, np.arange(8.0))
    np.testing.assert_array_equal(from_numbers, np.arange(8.0))


def test_array_list_with_a_wrong_shape_is_rejected() -> None:
    with pytest.raises(LearningError, match=r"weight array 0 has shape \(3, 2\)"):
        as_weight_arrays([np.zeros((3, 2)), np.zeros(2)], [(2, 3), (2,)])


def test_array_list_with_a_wrong_count_is_rejected() -> None:
    with pytest.raises(LearningError, match="got 1 weight arrays; the model has 2"):
        as_weight_arrays([np.zeros((2, 3))], [(2, 3), (2,)])


@pytest.mark.slow
def test_model_weights_round_trip_and_bad_vector_leaves_model_unchanged() -> None:
    # Prepare
    model = build_model("mlp32", seed=1)
    target = np.linspace(-1.0, 1.0, 25_450)

    # Execute
    set_weight_vector(model, target)
    loaded = get_weight_vector(model)
    with pytest.raises(LearningError):
        set_weight_vector(model, np.zeros(10))

    # Assert
    np.testing.assert_allclose(loaded, target, rtol=1e-6)
    np.testing.assert_array_equal(get_weight_vector(model), loaded)
