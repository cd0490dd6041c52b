"""Tests for local training, evaluation and the centralised baseline on real MNIST samples."""

from __future__ import annotations

import numpy as np
import pytest

from fedledger.errors import LearningError
from fedledger.learning.baseline import centralised_baseline
from fedledger.learning.datasets import Dataset, DataSplit
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.models import initial_weights, weight_shapes
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig, train_local
from fedledger.learning.weights import unflatten_weights

from .conftest import synthetic_dataset

CHANCE = 0.1


@pytest.mark.slow
def test_local_training_lifts_accuracy_well_above_chance(mnist: DataSplit) -> None:
    # Prepare
    start = initial_weights("mlp32", seed=0)
    local = mnist.train.subset(np.arange(1500))
    before = evaluate_accuracy("mlp32", start, mnist.test)

    # Execute
    result = train_local("mlp32", start, local, TrainingConfig(epochs=2), seed=1)

    # Assert
    after = evaluate_accuracy("mlp32", result.weights, mnist.test)
    assert before < 0.3
    assert after > CHANCE + 0.5
    assert result.num_samples == 1500
    assert np.isfinite(result.loss)
    np.testing.assert_allclose(result.update, result.weights - start)


@pytest.mark.slow
def test_local_training_is_reproducible_by_seed(mnist: DataSplit) -> None:
    # Prepare
    start = [w.astype(np.float32) for w in _arrays(initial_weights("mlp32", seed=2))]
    local = mnist.train.subset(np.arange(300))

    # Execute: weights given as per-layer arrays this time
    first = train_local("mlp32", start, local, seed=9)
    again = train_local("mlp32", start, local, seed=9)
    other = train_local("mlp32", start, local, seed=10)

    # Assert
    np.testing.assert_array_equal(first.weights, again.weights)
    assert not np.array_equal(first.weights, other.weights)


@pytest.mark.slow
def test_centralised_baseline_trains_the_full_epoch_budget(mnist: DataSplit) -> None:
    # Prepare
    parts = [mnist.train.subset(np.arange(0, 400)), mnist.train.subset(np.arange(400, 1000))]

    # Execute
    result = centralised_baseline("mlp32", parts, mnist.test, rounds=2, seed=0)

    # Assert
    assert result.epochs == 2 * DEFAULT_TRAINING.epochs
    assert result.num_samples == 1000
    assert result.accuracy > CHANCE + 0.5
    assert result.accuracy == evaluate_accuracy("mlp32", result.weights, mnist.test)


def test_training_rejects_weights_of_the_wrong_length() -> None:
    with pytest.raises(LearningError, match="the model needs 25450"):
        train_local("mlp32", np.zeros(100), synthetic_dataset([5] * 10))


def test_training_rejects_an_unknown_model() -> None:
    with pytest.raises(LearningError, match="unknown model 'mlp7'"):
        train_local("mlp7", np.zeros(100), synthetic_dataset([5] * 10))


def test_training_rejects_an_empty_dataset() -> None:
    empty = Dataset(np.zeros((0, 784), dtype=np.float32), np.zeros(0, dtype=np.int64))
    with pytest.raises(LearningError, match="empty dataset"):
        train_local("mlp32", np.zeros(25_450), empty)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"learning_rate": float("nan")}, "learning_rate must be positive"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'; known optimizers: sgd, adam"),
        ({"momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
    ],
)
def test_training_config_rejects_bad_hyper_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(LearningError, match=message):
        TrainingConfig(**kwargs)


def test_baseline_rejects_zero_rounds_and_no_data() -> None:
    test = synthetic_dataset([1] * 10)
    with pytest.raises(LearningError, match="rounds must be at least 1"):
        centralised_baseline("mlp32", [test], test, rounds=0)
    with pytest.raises(LearningError, match="at least one training sample"):
        centralised_baseline("mlp32", [], test, rounds=1)


def test_evaluation_rejects_an_empty_dataset() -> None:
    empty = Dataset(np.zeros((0, 784), dtype=np.float32), np.zeros(0, dtype=np.int64))
    with pytest.raises(LearningError, match="empty dataset"):
        evaluate_accuracy("mlp32", np.zeros(25_450), empty)


def _arrays(vector: np.ndarray) -> list[np.ndarray]:
    return unflatten_weights(vector, weight_shapes("mlp32"))
