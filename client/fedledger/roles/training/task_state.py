"""What a participant knows of a task it has joined: its keys, its strategy, the accepted models.

The keys are the task's encryption scheme's (:class:`fedledger.crypto.scheme.TaskKeys`), opaque
to the round; their attributes read through :class:`TaskState` (for Paillier ``public_key``,
``encoding``, ``pool``, ``tkey``, ``indices``) for tools and tests that work below the round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fedledger.crypto.scheme import TaskKeys
from fedledger.learning.strategy import Strategy, StrategyState
from fedledger.protocol.task_records import TaskRecord
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.train_ahead import TrainedAhead

__all__ = ["TaskState"]


@dataclass
class TaskState:
    """A joined task (module docstring); ``models`` maps each accepted round to its weights."""

    task: TaskRecord
    keys: TaskKeys
    strategy: Strategy
    models: dict[int, FloatVector] = field(default_factory=dict)  # accepted round -> weights
    strategy_states: dict[int, StrategyState] = field(default_factory=dict)
    base_accuracies: dict[int, float] = field(default_factory=dict)  # accepted round -> accuracy
    ahead: TrainedAhead | None = None

    def __getattr__(self, name: str) -> Any:
        """The scheme's key material, read through (module docstring)."""
        if name == "keys":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.keys, name)

    @property
    def latest(self) -> FloatVector:
        """The newest accepted global weights."""
        return self.models[max(self.models)]
