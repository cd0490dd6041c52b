"""A participant's decryption of a round: its share of the aggregate, then the new weights.

:func:`publish_share`: the t contributors :func:`~.decryptors.chosen_decryptors` names publish
their decryption shares at once; the others stand by and publish only if t shares are not in
after a while. :func:`derive_weights`: once t (chaincode-verified) shares are in, combine them
into the plaintext sum, rescale it to the average over the contributors, let the task's strategy
turn it into the new global weights and evaluate them (and the round's base model, once) on the
local validation data; an aggregate that does not decode is a :class:`Derived` without weights,
reported so that a majority fails the round. Both steps read the round's aggregate through one
:class:`RoundAggregate`, so it crosses the network once per round. The cryptography is the task's
encryption scheme's (:class:`fedledger.crypto.scheme.TaskKeys`).
"""

from __future__ import annotations

import logging

import numpy as np

from fedledger.contract import training
from fedledger.errors import EncodingError
from fedledger.learning.datasets import Dataset
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.fedavg import rescale_partial_sum
from fedledger.ledger.interface import Contract
from fedledger.protocol.round_records import RoundRecord, RoundView
from fedledger.protocol.rounds import MAX_DECODE_ERROR_CHARS, ROUND_CLOSED
from fedledger.roles.ledger_io import WaitTimeout, Watch, get_aggregate, get_share
from fedledger.roles.metering import PhaseTimer
from fedledger.roles.model_io import FloatVector, canonical_weights, weights_hash
from fedledger.roles.training.decryptors import DecryptorPolicy, chosen_decryptors
from fedledger.roles.training.reporting import Derived, RoundReport
from fedledger.roles.training.round_steps import RoundSteps
from fedledger.roles.training.task_state import TaskState

__all__ = ["UNDECODABLE", "RoundAggregate", "derive_weights", "publish_share"]

LOG = logging.getLogger("fedledger.participant")

UNDECODABLE = "undecodable"


class RoundAggregate:
    """A round's aggregate, fetched from the ledger when first needed and then kept."""

    def __init__(self, contract: Contract, task_id: str, number: int) -> None:
        self._fetch = lambda: get_aggregate(contract, task_id, number)
        self._value: object | None = None

    def get(self) -> object:
        """The aggregate (opaque: the task's scheme reads it). Raises AssetNotFound while the
        round is open."""
        if self._value is None:
            self._value = self._fetch()
        return self._value


def publish_share(
    steps: RoundSteps,
    party_id: str,
    policy: DecryptorPolicy,
    state: TaskState,
    view: RoundView,
    watch: Watch,
    aggregate: RoundAggregate,
    report: RoundReport,
    timer: PhaseTimer,
) -> None:
    """Publish this party's share if it is chosen, or if the chosen ones leave it waiting."""
    task, number = state.task, view.round.round
    contributors = view.round.aggregate.contributors if view.round.aggregate else ()
    chosen = chosen_decryptors(contributors, number, task.threshold)
    if not policy.everyone and party_id not in chosen:
        try:
            steps.await_round(
                task, number, watch,
                lambda v: len(v.shares) >= task.threshold or v.round.status != ROUND_CLOSED,
                "the chosen decryptors", timeout=policy.standby_seconds,
            )  # fmt: skip
            return
        except WaitTimeout:
            pass  # a chosen decryptor is late: stand in for it
    fetched = aggregate.get()
    with timer("decrypt"):
        encoded = state.keys.decryption_share(fetched)
    report.share_bytes, report.decrypted = len(encoded), True
    LOG.info("round %d: share computed", number)
    steps.submit_while(
        task, number, ROUND_CLOSED,
        lambda: training.submit_decryption_share(steps.contract, task.id, number, encoded),
    )  # fmt: skip


def derive_weights(
    contract: Contract,
    state: TaskState,
    view: RoundView,
    aggregate: RoundAggregate,
    validation: Dataset,
    report: RoundReport,
    timer: PhaseTimer,
) -> Derived:
    """Decrypt the aggregate from t shares, apply the task's strategy and evaluate the result;
    return what was derived (module docstring)."""
    task, record = state.task, view.round
    contributors = record.aggregate.contributors if record.aggregate else ()
    shares = [
        (party, get_share(contract, task.id, record.round, party))
        for party in view.share_parties[: task.threshold]
    ]
    fetched = aggregate.get()
    with timer("combine"):
        try:
            decrypted = state.keys.combine(fetched, shares, len(contributors))
        except EncodingError as exc:
            report.weights_hash = UNDECODABLE
            return Derived(None, decode_error=str(exc)[:MAX_DECODE_ERROR_CHARS])
        contributed = sum(task.samples_of(party) for party in contributors)
        average = rescale_partial_sum(np.asarray(decrypted), task.total_samples, contributed)
        weights, strategy_state = state.strategy.aggregate_fit(
            state.models[record.base_round], average, state.strategy_states[record.base_round]
        )
        weights = canonical_weights(weights)
    report.weights_hash = weights_hash(weights)
    with timer("evaluate"):
        _evaluate(state, record, weights, validation, report)
    return Derived(weights, strategy_state)


def _evaluate(
    state: TaskState,
    record: RoundRecord,
    weights: FloatVector,
    validation: Dataset,
    report: RoundReport,
) -> None:
    """Record the new weights' and (computed once per base) the base model's local accuracy."""
    model, base = state.task.model, record.base_round
    report.local_accuracy = evaluate_accuracy(model, weights, validation)
    if base not in state.base_accuracies:
        state.base_accuracies[base] = evaluate_accuracy(model, state.models[base], validation)
    report.base_accuracy = state.base_accuracies[base]
