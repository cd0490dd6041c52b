"""The model zoo: the prototype's MLPs on flattened 28x28 images, built by name with a seed.

``mlp32q`` is the prediction-as-a-service variant of ``mlp32``: its hidden activation is the
quadratic ``QUADRATIC`` (0.125 z² + 0.5 z + 0.25, close to ReLU on [-4, 4]) instead of ReLU, so a
provider can evaluate it exactly on CKKS-encrypted inputs (fedledger.inference). A quadratic fitted
to a trained ReLU model's pre-activations changes that model's prediction on about 3% of held-out
images (measured by benchmarks/prediction.py), too many for a prediction service; trained with the
quadratic from the start, the model is as accurate as with ReLU.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.runtime import import_keras
from fedledger.learning.weights import get_weight_vector

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "QUADRATIC",
    "ModelSpec",
    "build_model",
    "get_model_spec",
    "initial_weights",
    "parameter_count",
    "quadratic_activation",
    "weight_shapes",
]

INPUT_DIM = 784
NUM_CLASSES = 10
# Coefficients (c2, c1, c0) of the polynomial activation c2·z² + c1·z + c0 of the "q" models.
QUADRATIC = (0.125, 0.5, 0.25)
ACTIVATIONS = ("relu", "quadratic")


@dataclass(frozen=True)
class ModelSpec:
    """A one-hidden-layer perceptron: input -> hidden (ReLU or QUADRATIC) -> classes (softmax)."""

    name: str
    hidden: int
    input_dim: int = INPUT_DIM
    classes: int = NUM_CLASSES
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise LearningError(
                f"unknown activation {self.activation!r}; known: {', '.join(ACTIVATIONS)}"
            )

    def weight_shapes(self) -> list[tuple[int, ...]]:
        """Return the shapes of the weight arrays in Keras order: kernel, bias per layer."""
        return [
            (self.input_dim, self.hidden),
            (self.hidden,),
            (self.hidden, self.classes),
            (self.classes,),
        ]

    def parameter_count(self) -> int:
        """Return the number of trainable parameters."""
        return sum(math.prod(shape) for shape in self.weight_shapes())


MODELS: dict[str, ModelSpec] = {
    "mlp32": ModelSpec("mlp32", hidden=32),
    "mlp128": ModelSpec("mlp128", hidden=128),
    "mlp32q": ModelSpec("mlp32q", hidden=32, activation="quadratic"),
}
DEFAULT_MODEL = "mlp32"


def get_model_spec(name: str) -> ModelSpec:
    """Return the spec of the model called ``name``.

    Raises LearningError naming the known models when ``name`` is not one of them.
    """
    spec = MODELS.get(name)
    if spec is None:
        known = ", ".join(sorted(MODELS))
        raise LearningError(f"unknown model {name!r}; known models: {known}")
    return spec


def weight_shapes(name: str) -> list[tuple[int, ...]]:
    """Return the weight shapes of model ``name`` without importing TensorFlow."""
    return get_model_spec(name).weight_shapes()


def parameter_count(name: str) -> int:
    """Return the parameter count of model ``name`` without importing TensorFlow."""
    return get_model_spec(name).parameter_count()


def build_model(name: str = DEFAULT_MODEL, *, seed: int = 0) -> Any:
    """Build the uncompiled Keras model ``name``; the same seed gives the same initial weights.

    Returns a ``keras.Sequential``. Raises LearningError for an unknown name.
    """
    spec = get_model_spec(name)
    keras = import_keras()
    activation: Any = "relu" if spec.activation == "relu" else quadratic_activation()
    # Distinct per-layer seeds: two layers initialised from one seed would get correlated weights.
    return keras.Sequential(
        [
            keras.Input(shape=(spec.input_dim,)),
            keras.layers.Dense(
                spec.hidden,
                activation=activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                name="hidden",
            ),
            keras.layers.Dense(
                spec.classes,
                activation="softmax",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                name="output",
            ),
        ],
        name=spec.name,
    )


def _quadratic(z: Any) -> Any:
    c2, c1, c0 = QUADRATIC
    return c2 * z * z + c1 * z + c0


@functools.cache
def quadratic_activation() -> Any:
    """The quadratic activation, registered with Keras as ``fedledger>quadratic`` (once), so a
    saved ``mlp32q`` model loads with ``keras.models.load_model`` in a process that has called
    this (or imported :mod:`fedledger.learning.export`)."""
    keras = import_keras()
    return keras.saving.register_keras_serializable(package="fedledger", name="quadratic")(
        _quadratic
    )


def initial_weights(name: str = DEFAULT_MODEL, *, seed: int = 0) -> np.ndarray:
    """Return the seeded initial weights of model ``name`` as a flat float64 vector.

    Raises LearningError for an unknown name.
    """
    return get_weight_vector(build_model(name, seed=seed))
