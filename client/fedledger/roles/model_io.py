"""Global-model bytes and digests as the ledger records them.

Weights travel and are hashed as float32 little-endian: every participant applies the same
decrypted aggregate to the same base weights, so all of them arrive at identical bytes and report
the same ``weights_hash``.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
from numpy.typing import NDArray

from fedledger.learning.models import get_model_spec

FloatVector = NDArray[np.float64]


def weights_bytes(weights: FloatVector) -> bytes:
    """The canonical bytes of a weight vector: float32 little-endian."""
    return np.asarray(weights, dtype="<f4").tobytes()


def weights_from_bytes(data: bytes) -> FloatVector:
    """The float64 weight vector held in canonical float32 little-endian bytes."""
    return np.frombuffer(data, dtype="<f4").astype(np.float64)


def weights_hash(weights: FloatVector) -> str:
    """Hex SHA-256 of the canonical bytes of ``weights``."""
    return hashlib.sha256(weights_bytes(weights)).hexdigest()


def canonical_weights(weights: FloatVector) -> FloatVector:
    """``weights`` rounded to float32 exactly as the canonical bytes hold them."""
    return weights_from_bytes(weights_bytes(weights))


def model_hash(model: str) -> str:
    """Hex SHA-256 of the model's architecture (name, layer shapes), as recorded in a task."""
    spec = get_model_spec(model)
    description = {"name": spec.name, "shapes": [list(s) for s in spec.weight_shapes()]}
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()
