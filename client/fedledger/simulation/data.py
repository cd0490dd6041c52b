"""The simulated participants' data: one data set split once, as every demo process splits it."""

from __future__ import annotations

from dataclasses import dataclass

from fedledger.learning.datasets import Dataset, stratified_split
from fedledger.roles.training.dataplan import VALIDATION_FRACTION, DataPlan, load_split, partitions
from fedledger.simulation.config import SimulationConfig

__all__ = ["LocalData", "SimulationData", "load_simulation_data"]


@dataclass(frozen=True)
class LocalData:
    """One participant's training and validation data."""

    train: Dataset
    validation: Dataset


@dataclass(frozen=True)
class SimulationData:
    """Every participant's local data, in participant order, and the shared held-out test set."""

    parts: list[LocalData]
    test: Dataset

    @property
    def samples(self) -> list[int]:
        """Each participant's training sample count (its FedAvg weight)."""
        return [len(part.train) for part in self.parts]


def load_simulation_data(config: SimulationConfig) -> SimulationData:
    """Split the data set as ``fedledger participant run`` does for the same plan and seed
    (participant i gets what demo participant i would), but load it only once.

    Raises LearningError for a bad partition or too little data for the participants.
    """
    plan = DataPlan(config.participants, config.partition, config.data_path, config.seed)
    split = load_split(plan)
    parts = []
    for index, own in enumerate(partitions(plan, split), start=1):
        local = stratified_split(own, test_fraction=VALIDATION_FRACTION, seed=plan.seed + index)
        parts.append(LocalData(local.train, local.test))
    return SimulationData(parts, split.test)
