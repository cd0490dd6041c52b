"""What a participant checks in a task before it approves it: who proposed it and every bound.

Approving a task is consent to have one's updates encrypted under its key and aggregated by its
rules, so a participant approves only a task that

- was proposed by a coordinator it was told to trust (the proposer deals the threshold key: a
  dealer that keeps the key can decrypt every update, so only a trusted one may deal it);
- lists this participant with the sample count it expects (its weight in every average);
- needs at least two shares to decrypt (t ≥ 2) and at least ``min_quorum`` updates per round
  (quorum ≥ max(t, 2, min_quorum)): an aggregate of k updates reveals the last one to a coalition
  of the other k - 1, so a larger quorum protects against more colluding members;
- names a model this code has (its architecture digest and parameter count) and a usable
  strategy;
- gives rounds at least ``min_round_seconds``;
- passes its encryption scheme's checks (:meth:`fedledger.crypto.scheme.TaskScheme.check_parameters`
  and ``check_key``): for packed threshold Paillier, a modulus of at least 2048 bits with
  threshold verification data that parses and belongs to that modulus, that threshold and this
  number of participants, a packing with headroom for every participant's summand that fits the
  modulus, and updates of a size one round can carry.

The chaincode enforces the same bounds at ProposeTask (``fedledger.protocol.training``); a
participant checks them itself because it must not rely on the peers it talks to. Every refusal
is a :class:`TaskRefused` naming the reason, raised before anything is submitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fedledger.contract import training
from fedledger.crypto.scheme import SchemeRefusal, TaskPublic, TaskScheme
from fedledger.crypto.schemes import task_scheme
from fedledger.errors import FedLedgerError
from fedledger.learning.models import MODELS, parameter_count
from fedledger.learning.strategy import strategy_for
from fedledger.ledger.interface import Contract
from fedledger.protocol.task_records import TaskRecord, TaskSummary
from fedledger.protocol.training import MIN_THRESHOLD, TASK_PROPOSED
from fedledger.roles.ledger_io import Watch
from fedledger.roles.model_io import model_hash

__all__ = ["TaskPolicy", "TaskRefused", "check_task", "find_task_for"]


class TaskRefused(FedLedgerError):
    """A participant refuses to approve or join a task; the message says why."""


@dataclass(frozen=True)
class TaskPolicy:
    """One participant's conditions for a task (module docstring)."""

    trusted_coordinators: frozenset[str]
    min_quorum: int = 2
    min_round_seconds: int = 300
    expected_samples: int | None = None

    @classmethod
    def trusting(cls, coordinators: Iterable[str], **conditions: Any) -> TaskPolicy:
        """A policy that trusts the given coordinator party ids; raises TaskRefused for none."""
        trusted = frozenset(coordinators)
        if not trusted:
            raise TaskRefused("a participant must be told which coordinator(s) to trust")
        return cls(trusted, **conditions)


def _check_counts(task: TaskRecord, policy: TaskPolicy) -> None:
    threshold, quorum = task.threshold, task.quorum
    if threshold < MIN_THRESHOLD:
        raise TaskRefused(f"threshold {threshold} lets fewer than two key holders decrypt")
    floor = max(threshold, MIN_THRESHOLD, policy.min_quorum)
    if quorum < floor:
        raise TaskRefused(
            f"quorum {quorum} is below {floor} (the threshold {threshold} and this "
            f"participant's minimum {policy.min_quorum})"
        )
    if task.round_seconds < policy.min_round_seconds:
        raise TaskRefused(
            f"rounds of {task.round_seconds} s are shorter than this participant's minimum "
            f"of {policy.min_round_seconds} s"
        )


def _check_model_and_encoding(task: TaskRecord, scheme: TaskScheme) -> None:
    model = task.model
    if model not in MODELS or task.model_hash != model_hash(model):
        raise TaskRefused(f"the task names model {model!r}, whose architecture this code lacks")
    if task.value_count != parameter_count(model):
        raise TaskRefused(
            f"the task packs {task.value_count} values, model {model} has {parameter_count(model)}"
        )
    try:
        scheme.check_parameters(task)
    except SchemeRefusal as exc:
        raise TaskRefused(str(exc)) from None
    try:
        strategy_for(task.strategy)
    except FedLedgerError as exc:
        raise TaskRefused(f"the task's strategy is unusable: {exc}") from None


def check_task(task: TaskRecord, party_id: str, policy: TaskPolicy) -> TaskPublic:
    """Check ``task`` against ``policy`` for the participant ``party_id``.

    Returns the task's checked public key material (its scheme's :class:`TaskPublic`, from which
    this party opens its keys). Raises TaskRefused with the reason for the first condition
    that fails (module docstring).
    """
    if task.proposer not in policy.trusted_coordinators:
        raise TaskRefused(
            f"{task.id} was proposed by {task.proposer}, who is not a coordinator this "
            "participant trusts"
        )
    if party_id not in task.participant_ids:
        raise TaskRefused(f"{task.id} does not list {party_id} as a participant")
    declared = task.samples_of(party_id)
    if policy.expected_samples is not None and declared != policy.expected_samples:
        raise TaskRefused(
            f"{task.id} declares {declared} samples for this participant, which holds "
            f"{policy.expected_samples}"
        )
    _check_counts(task, policy)
    try:
        scheme = task_scheme(task)
    except FedLedgerError as exc:
        raise TaskRefused(f"the task's encryption scheme is unusable: {exc}") from None
    _check_model_and_encoding(task, scheme)
    try:
        return scheme.check_key(task)
    except SchemeRefusal as exc:
        raise TaskRefused(str(exc)) from None


def find_task_for(contract: Contract, party_id: str, policy: TaskPolicy, timeout: float) -> str:
    """Wait for a proposed task listing ``party_id``, by a coordinator it trusts, that it has
    not approved yet; return its id (the newest if there are several).

    Tasks already active or finished are someone else's business (or an earlier run's); tasks
    by anybody else are never joined, whatever they promise. The listing reads this party's own
    index (ListTasks filtered by participant), page by page. Raises WaitTimeout.
    """

    def candidates() -> list[TaskSummary]:
        return [
            summary
            for summary in training.list_tasks(contract, party_id)
            if summary.status == TASK_PROPOSED
            and party_id not in summary.approvals
            and summary.proposer in policy.trusted_coordinators
        ]

    tasks = Watch(None, fallback_seconds=1.0).until(
        candidates,
        bool,
        what=f"a training task listing {party_id} by a trusted coordinator",
        timeout=timeout,
    )
    return max(tasks, key=lambda t: (t.proposed_at, t.id)).id
