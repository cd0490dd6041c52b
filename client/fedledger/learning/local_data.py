"""A participant's own data from disk: an .npz file of fixed layout, or MNIST in its usual forms.

The .npz layout (every array optional but the first two; ``np.savez(path, x_train=..., ...)``):

===========  =====================================================  ==========================
array        shape and type                                         what it is
===========  =====================================================  ==========================
``x_train``  (n, 28, 28) or (n, 784); integers 0..255 or floats     the samples it trains on
             in [0, 1] (floats above 1 are read as 0..255)
``y_train``  (n,) integers 0..9                                      their labels
``x_val``    like ``x_train``                                        validation data: what it
``y_val``    like ``y_train``                                        judges each round's model
                                                                    on (default: 10 % of the
                                                                    training data, stratified)
``x_test``   like ``x_train``                                        a held-out test set, only
``y_test``   like ``y_train``                                        for the progress it prints
===========  =====================================================  ==========================

The models take 784 inputs and 10 classes, so other data must be brought to that shape (e.g.
28x28 grey images, or 784 features scaled to [0, 1]). A Keras ``mnist.npz`` is a valid file of
this layout; so is a folder of the four MNIST IDX files. Anything else — a missing ``y_train``,
an ``x_val`` without ``y_val``, an unknown array name, wrong shapes, labels outside 0..9 — is
a :class:`~fedledger.errors.DatasetError` naming the file and the array.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fedledger.errors import DatasetError
from fedledger.learning.datasets import Dataset, load_mnist_idx, make_dataset, stratified_split

__all__ = ["NPZ_ARRAYS", "LocalData", "load_local_data"]

NPZ_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
VALIDATION_FRACTION = 0.1


@dataclass(frozen=True, eq=False)
class LocalData:
    """A participant's training and validation data, and an optional held-out test set."""

    train: Dataset
    validation: Dataset
    test: Dataset | None


def load_local_data(path: str | Path, *, seed: int = 0) -> LocalData:
    """Read a participant's own data from an .npz file (module docstring) or an IDX folder.

    Without validation arrays, ``VALIDATION_FRACTION`` of the training data is split off
    (stratified, shuffled with ``seed``). Raises DatasetError naming the file and the problem.
    """
    path = Path(path)
    if path.is_dir():
        split = load_mnist_idx(path)
        return _with_validation(split.train, None, split.test, seed)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file or directory")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable .npz archive: {exc}") from exc
    unknown = sorted(set(arrays) - set(NPZ_ARRAYS))
    if unknown:
        raise DatasetError(
            f"{path}: unknown array {unknown[0]!r} (expected x_train, y_train and optionally "
            "x_val, y_val, x_test, y_test)"
        )
    train = _pair(path, arrays, "train")
    if train is None:
        raise DatasetError(f"{path}: missing arrays 'x_train' and 'y_train' (the training data)")
    validation = _pair(path, arrays, "val")
    test = _pair(path, arrays, "test")
    return _with_validation(train, validation, test, seed)


def _pair(path: Path, arrays: dict[str, np.ndarray], part: str) -> Dataset | None:
    x_name, y_name = f"x_{part}", f"y_{part}"
    present = [name for name in (x_name, y_name) if name in arrays]
    if not present:
        return None
    if len(present) < 2:
        missing = y_name if x_name in arrays else x_name
        raise DatasetError(f"{path}: missing array {missing!r} ({x_name} and {y_name} go together)")
    if arrays[x_name].ndim == 0 or arrays[x_name].shape[0] == 0:
        raise DatasetError(f"{path}: {x_name} holds no samples")
    return make_dataset(arrays[x_name], arrays[y_name], source=f"{path} ({x_name}, {y_name})")


def _with_validation(
    train: Dataset, validation: Dataset | None, test: Dataset | None, seed: int
) -> LocalData:
    if validation is not None:
        return LocalData(train, validation, test)
    if len(train) < 2 * int(np.unique(train.y).size):
        raise DatasetError(
            f"{len(train)} training samples are too few to split off validation data; give "
            "x_val and y_val"
        )
    split = stratified_split(train, test_fraction=VALIDATION_FRACTION, seed=seed)
    return LocalData(split.train, split.test, test)
