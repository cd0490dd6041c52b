"""The model a provider serves: a one-hidden-layer perceptron with a quadratic activation.

CKKS evaluates additions and multiplications only, so the hidden activation must be a polynomial;
a quadratic c2·z² + c1·z + c0 costs one multiplicative level. A model trained with that
activation (the zoo's ``mlp32q``) is evaluated exactly, up to CKKS noise. A ReLU model can be
served with a quadratic fitted to ReLU on its own pre-activations (:func:`fit_relu_quadratic`);
that changes its predictions on some inputs, and benchmarks/prediction.py measures how many.

The output layer's softmax is monotone, so the provider returns logits and the argmax is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fedledger.errors import InferenceError

__all__ = ["PolyMlp", "Quadratic", "fit_relu_quadratic"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Quadratic:
    """The activation c2·z² + c1·z + c0 (c2 must not be 0)."""

    c2: float
    c1: float
    c0: float

    def __post_init__(self) -> None:
        if not all(np.isfinite((self.c2, self.c1, self.c0))) or self.c2 == 0:
            raise InferenceError(f"not a quadratic activation: {self}")

    def __call__(self, z: FloatArray) -> FloatArray:
        return np.asarray(self.c2 * z * z + self.c1 * z + self.c0)

    def completed_square(self) -> tuple[float, float]:
        """(delta, gamma) with c2·z² + c1·z + c0 = c2·(z + delta)² + gamma."""
        delta = self.c1 / (2.0 * self.c2)
        return delta, self.c0 - self.c2 * delta * delta


@dataclass(frozen=True, eq=False)
class PolyMlp:
    """Weights (Keras layout: kernel (D, H), bias (H,), kernel (H, C), bias (C,)) and activation."""

    w1: FloatArray
    b1: FloatArray
    w2: FloatArray
    b2: FloatArray
    activation: Quadratic

    def __post_init__(self) -> None:
        _, h = np.shape(self.w1)
        h2, c = np.shape(self.w2)
        if np.shape(self.b1) != (h,) or h2 != h or np.shape(self.b2) != (c,):
            raise InferenceError(
                f"inconsistent weight shapes {np.shape(self.w1)}, {np.shape(self.b1)}, "
                f"{np.shape(self.w2)}, {np.shape(self.b2)}"
            )
        for array in (self.w1, self.b1, self.w2, self.b2):
            if not np.all(np.isfinite(array)):
                raise InferenceError("model weights hold NaN or infinite values")

    @classmethod
    def from_arrays(cls, arrays: list[FloatArray], activation: Quadratic) -> PolyMlp:
        """Build from the four Keras weight arrays; raises InferenceError for another count."""
        if len(arrays) != 4:
            raise InferenceError(f"a one-hidden-layer MLP has 4 weight arrays, got {len(arrays)}")
        w1, b1, w2, b2 = (np.asarray(a, dtype=np.float64) for a in arrays)
        return cls(w1, b1, w2, b2, activation)

    @property
    def inputs(self) -> int:
        return int(self.w1.shape[0])

    @property
    def hidden(self) -> int:
        return int(self.w1.shape[1])

    @property
    def classes(self) -> int:
        return int(self.w2.shape[1])

    def preactivations(self, x: FloatArray) -> FloatArray:
        """Hidden pre-activations x·W1 + b1 of rows ``x``."""
        return np.asarray(np.asarray(x, dtype=np.float64) @ self.w1 + self.b1)

    def logits(self, x: FloatArray) -> FloatArray:
        """Plaintext logits of rows ``x`` with this model's (polynomial) activation."""
        return np.asarray(self.activation(self.preactivations(x)) @ self.w2 + self.b2)


def fit_relu_quadratic(preactivations: FloatArray) -> Quadratic:
    """The least-squares quadratic fit of ReLU at the given pre-activation values."""
    z = np.asarray(preactivations, dtype=np.float64).ravel()
    if z.size < 3 or not np.all(np.isfinite(z)):
        raise InferenceError("fitting a quadratic needs at least 3 finite pre-activation values")
    c2, c1, c0 = np.polyfit(z, np.maximum(z, 0.0), 2)
    return Quadratic(float(c2), float(c1), float(c0))
