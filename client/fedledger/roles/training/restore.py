"""Restoring a restarted participant's adopted models from its checkpoints.

Only a checkpoint whose digest is the one the ledger accepted for its round is restored; one that
is unreadable, corrupt or not the accepted model is skipped (and logged), and its round is then
replayed from the ledger instead.
"""

from __future__ import annotations

import logging

from fedledger.ledger.interface import Contract
from fedledger.protocol.rounds import ROUND_ACCEPTED
from fedledger.roles.ledger_io import get_round
from fedledger.roles.training.checkpoints import CheckpointError, ModelStore
from fedledger.roles.training.task_state import TaskState

__all__ = ["restore_models"]

LOG = logging.getLogger("fedledger.participant")


def restore_models(contract: Contract, checkpoints: ModelStore, state: TaskState) -> list[int]:
    """Put every checkpointed model the ledger confirms into ``state``; return their rounds."""
    restored = []
    for number in checkpoints.rounds(state.task.id):
        view = get_round(contract, state.task.id, number)
        result = view.round.result if view is not None else None
        if view is None or view.round.status != ROUND_ACCEPTED or result is None:
            continue
        try:
            checkpoint = checkpoints.load(state.task.id, number)
        except CheckpointError as exc:
            LOG.warning("round %d: checkpoint not restored: %s", number, exc)
            continue
        if checkpoint.weights_hash == result.weights_hash:
            state.models[number] = checkpoint.weights
            state.strategy_states[number] = checkpoint.strategy_state
            restored.append(number)
    return restored
