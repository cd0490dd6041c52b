"""How the decrypted average update becomes the next global model: a small Strategy seam.

In the style of Flower's ``Strategy``: :meth:`Strategy.configure_fit` gives the local training
configuration of a round and :meth:`Strategy.aggregate_fit` turns the round's average update
(what the threshold decryption of the homomorphic sum yields, Σ n_i/N · Δ_i) into the new global
weights. Here aggregation is the sum the ledger already computed, so the strategy only acts on
the decrypted average, and every participant applies it itself: it must be deterministic. Both
strategies use float64 numpy operations on identical inputs (the base weights, the average, the
strategy's state after the base round), so every participant derives byte-identical weights and
reports the same digest. A strategy's state (FedAvgM's momentum buffer) advances only with
accepted rounds: a rejected or failed round leaves the global model and the state as they were.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fedledger.errors import LearningError
from fedledger.learning.training import TrainingConfig
from fedledger.protocol.training import StrategySpec

__all__ = ["PRESETS", "FedAvg", "FedAvgM", "Strategy", "StrategyState", "preset", "strategy_for"]

FloatVector = NDArray[np.float64]
StrategyState = FloatVector | None


class Strategy(ABC):
    """The server-side optimiser every participant applies to the decrypted average."""

    name: str

    def configure_fit(self, round_number: int, config: TrainingConfig) -> TrainingConfig:
        """Return the local training configuration of round ``round_number`` (default: as is)."""
        return config

    @abstractmethod
    def aggregate_fit(
        self, base: FloatVector, average: FloatVector, state: StrategyState
    ) -> tuple[FloatVector, StrategyState]:
        """Return (the new global weights, the strategy's state after this round)."""


@dataclass(frozen=True)
class FedAvg(Strategy):
    """FedAvg (McMahan et al., 2017): the new model is the base plus the average update."""

    name = "fedavg"

    def aggregate_fit(
        self, base: FloatVector, average: FloatVector, state: StrategyState
    ) -> tuple[FloatVector, StrategyState]:
        """Return (base + average, no state)."""
        return base + average, None


@dataclass(frozen=True)
class FedAvgM(Strategy):
    """FedAvg with server momentum (Hsu, Qi, Brown, 2019): m ← β·m + Δ, w ← w_base + η·m."""

    momentum: float
    server_lr: float
    name = "fedavgm"

    def aggregate_fit(
        self, base: FloatVector, average: FloatVector, state: StrategyState
    ) -> tuple[FloatVector, StrategyState]:
        """Return (base + η·m, m) with m the updated momentum buffer."""
        buffer = average if state is None else self.momentum * state + average
        return base + self.server_lr * buffer, buffer


# The strategies the demo and the simulation offer by name (fedavgm: momentum 0.5, server lr 1.2).
PRESETS: dict[str, StrategySpec] = {
    "fedavg": StrategySpec(),
    "fedavgm": StrategySpec("fedavgm", momentum_bp=5000, server_lr_bp=12_000),
}


def preset(name: str) -> StrategySpec:
    """The preset strategy called ``name``; raises LearningError naming the known ones."""
    spec = PRESETS.get(name)
    if spec is None:
        raise LearningError(f"unknown strategy {name!r}; known strategies: {', '.join(PRESETS)}")
    return spec


def strategy_for(spec: StrategySpec) -> Strategy:
    """The strategy a task names; raises LearningError for one this code does not know."""
    if spec.name == "fedavg":
        return FedAvg()
    if spec.name == "fedavgm":
        return FedAvgM(spec.momentum_bp / 10_000, spec.server_lr_bp / 10_000)
    raise LearningError(f"unknown strategy {spec.name!r}")
