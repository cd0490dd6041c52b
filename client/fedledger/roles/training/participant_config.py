"""What a participant is configured with, besides its ledger identity: its data and two records.

:class:`LocalData` is the data it trains and validates on (never leaves the organisation): any
record with ``train`` and ``validation`` datasets, such as
:class:`fedledger.learning.local_data.LocalData` or :class:`.dataplan.ParticipantData`;
:class:`LocalTraining` how it trains (and whether it trains the next round ahead);
:class:`Pacing` how it waits on the ledger. Its task policy, decryptor policy and checkpoint
store are records of their own (:mod:`.task_policy`, :mod:`.decryptors`, :mod:`.checkpoints`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from fedledger.learning.datasets import Dataset
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig
from fedledger.roles.model_io import FloatVector

__all__ = ["LocalData", "LocalTraining", "Pacing"]


class LocalData(Protocol):
    """This organisation's training and validation data."""

    @property
    def train(self) -> Dataset:
        """What it trains on."""
        ...

    @property
    def validation(self) -> Dataset:
        """What it judges each round's model on."""
        ...


@dataclass(frozen=True)
class LocalTraining:
    """How this party trains: the training configuration, its seed (round r trains with
    :func:`~.train_ahead.round_seed`), whether it trains the next round while the current one is
    being decided, and ``on_update``, which sees (round, this party's update before scaling and
    encryption) just before it is encrypted: for an in-process simulation that compares the
    encrypted aggregate with plaintext FedAvg (the update stays in this process)."""

    config: TrainingConfig = DEFAULT_TRAINING
    seed: int = 0
    ahead: bool = True
    on_update: Callable[[int, FloatVector], None] | None = None


@dataclass(frozen=True)
class Pacing:
    """How this party waits: ``fallback_seconds`` bounds a wait without events; ``clock``
    (seconds since the epoch) tells whether an open round's deadline has passed;
    ``step_timeout`` bounds each wait for the round to move (default three round durations, at
    least two minutes)."""

    fallback_seconds: float = 10.0
    step_timeout: float | None = None
    clock: Callable[[], float] = field(default=time.time)
