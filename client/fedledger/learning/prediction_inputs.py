"""Images a consumer wants predictions for, from a file: .npy, .npz or an IDX image file.

- ``.npy``: one image (784 values or 28x28) or a stack of them;
- ``.npz``: arrays ``x`` (and optionally ``y``), or Keras-style ``x_test`` (and ``y_test``);
- anything else is read as an IDX file (plain or .gz), e.g. ``t10k-images-idx3-ubyte``.

Pixels are scaled to [0, 1] as training scales them (integers and floats above 1 are taken as
0..255). Labels, when the file has them, let the command report the accuracy.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fedledger.errors import DatasetError
from fedledger.learning.datasets import FEATURES, NUM_CLASSES
from fedledger.learning.idx import read_idx

__all__ = ["PredictionInputs", "load_prediction_inputs"]

_PAIRS = (("x", "y"), ("x_test", "y_test"))


@dataclass(frozen=True, eq=False)
class PredictionInputs:
    """Images as rows of 784 floats in [0, 1], and their labels when the file has them."""

    x: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int64] | None

    def __len__(self) -> int:
        return int(self.x.shape[0])


def _pixels(images: npt.NDArray[np.generic], source: str) -> npt.NDArray[np.float32]:
    x = np.asarray(images)
    if x.size == FEATURES and x.ndim in (1, 2) and x.shape[0] in (FEATURES, 28):
        x = x.reshape(1, FEATURES)
    if x.ndim not in (2, 3) or x.shape[0] == 0 or x[0].size != FEATURES:
        raise DatasetError(
            f"{source}: expected images of shape (n, 28, 28) or (n, 784), got {x.shape}"
        )
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DatasetError(f"{source}: pixels must be numbers, got {x.dtype}")
    pixels = x.reshape(x.shape[0], FEATURES).astype(np.float32)
    if not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError(f"{source}: pixel values must lie in [0, 255] or [0, 1]")
    if np.issubdtype(x.dtype, np.integer) or pixels.max() > 1.0:
        pixels /= 255.0
    return pixels


def _labels(values: npt.NDArray[np.generic], count: int, source: str) -> npt.NDArray[np.int64]:
    y = np.asarray(values)
    if y.shape != (count,) or not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{source}: labels must be {count} integers, got {y.dtype} {y.shape}")
    if y.min() < 0 or y.max() >= NUM_CLASSES:
        raise DatasetError(f"{source}: labels must lie in 0..{NUM_CLASSES - 1}")
    return y.astype(np.int64)


def _from_npz(path: Path) -> PredictionInputs:
    with np.load(path, allow_pickle=False) as archive:
        for images, labels in _PAIRS:
            if images in archive.files:
                x = _pixels(archive[images], f"{path} ({images})")
                y = _labels(archive[labels], len(x), str(path)) if labels in archive.files else None
                return PredictionInputs(x, y)
        if len(archive.files) == 1:
            return PredictionInputs(_pixels(archive[archive.files[0]], str(path)), None)
    raise DatasetError(f"{path}: expected arrays x (and y) or x_test (and y_test)")


def load_prediction_inputs(path: str | Path) -> PredictionInputs:
    """Read images (and labels, when present) from ``path``; raises DatasetError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        if path.suffix == ".npy":
            return PredictionInputs(_pixels(np.load(path, allow_pickle=False), str(path)), None)
        if path.suffix == ".npz":
            return _from_npz(path)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{path}: not a readable NumPy file: {exc}") from exc
    return PredictionInputs(_pixels(read_idx(path), str(path)), None)
