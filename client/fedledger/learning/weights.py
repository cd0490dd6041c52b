"""Weight vectors: a model's weight arrays as one flat float64 vector, and back."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fedledger.errors import LearningError

__all__ = [
    "Weights",
    "as_weight_arrays",
    "as_weight_vector",
    "flatten_weights",
    "get_weight_vector",
    "set_weight_vector",
    "unflatten_weights",
]

# Either one flat vector or the per-layer arrays (Keras' get_weights() order).
Weights = npt.ArrayLike | Sequence[npt.ArrayLike]


def flatten_weights(arrays: Sequence[npt.ArrayLike]) -> np.ndarray:
    """Return the arrays' values concatenated, in order and C order, as one float64 vector."""
    if len(arrays) == 0:
        return np.zeros(0, dtype=np.float64)
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def unflatten_weights(vector: npt.ArrayLike, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Split a flat vector into float32 arrays of the given shapes.

    Raises LearningError when the vector is not one-dimensional, its length is not the total
    size of the shapes, or it holds a NaN or infinity.
    """
    flat = np.asarray(vector, dtype=np.float64)
    if flat.ndim != 1:
        raise LearningError(f"a weight vector must be one-dimensional, got shape {flat.shape}")
    expected = sum(math.prod(shape) for shape in shapes)
    if flat.size != expected:
        raise LearningError(f"weight vector has {flat.size} values; the model needs {expected}")
    if not np.all(np.isfinite(flat)):
        raise LearningError("weight vector holds NaN or infinite values")
    arrays = []
    offset = 0
    for shape in shapes:
        size = math.prod(shape)
        arrays.append(flat[offset : offset + size].reshape(shape).astype(np.float32))
        offset += size
    return arrays


def as_weight_arrays(weights: Weights, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Return ``weights`` (flat vector or list of arrays) as float32 arrays of ``shapes``.

    Raises LearningError when the number of arrays, a shape or the total length is wrong.
    """
    if _is_array_list(weights):
        arrays = [np.asarray(a) for a in weights]  # type: ignore[union-attr]
        if len(arrays) != len(shapes):
            raise LearningError(f"got {len(arrays)} weight arrays; the model has {len(shapes)}")
        for index, (array, shape) in enumerate(zip(arrays, shapes, strict=True)):
            if tuple(array.shape) != tuple(shape):
                raise LearningError(
                    f"weight array {index} has shape {array.shape}; the model needs {shape}"
                )
        weights = flatten_weights(arrays)
    return unflatten_weights(weights, shapes)  # type: ignore[arg-type]


def as_weight_vector(weights: Weights, shapes: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Return ``weights`` (flat vector or list of arrays) as a checked flat float64 vector.

    Raises LearningError like ``as_weight_arrays``.
    """
    return flatten_weights(as_weight_arrays(weights, shapes))


def get_weight_vector(model: Any) -> np.ndarray:
    """Return a Keras model's weights as one flat float64 vector."""
    return flatten_weights(model.get_weights())


def set_weight_vector(model: Any, weights: Weights) -> None:
    """Load ``weights`` (flat vector or list of arrays) into a Keras model.

    Raises LearningError when they do not fit the model's shapes; the model is then unchanged.
    """
    shapes = [tuple(w.shape) for w in model.get_weights()]
    model.set_weights(as_weight_arrays(weights, shapes))


def _is_array_list(weights: Weights) -> bool:
    """Tell a list of per-layer arrays from a flat vector given as a list of numbers."""
    if isinstance(weights, np.ndarray):
        return False
    if isinstance(weights, list | tuple):
        return len(weights) > 0 and all(np.ndim(item) > 0 for item in weights)
    return False
