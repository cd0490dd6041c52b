"""The centralised baseline: one model trained on the union of the participants' data.

It gets the same epoch budget as federated training (rounds x local epochs) and starts from the
same initial weights, so the demo can print how close FedAvg comes to pooling the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.datasets import Dataset
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.models import build_model, weight_shapes
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig, compile_model, fit_epochs
from fedledger.learning.weights import Weights, as_weight_arrays, get_weight_vector

__all__ = ["BaselineResult", "centralised_baseline"]


@dataclass(frozen=True, eq=False)
class BaselineResult:
    """Test accuracy of centralised training, the epochs it ran, and its final weights."""

    accuracy: float
    epochs: int
    num_samples: int
    weights: np.ndarray


def centralised_baseline(
    model_name: str,
    train_sets: Sequence[Dataset],
    test: Dataset,
    *,
    rounds: int,
    config: TrainingConfig = DEFAULT_TRAINING,
    initial: Weights | None = None,
    seed: int = 0,
) -> BaselineResult:
    """Train ``model_name`` on the union of ``train_sets`` for ``rounds x config.epochs`` epochs.

    Starts from ``initial`` weights (default: the model built with ``seed``). Returns the
    BaselineResult with accuracy on ``test``. Raises LearningError when there are no training
    samples, ``rounds`` is below 1, or the model or weights are unusable.
    """
    if rounds < 1:
        raise LearningError(f"rounds must be at least 1, got {rounds}")
    if not train_sets or sum(len(d) for d in train_sets) == 0:
        raise LearningError("the centralised baseline needs at least one training sample")
    union = Dataset(
        np.concatenate([d.x for d in train_sets]), np.concatenate([d.y for d in train_sets])
    )
    model = build_model(model_name, seed=seed)
    if initial is not None:
        model.set_weights(as_weight_arrays(initial, weight_shapes(model_name)))
    compile_model(model, config)
    epochs = rounds * config.epochs
    fit_epochs(model, union, epochs, config.batch_size, seed=seed)
    weights = get_weight_vector(model)
    accuracy = evaluate_accuracy(model_name, weights, test)
    return BaselineResult(accuracy, epochs, len(union), weights)
