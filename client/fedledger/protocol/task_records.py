"""The stored TrainingTask and its TaskSummary, typed, shared by the chaincode and the clients.

A task record is written once by ProposeTask (:func:`task_record`) and rewritten by ApproveTask
(approvals, activation) and by the decision or failure of its last round (finished). Listings
read the :class:`TaskSummary` (:meth:`TaskRecord.summary`), which leaves out the key material.
Validation of what a proposer may ask for is :mod:`fedledger.protocol.task_requests`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fedledger.protocol.ciphervec import EncodingSpec
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.keyid import key_fingerprint
from fedledger.protocol.training import TASK_PROPOSED, StrategySpec

if TYPE_CHECKING:  # the requests read this module's records
    from fedledger.protocol.task_requests import TaskRequest

__all__ = ["PublicKeyInfo", "TaskParticipant", "TaskRecord", "TaskSummary", "task_record"]


@dataclass(frozen=True)
class TaskParticipant(Record):
    """A participant of a task and the sample count that weighs its updates."""

    NAME = "participant"

    party: str
    samples: int


@dataclass(frozen=True)
class PublicKeyInfo(Record):
    """The task's Paillier modulus (decimal), its size and its fingerprint."""

    NAME = "public_key"

    n: str
    bits: int
    fingerprint: str


@dataclass(frozen=True)
class TaskRecord(Record):
    """A TrainingTask (module docstring); ``participants`` in proposed order give share indices."""

    NAME = "task"

    id: str
    proposer: str
    model: str
    model_hash: str
    initial_weights_hash: str
    value_count: int
    ciphertext_count: int
    encoding: dict[str, int]
    public_key: PublicKeyInfo
    threshold_public: str
    threshold: int
    participants: tuple[TaskParticipant, ...]
    quorum: int
    rounds: int
    round_seconds: int
    tolerance_bp: int
    max_update_bytes: int
    strategy: StrategySpec
    approvals: tuple[str, ...]
    status: str
    proposed_at: int
    proposed_tx: str
    activated_at: int | None
    finished_at: int | None

    @property
    def n(self) -> int:
        """The Paillier modulus."""
        return int(self.public_key.n)

    @property
    def spec(self) -> EncodingSpec:
        """The packed encoding of the task's updates."""
        return EncodingSpec.from_dict(self.encoding)

    @property
    def participant_ids(self) -> tuple[str, ...]:
        """The participants' party ids in proposed order."""
        return tuple(p.party for p in self.participants)

    @property
    def total_samples(self) -> int:
        """The sum of every participant's declared samples."""
        return sum(p.samples for p in self.participants)

    def samples_of(self, party: str) -> int:
        """The declared samples of ``party``; ``ProtocolError`` if it is not a participant."""
        for entry in self.participants:
            if entry.party == party:
                return entry.samples
        raise ProtocolError(f"party {party} is not a participant of {self.id}")

    def share_index(self, party: str) -> int:
        """The 1-based threshold share index dealt to ``party`` (its place in the list)."""
        return self.participant_ids.index(party) + 1

    def summary(self) -> TaskSummary:
        """The TaskSummary of this task."""
        return TaskSummary(
            self.id, self.proposer, self.model, self.status, self.rounds, self.threshold,
            self.quorum, self.round_seconds, self.proposed_at, self.activated_at,
            self.finished_at, self.participant_ids, self.approvals,
        )  # fmt: skip


@dataclass(frozen=True)
class TaskSummary(Record):
    """What a task listing shows of a task: no key material, no threshold data."""

    NAME = "task summary"

    id: str
    proposer: str
    model: str
    status: str
    rounds: int
    threshold: int
    quorum: int
    round_seconds: int
    proposed_at: int
    activated_at: int | None
    finished_at: int | None
    participants: tuple[str, ...]
    approvals: tuple[str, ...]


def task_record(
    request: TaskRequest, *, task: str, proposer: str, at: int, tx_id: str
) -> TaskRecord:
    """Return the stored task (status "proposed", no approvals yet) for a valid request."""
    n = request.n
    return TaskRecord(
        id=task,
        proposer=proposer,
        model=request.model,
        model_hash=request.model_hash,
        initial_weights_hash=request.initial_weights_hash,
        value_count=request.value_count,
        ciphertext_count=request.ciphertext_count,
        encoding=request.encoding.to_dict(),
        public_key=PublicKeyInfo(str(n), n.bit_length(), key_fingerprint(n)),
        threshold_public=request.threshold_public,
        threshold=request.threshold,
        participants=tuple(TaskParticipant(p, s) for p, s in request.participants),
        quorum=request.quorum,
        rounds=request.rounds,
        round_seconds=request.round_seconds,
        tolerance_bp=request.tolerance_bp,
        max_update_bytes=request.max_update_bytes,
        strategy=request.strategy,
        approvals=(),
        status=TASK_PROPOSED,
        proposed_at=at,
        proposed_tx=tx_id,
        activated_at=None,
        finished_at=None,
    )
