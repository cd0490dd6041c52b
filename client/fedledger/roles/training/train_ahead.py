"""Local training for a round, and training the next round ahead, in the background.

Once a participant has derived a round's new weights they are, in the usual case (the round is
accepted), the next round's base: so it starts training the next round from them at once, while
it reports and the decision comes in. If the next round opens on that base the update is ready
(or partly done); otherwise (the round was rejected or failed) it is thrown away and training
starts again from the real base. Training is seeded by round (:func:`round_seed`): the same
inputs, the same update, whenever it is computed.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from fedledger.learning.datasets import Dataset
from fedledger.learning.strategy import Strategy
from fedledger.learning.training import train_local
from fedledger.protocol.task_records import TaskRecord
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.participant_config import LocalTraining

__all__ = ["LocalTrainer", "TrainedAhead", "round_seed"]


def round_seed(seed: int, number: int) -> int:
    """The training seed of round ``number`` for a participant seeded ``seed`` (the same inputs,
    the same update: a plaintext twin of the round trains with it too)."""
    return seed * 1000 + number


@dataclass(frozen=True)
class TrainedAhead:
    """Round ``number``'s update, being trained in the background from the weights this party
    derived in round ``base_round``: the update and the seconds the training took."""

    number: int
    base_round: int
    result: Future[tuple[FloatVector, float]]

    def matches(self, number: int, base_round: int) -> bool:
        """True when this is round ``number``'s update from the base it really opened on."""
        return (self.number, self.base_round) == (number, base_round)


class LocalTrainer:
    """Trains this party's updates, now or ahead (one background thread)."""

    def __init__(self, train: Dataset, training: LocalTraining) -> None:
        self.data = train
        self.training = training
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="train-ahead")

    def train(
        self, task: TaskRecord, strategy: Strategy, number: int, base: FloatVector
    ) -> FloatVector:
        """Round ``number``'s local update from ``base``."""
        config = strategy.configure_fit(number, self.training.config)
        seed = round_seed(self.training.seed, number)
        return train_local(task.model, base, self.data, config, seed=seed).update

    def ahead(
        self, task: TaskRecord, strategy: Strategy, base_round: int, weights: FloatVector
    ) -> TrainedAhead | None:
        """Start training round ``base_round + 1`` from ``weights`` in the background; None when
        training ahead is off or ``base_round`` is the task's last round."""
        number = base_round + 1
        if not self.training.ahead or number > task.rounds:
            return None

        def train() -> tuple[FloatVector, float]:
            started = time.perf_counter()
            update = self.train(task, strategy, number, weights)
            return update, round(time.perf_counter() - started, 3)

        return TrainedAhead(number, base_round, self._pool.submit(train))
