"""A participant's own data from an .npz file: the documented layout, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fedledger.errors import DatasetError
from fedledger.learning.local_data import load_local_data


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)


def _labels(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.int64) % 10


def test_training_data_alone_is_split_into_training_and_stratified_validation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "own.npz"
    np.savez(path, x_train=_images(200), y_train=_labels(200))

    data = load_local_data(path, seed=3)

    assert (len(data.train), len(data.validation), data.test) == (180, 20, None)
    assert data.validation.label_histogram() == [2] * 10
    assert data.train.x.shape == (180, 784) and float(data.train.x.max()) <= 1.0


def test_given_validation_and_test_arrays_are_used_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "own.npz"
    arrays = {
        "x_train": _images(50).reshape(50, 784) / 255.0,
        "y_train": _labels(50),
        "x_val": _images(12, 1),
        "y_val": _labels(12),
        "x_test": _images(7, 2),
        "y_test": _labels(7),
    }
    np.savez(path, **arrays)  # type: ignore[arg-type]

    data = load_local_data(path)

    assert data.test is not None
    assert (len(data.train), len(data.validation), len(data.test)) == (50, 12, 7)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x_train": _images(20)}, "missing array 'y_train' (x_train and y_train go together)"),
        ({"y_val": _labels(3)}, "missing arrays 'x_train' and 'y_train' (the training data)"),
        (
            {"x_train": _images(20), "y_train": _labels(20), "x_val": _images(3)},
            "missing array 'y_val' (x_val and y_val go together)",
        ),
        (
            {"x_train": _images(20), "y_train": _labels(20), "X_test": _images(2)},
            "unknown array 'X_test' (expected x_train, y_train and optionally x_val, y_val",
        ),
        (
            {"x_train": np.zeros((20, 32, 32)), "y_train": _labels(20)},
            "expected images of shape (n, 28, 28) or (n, 784) and n labels",
        ),
        (
            {"x_train": _images(20), "y_train": _labels(20) + 5},
            "labels must lie in 0..9, found 5..14",
        ),
        (
            {"x_train": _images(20), "y_train": _labels(20).astype(np.float32)},
            "labels must be an integer vector",
        ),
        (
            {"x_train": _images(0), "y_train": _labels(0)},
            "x_train holds no samples",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file_and_the_array(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    path = tmp_path / "own.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]

    with pytest.raises(DatasetError) as caught:
        load_local_data(path)

    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_file_that_is_not_an_npz_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "own.npz"
    path.write_text("not a zip")

    with pytest.raises(DatasetError, match=r"not a readable \.npz archive"):
        load_local_data(path)


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or directory"):
        load_local_data(tmp_path / "none.npz")


def test_too_few_samples_to_split_ask_for_validation_arrays(tmp_path: Path) -> None:
    path = tmp_path / "own.npz"
    np.savez(path, x_train=_images(5), y_train=_labels(5))

    with pytest.raises(DatasetError, match="too few to split off validation data; give x_val"):
        load_local_data(path)
