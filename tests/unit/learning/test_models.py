"""Tests for the model zoo: names, shapes, parameter counts, seeded initial weights."""

from __future__ import annotations

import numpy as np
import pytest

from fedledger.errors import LearningError
from fedledger.learning.models import (
    DEFAULT_MODEL,
    QUADRATIC,
    ModelSpec,
    build_model,
    get_model_spec,
    initial_weights,
    parameter_count,
    weight_shapes,
)


def test_parameter_counts_match_the_prototype_without_tensorflow() -> None:
    # Prepare / Execute
    counts = {name: parameter_count(name) for name in ("mlp32", "mlp128")}

    # Assert
    assert counts == {"mlp32": 25_450, "mlp128": 101_770}


def test_default_model_is_mlp32() -> None:
    assert DEFAULT_MODEL == "mlp32"
    assert get_model_spec(DEFAULT_MODEL).hidden == 32


def test_weight_shapes_are_kernel_and_bias_per_layer() -> None:
    assert weight_shapes("mlp128") == [(784, 128), (128,), (128, 10), (10,)]


def test_unknown_model_name_is_rejected_listing_known_names() -> None:
    with pytest.raises(LearningError, match=r"unknown model 'cnn'.*mlp128, mlp32"):
        get_model_spec("cnn")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp32", "mlp128"])
def test_built_model_has_the_declared_shapes_and_parameter_count(name: str) -> None:
    # Execute
    model = build_model(name, seed=3)

    # Assert
    assert model.count_params() == parameter_count(name)
    assert [tuple(w.shape) for w in model.get_weights()] == weight_shapes(name)
    assert model.output_shape == (None, 10)


@pytest.mark.slow
def test_same_seed_gives_same_initial_weights_and_another_seed_does_not() -> None:
    # Execute
    first = initial_weights("mlp32", seed=7)
    again = initial_weights("mlp32", seed=7)
    other = initial_weights("mlp32", seed=8)

    # Assert
    assert first.dtype == np.float64
    assert first.shape == (25_450,)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_building_an_unknown_model_is_rejected() -> None:
    with pytest.raises(LearningError, match="known models"):
        build_model("resnet", seed=0)


def test_the_prediction_variant_has_mlp32s_shapes_and_a_quadratic_activation() -> None:
    spec = get_model_spec("mlp32q")
    assert (spec.hidden, spec.activation) == (32, "quadratic")
    assert weight_shapes("mlp32q") == weight_shapes("mlp32")


def test_an_unknown_activation_is_rejected() -> None:
    with pytest.raises(LearningError, match="unknown activation 'tanh'; known: relu, quadratic"):
        ModelSpec("odd", hidden=8, activation="tanh")


@pytest.mark.slow
def test_the_quadratic_variant_computes_its_polynomial() -> None:
    # Prepare
    model = build_model("mlp32q", seed=1)
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    w1, b1, w2, b2 = model.get_weights()

    # Execute
    probabilities = np.asarray(model(x, training=False))

    # Assert
    c2, c1, c0 = QUADRATIC
    z = x @ w1 + b1
    logits = (c2 * z * z + c1 * z + c0) @ w2 + b2
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        probabilities, expected / expected.sum(axis=1, keepdims=True), rtol=1e-4
    )
