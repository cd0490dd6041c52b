"""Writing a global model as a Keras file that ``keras.models.load_model`` opens.

``mlp32`` and ``mlp128`` use only Keras' own layers and load anywhere. ``mlp32q``'s quadratic
activation is fedledger's own: it loads in a process that has registered it, which
:func:`load_keras_model` (or :func:`fedledger.learning.models.quadratic_activation`) does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.models import build_model, quadratic_activation
from fedledger.learning.runtime import import_keras
from fedledger.learning.weights import set_weight_vector

__all__ = ["load_keras_model", "save_keras_model"]


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


def load_keras_model(path: str | Path) -> Any:
    """The Keras model saved at ``path`` (fedledger's quadratic activation registered first)."""
    quadratic_activation()
    return import_keras().models.load_model(Path(path))
