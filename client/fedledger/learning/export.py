"""Writing a global model as a Keras file that ``keras.models.load_model`` opens."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.models import build_model
from fedledger.learning.weights import set_weight_vector

__all__ = ["save_keras_model"]


def save_keras_model(model: str, weights: np.ndarray, path: str | Path) -> Path:
    """Build model ``model``, load the flat ``weights`` into it and save it to ``path`` (which
    must end in ``.keras``, Keras' own format). Returns the path written.

    Raises LearningError for a wrong suffix, an unknown model or weights of the wrong length.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise LearningError(f"{path}: a Keras model file must end in .keras")
    keras_model = build_model(model)
    set_weight_vector(keras_model, weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    keras_model.save(path)
    return path
