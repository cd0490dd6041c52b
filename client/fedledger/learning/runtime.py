"""TensorFlow and Keras, imported lazily and quietly, with explicit threading and seeding."""

from __future__ import annotations

import os
from types import ModuleType

from fedledger.errors import LearningError

__all__ = ["configure_tensorflow", "import_keras", "import_tensorflow", "seed_everything"]

_configured = False


def import_tensorflow() -> ModuleType:
    """Import and return ``tensorflow`` with its C++ and Python logging turned down.

    Importing TensorFlow takes seconds, so the learning modules call this inside the functions
    that need it rather than at import time. Level 3 also hides TensorFlow's harmless C++
    "errors" (such as tf.data's unknown-attribute notice); real failures still raise Python
    exceptions. The user's own ``TF_CPP_MIN_LOG_LEVEL`` wins.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


def import_keras() -> ModuleType:
    """Import and return ``keras`` (Keras 3 on the TensorFlow backend), quietly."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import_tensorflow()
    import keras

    return keras


def configure_tensorflow(*, threads: int | None = None, deterministic: bool = True) -> bool:
    """Set TensorFlow's thread pools and op determinism, once per process.

    ``threads`` bounds both intra- and inter-op parallelism (None keeps TensorFlow's default of
    all cores). Thread pools can only be set before TensorFlow runs its first op, so call this
    early — the CLI does, library code never does it implicitly.

    Returns True when the settings were applied, False when an earlier call already applied them.
    Raises LearningError for a non-positive thread count or when TensorFlow has already started.
    """
    global _configured
    if threads is not None and threads < 1:
        raise LearningError(f"threads must be a positive integer, got {threads}")
    if _configured:
        return False
    tf = import_tensorflow()
    try:
        if threads is not None:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
    except RuntimeError as exc:
        raise LearningError(f"TensorFlow is already running; configure it first: {exc}") from exc
    _configured = True
    return True


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's global generators (Keras' own helper)."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
