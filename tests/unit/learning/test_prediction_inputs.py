"""Images for `fedledger predict` from .npy, .npz and IDX files, scaled as training scales them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fedledger.errors import DatasetError
from fedledger.learning.prediction_inputs import load_prediction_inputs


def _idx_images(images: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(n).to_bytes(4, "big") for n in images.shape)
    return header + images.astype(np.uint8).tobytes()


def test_a_single_npy_image_of_bytes_becomes_one_row_in_the_unit_interval(tmp_path: Path) -> None:
    path = tmp_path / "one.npy"
    np.save(path, np.full((28, 28), 255, dtype=np.uint8))

    inputs = load_prediction_inputs(path)

    assert inputs.x.shape == (1, 784) and inputs.labels is None
    assert float(inputs.x.max()) == 1.0


def test_an_npz_with_x_and_y_carries_the_labels(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, x=np.zeros((3, 784), dtype=np.float32), y=np.array([1, 2, 3]))

    inputs = load_prediction_inputs(path)

    assert len(inputs) == 3
    assert inputs.labels is not None and list(inputs.labels) == [1, 2, 3]


def test_keras_style_test_arrays_and_idx_image_files_are_read(tmp_path: Path) -> None:
    images = np.arange(2 * 784).reshape(2, 28, 28) % 256
    npz, idx = tmp_path / "mnist.npz", tmp_path / "t10k-images-idx3-ubyte"
    np.savez(npz, x_test=images.astype(np.uint8), y_test=np.array([7, 0], dtype=np.uint8))
    idx.write_bytes(_idx_images(images))

    from_npz, from_idx = load_prediction_inputs(npz), load_prediction_inputs(idx)

    assert np.array_equal(from_npz.x, from_idx.x)
    assert from_idx.labels is None and list(from_npz.labels) == [7, 0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((2, 10))}, "expected images of shape (n, 28, 28) or (n, 784)"),
        ({"x": np.full((1, 784), 300.0)}, "pixel values must lie in [0, 255] or [0, 1]"),
        ({"x": np.zeros((2, 784)), "y": np.array([1, 12])}, "labels must lie in 0..9"),
        ({"a": np.zeros((1, 784)), "b": np.zeros(1)}, "expected arrays x (and y)"),
    ],
)
def test_unusable_files_are_refused_with_the_reason(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]

    with pytest.raises(DatasetError) as refused:
        load_prediction_inputs(path)

    assert message in str(refused.value)
