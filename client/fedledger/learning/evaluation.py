"""Evaluation: the accuracy of a weight vector on a dataset."""

from __future__ import annotations

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.datasets import Dataset
from fedledger.learning.models import build_model, weight_shapes
from fedledger.learning.weights import Weights, as_weight_arrays

__all__ = ["evaluate_accuracy", "predict_labels"]

_BATCH = 1024


def predict_labels(model_name: str, weights: Weights, x: np.ndarray) -> np.ndarray:
    """Return the predicted class of every row of ``x`` under model ``model_name``'s ``weights``.

    Raises LearningError for an unknown model or weights of the wrong size.
    """
    arrays = as_weight_arrays(weights, weight_shapes(model_name))
    model = build_model(model_name)
    model.set_weights(arrays)
    # Direct calls in batches rather than predict(): no tf.data pipeline, no progress output.
    labels = [
        np.asarray(model(x[start : start + _BATCH], training=False)).argmax(axis=1)
        for start in range(0, x.shape[0], _BATCH)
    ]
    return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)


def evaluate_accuracy(model_name: str, weights: Weights, data: Dataset) -> float:
    """Return the fraction of ``data`` that ``weights`` classify correctly, in [0, 1].

    Raises LearningError for an empty dataset, an unknown model or weights of the wrong size.
    """
    if len(data) == 0:
        raise LearningError("cannot evaluate on an empty dataset")
    predicted = predict_labels(model_name, weights, data.x)
    return float(np.mean(predicted == data.y))
