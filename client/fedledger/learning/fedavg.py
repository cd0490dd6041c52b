"""FedAvg arithmetic as small pure NumPy functions, for plaintext and encrypted aggregation.

Plain FedAvg averages the participants' updates weighted by their sample counts. Encrypted FedAvg
cannot divide after summing ciphertexts, so each participant scales its own update by its weight
fraction ``n_i / N`` (``N`` the expected total of samples) before encrypting; the homomorphic sum
of the scaled updates is then the weighted average. When only some participants contribute, the
sum is short of ``N`` samples and ``rescale_partial_sum`` corrects it by ``N / N_contributors``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from fedledger.errors import LearningError

__all__ = [
    "apply_update",
    "compute_update",
    "rescale_partial_sum",
    "scale_update",
    "weight_fraction",
    "weight_fractions",
    "weighted_average",
]


def compute_update(new_weights: npt.ArrayLike, global_weights: npt.ArrayLike) -> np.ndarray:
    """Return the local update ``new - global`` as a float64 vector.

    Raises LearningError when the vectors differ in length.
    """
    new = _vector(new_weights, "new weights")
    old = _vector(global_weights, "global weights")
    _same_length(new, old, "new weights", "global weights")
    return new - old


def apply_update(global_weights: npt.ArrayLike, update: npt.ArrayLike) -> np.ndarray:
    """Return ``global + update`` as a float64 vector.

    Raises LearningError when the vectors differ in length.
    """
    old = _vector(global_weights, "global weights")
    delta = _vector(update, "update")
    _same_length(old, delta, "global weights", "update")
    return old + delta


def weighted_average(updates: Sequence[npt.ArrayLike], sample_counts: Sequence[int]) -> np.ndarray:
    """Return the average of ``updates`` weighted by ``sample_counts`` (plain FedAvg).

    Raises LearningError when there are no updates, the counts do not match the updates one to
    one, a count is not a positive integer, or the updates differ in length.
    """
    if len(updates) == 0:
        raise LearningError("cannot average zero updates")
    if len(updates) != len(sample_counts):
        raise LearningError(f"{len(updates)} updates but {len(sample_counts)} sample counts")
    counts = [_positive_count(n, "sample count") for n in sample_counts]
    vectors = [_vector(u, f"update {i}") for i, u in enumerate(updates)]
    for i, vector in enumerate(vectors[1:], start=1):
        _same_length(vector, vectors[0], f"update {i}", "update 0")
    total = sum(counts)
    average = np.zeros_like(vectors[0])
    for vector, count in zip(vectors, counts, strict=True):
        average += vector * (count / total)
    return average


def weight_fraction(sample_count: int, total_samples: int) -> float:
    """Return a participant's FedAvg weight ``n_i / N``.

    Raises LearningError when a count is not a positive integer or ``n_i > N``.
    """
    n = _positive_count(sample_count, "sample count")
    total = _positive_count(total_samples, "total samples")
    if n > total:
        raise LearningError(f"sample count {n} exceeds the total of {total} samples")
    return n / total


def weight_fractions(sample_counts: Sequence[int]) -> np.ndarray:
    """Return every participant's ``n_i / N`` where ``N`` is the sum of ``sample_counts``.

    Raises LearningError for an empty list or a count that is not a positive integer.
    """
    if len(sample_counts) == 0:
        raise LearningError("no sample counts given")
    counts = np.array([_positive_count(n, "sample count") for n in sample_counts], dtype=float)
    return counts / counts.sum()


def scale_update(update: npt.ArrayLike, sample_count: int, total_samples: int) -> np.ndarray:
    """Return ``update · n_i / N``: what a participant encrypts for encrypted FedAvg.

    Raises LearningError like ``weight_fraction``.
    """
    return _vector(update, "update") * weight_fraction(sample_count, total_samples)


def rescale_partial_sum(
    summed: npt.ArrayLike, expected_samples: int, contributed_samples: int
) -> np.ndarray:
    """Return the sum of scaled updates corrected for missing participants.

    Updates scaled by ``n_i / N`` but contributed by participants holding only
    ``N_c = contributed_samples`` of the ``N = expected_samples`` samples sum to ``N_c / N`` of
    their weighted average; multiplying by ``N / N_c`` restores it.

    Raises LearningError when a count is not a positive integer or ``N_c > N``.
    """
    expected = _positive_count(expected_samples, "expected samples")
    contributed = _positive_count(contributed_samples, "contributed samples")
    if contributed > expected:
        raise LearningError(
            f"contributed samples {contributed} exceed the expected {expected} samples"
        )
    return _vector(summed, "summed update") * (expected / contributed)


def _vector(values: npt.ArrayLike, what: str) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.ndim != 1:
        raise LearningError(f"{what} must be a one-dimensional vector, got shape {vector.shape}")
    if not np.all(np.isfinite(vector)):
        raise LearningError(f"{what} holds NaN or infinite values")
    return vector


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise LearningError(f"{name_a} has {a.size} values but {name_b} has {b.size}")


def _positive_count(value: object, what: str) -> int:
    # bool is an int subclass; True as a sample count is a bug upstream, not one sample.
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise LearningError(f"{what} must be a positive integer, got {value!r}")
    return int(value)
