"""A label-skewed consortium and an enricher that holds what it lacks, for the enrichment demo.

The partition ``skewed:<digits>`` (e.g. ``skewed:7,8,9``) simulates a consortium whose training
data holds few samples of some digits, and an outside enricher that holds many. From the
training split, with the plan's seed:

1. each participant's validation set is a stratified slice of the whole training split (10 %,
   each digit's samples dealt in turn to the participants), so it covers every digit;
2. of the rest, the enricher takes :data:`ENRICHER_SKEWED_SHARE` of every skewed digit's samples
   and :data:`ENRICHER_OTHER_SHARE` of every other digit's;
3. the participants split what is left IID: they see every digit, the skewed ones rarely.

Every process computes the same split from the same plan, so each loads only its own part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fedledger.errors import LearningError
from fedledger.learning.datasets import NUM_CLASSES, Dataset, DataSplit, stratified_split
from fedledger.learning.partition import partition_iid

__all__ = [
    "ENRICHER_OTHER_SHARE",
    "ENRICHER_SKEWED_SHARE",
    "SKEWED",
    "SkewedSplit",
    "is_skewed",
    "parse_skewed_digits",
    "skewed_split",
]

SKEWED = "skewed"
ENRICHER_SKEWED_SHARE = 0.95
ENRICHER_OTHER_SHARE = 0.15
VALIDATION_FRACTION = 0.1


def is_skewed(partition: str) -> bool:
    """True for a ``skewed:<digits>`` partition."""
    return partition.strip().lower().startswith(f"{SKEWED}:")


def parse_skewed_digits(partition: str) -> tuple[int, ...]:
    """The digits of ``skewed:7,8,9``; raises LearningError for anything else."""
    _, _, listed = partition.strip().lower().partition(":")
    try:
        digits = tuple(sorted({int(part) for part in listed.split(",") if part.strip()}))
    except ValueError:
        digits = ()
    if not digits or not all(0 <= d < NUM_CLASSES for d in digits) or len(digits) >= NUM_CLASSES:
        raise LearningError(
            f'a skewed partition names some of the digits 0-9, e.g. "skewed:7,8,9"; got '
            f"{partition!r}"
        )
    return digits


@dataclass(frozen=True)
class SkewedSplit:
    """The participants' training and validation data, and the enricher's data."""

    train: list[Dataset]
    validation: list[Dataset]
    enricher: Dataset


def skewed_split(
    split: DataSplit, participants: int, digits: tuple[int, ...], *, seed: int
) -> SkewedSplit:
    """Split ``split.train`` as the module docstring says (deterministic in ``seed``)."""
    if participants < 1:
        raise LearningError(f"a consortium needs participants, got {participants}")
    held = stratified_split(split.train, test_fraction=VALIDATION_FRACTION, seed=seed)
    rng = np.random.default_rng(seed + 7919)
    mine, theirs = [], []
    for label in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(held.train.y == label))
        share = ENRICHER_SKEWED_SHARE if label in digits else ENRICHER_OTHER_SHARE
        cut = round(share * members.size)
        mine.append(members[:cut])
        theirs.append(members[cut:])
    enricher = held.train.subset(rng.permutation(np.concatenate(mine)))
    pool = held.train.subset(rng.permutation(np.concatenate(theirs)))
    train = [pool.subset(part) for part in partition_iid(len(pool), participants, seed=seed)]
    checks: list[list[int]] = [[] for _ in range(participants)]
    for label in range(NUM_CLASSES):  # dealt round-robin per digit: every part has every digit
        members = rng.permutation(np.flatnonzero(held.test.y == label))
        for position, index in enumerate(members):
            checks[(position + label) % participants].append(int(index))
    validation = [held.test.subset(rng.permutation(np.asarray(c, dtype=np.int64))) for c in checks]
    return SkewedSplit(train, validation, enricher)
