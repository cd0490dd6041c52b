"""Partitions: how a dataset is shared among participants, IID or label-skewed by Dirichlet(a).

Both return, per participant, the indices of its samples. Given the same seed they return the
same partition. The Dirichlet partition draws, for every class, the participants' shares from
Dirichlet(a, ..., a): small ``a`` gives each participant few classes, large ``a`` approaches IID.
A participant left with fewer than ``min_samples`` is topped up deterministically (no re-drawing
until lucky), by moving samples from whoever holds the most, from that participant's largest class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fedledger.errors import LearningError
from fedledger.learning.datasets import Dataset

__all__ = [
    "PartitionSpec",
    "parse_partition_spec",
    "partition_dataset",
    "partition_dirichlet",
    "partition_iid",
]


@dataclass(frozen=True)
class PartitionSpec:
    """``kind`` is "iid" or "dirichlet"; ``alpha`` is the concentration for "dirichlet"."""

    kind: str
    alpha: float | None = None

    def __str__(self) -> str:
        return self.kind if self.alpha is None else f"{self.kind}:{self.alpha:g}"


def parse_partition_spec(text: str) -> PartitionSpec:
    """Parse "iid" or "dirichlet:<alpha>" (alpha a positive finite number).

    Returns the PartitionSpec. Raises LearningError naming the accepted forms otherwise.
    """
    usage = 'use "iid" or "dirichlet:<alpha>" with alpha > 0, e.g. "dirichlet:0.5"'
    kind, sep, argument = text.strip().lower().partition(":")
    if kind == "iid" and not sep:
        return PartitionSpec("iid")
    if kind == "dirichlet" and sep:
        try:
            alpha = float(argument)
        except ValueError:
            raise LearningError(f"bad Dirichlet alpha {argument!r} in {text!r}; {usage}") from None
        if not math.isfinite(alpha) or alpha <= 0:
            raise LearningError(f"Dirichlet alpha must be positive and finite in {text!r}; {usage}")
        return PartitionSpec("dirichlet", alpha)
    raise LearningError(f"unknown partition {text!r}; {usage}")


def partition_iid(num_samples: int, participants: int, *, seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(num_samples)`` with ``seed`` and split it into near-equal parts.

    Returns one index array per participant; sizes differ by at most one.
    Raises LearningError when there are fewer samples than participants.
    """
    _check_counts(num_samples, participants, min_samples=1)
    order = np.random.default_rng(seed).permutation(num_samples)
    return [part.astype(np.int64) for part in np.array_split(order, participants)]


def partition_dirichlet(
    labels: npt.ArrayLike,
    participants: int,
    alpha: float,
    *,
    seed: int = 0,
    min_samples: int = 10,
) -> list[np.ndarray]:
    """Split sample indices by label skew: class shares per participant drawn from Dirichlet(a).

    Returns one shuffled index array per participant, each with at least ``min_samples`` indices.
    Raises LearningError when alpha is not positive or the samples cannot give every participant
    ``min_samples``.
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise LearningError(f"labels must be a vector, got shape {y.shape}")
    if not (math.isfinite(alpha) and alpha > 0):
        raise LearningError(f"Dirichlet alpha must be positive and finite, got {alpha}")
    _check_counts(y.size, participants, min_samples=min_samples)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    members = [rng.permutation(np.flatnonzero(y == label)) for label in classes]
    counts = np.array(
        [_apportion(m.size, rng.dirichlet(np.full(participants, alpha))) for m in members]
    )
    _top_up(counts, min_samples)
    parts: list[list[np.ndarray]] = [[] for _ in range(participants)]
    for class_members, class_counts in zip(members, counts, strict=True):
        for participant, chunk in enumerate(np.split(class_members, np.cumsum(class_counts)[:-1])):
            parts[participant].append(chunk)
    return [rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts]


def partition_dataset(
    dataset: Dataset,
    participants: int,
    spec: PartitionSpec | str,
    *,
    seed: int = 0,
    min_samples: int = 10,
) -> list[Dataset]:
    """Return one Dataset per participant, partitioned by ``spec`` ("iid" or "dirichlet:a").

    Raises LearningError for a bad spec or too few samples (see the partition functions).
    """
    if isinstance(spec, str):
        spec = parse_partition_spec(spec)
    if spec.kind == "iid":
        _check_counts(len(dataset), participants, min_samples=min_samples)
        indices = partition_iid(len(dataset), participants, seed=seed)
    elif spec.kind == "dirichlet" and spec.alpha is not None:
        indices = partition_dirichlet(
            dataset.y, participants, spec.alpha, seed=seed, min_samples=min_samples
        )
    else:
        raise LearningError(f"unknown partition {spec}")
    return [dataset.subset(index) for index in indices]


def _check_counts(num_samples: int, participants: int, *, min_samples: int) -> None:
    if participants < 1:
        raise LearningError(f"need at least one participant, got {participants}")
    if min_samples < 1:
        raise LearningError(f"min_samples must be at least 1, got {min_samples}")
    if num_samples < participants * min_samples:
        raise LearningError(
            f"{num_samples} samples cannot give {participants} participants "
            f"{min_samples} samples each"
        )


def _apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (largest remainder method)."""
    exact = shares * total
    counts = np.floor(exact).astype(np.int64)
    shortfall = total - int(counts.sum())
    # Stable sort: ties go to the lower participant index, so the result is reproducible.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:shortfall]] += 1
    return counts


def _top_up(counts: np.ndarray, min_samples: int) -> None:
    """Move samples in ``counts`` (classes x participants) until every column has min_samples."""
    while True:
        sizes = counts.sum(axis=0)
        needy = np.flatnonzero(sizes < min_samples)
        if needy.size == 0:
            return
        receiver = int(needy[0])
        donor = int(np.argmax(sizes))  # argmax picks the lowest index among ties
        label = int(np.argmax(counts[:, donor]))
        moved = min(
            min_samples - int(sizes[receiver]),
            int(sizes[donor]) - min_samples,
            int(counts[label, donor]),
        )
        counts[label, donor] -= moved
        counts[label, receiver] += moved
