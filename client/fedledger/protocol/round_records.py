"""The stored records of a training round, typed, shared by the chaincode and the clients.

Each is a frozen :class:`~fedledger.protocol.codec.Record`: the chaincode writes it with
``to_bytes()`` and every reader parses it with ``from_bytes()``, so field names and types are
defined here once. Object types and status values are in :mod:`fedledger.protocol.rounds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fedledger.protocol.codec import Record
from fedledger.protocol.rounds import OUTCOME_UNDECODABLE

__all__ = [
    "AggregateRecord",
    "AggregateSummary",
    "CurrentModelRecord",
    "KeyEnvelopeRecord",
    "ModelWeightsRecord",
    "ReportOutcome",
    "ReportRecord",
    "RoundRecord",
    "RoundResult",
    "RoundView",
    "ShareRecord",
    "ShareSummary",
    "UpdateRecord",
    "UpdateSummary",
]


@dataclass(frozen=True)
class AggregateSummary(Record):
    """What CloseRound computed: the aggregate's digest and size, who contributed, their samples."""

    NAME = "aggregate"

    digest: str
    size: int
    contributors: tuple[str, ...]
    total_samples: int


@dataclass(frozen=True)
class RoundResult(Record):
    """The decision on a round: the majority's weights digest and the acceptance rule's figures.

    ``median_bp`` is the lower median of the majority's accuracies, ``base_median_bp`` the base
    round's (0 for the initial weights), and ``median_gain_bp`` the lower median of the
    majority's paired gains (each reporter's accuracy minus its accuracy of the base model on the
    same validation data), which the acceptance rule judges. ``gains`` holds each gain.
    """

    NAME = "result"

    weights_hash: str
    median_bp: int
    base_median_bp: int
    median_gain_bp: int
    accuracies: dict[str, int]
    gains: dict[str, int]
    decided_at: int
    decided_tx: str


@dataclass(frozen=True)
class RoundRecord(Record):
    """A round: open → closed → accepted | rejected, or → failed (with the reason).

    ``high_water`` is the latest timestamp of the transactions that moved the round;
    ``dissent`` names the contributors whose reports differed from the deciding majority.
    """

    NAME = "round"

    task_id: str
    round: int
    status: str
    base_round: int
    opened_at: int
    opened_tx: str
    deadline: int
    high_water: int
    closed_at: int | None = None
    closed_tx: str | None = None
    aggregate: AggregateSummary | None = None
    result: RoundResult | None = None
    failed_at: int | None = None
    failed_tx: str | None = None
    reason: str | None = None
    dissent: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateSummary(Record):
    """One encrypted update, without its vector (what round views and CloseRound read)."""

    NAME = "update"

    task_id: str
    round: int
    party: str
    samples: int
    size: int
    digest: str
    submitted_at: int
    submitted_tx: str


@dataclass(frozen=True)
class UpdateRecord(UpdateSummary):
    """GradientPerIterationValue: the summary with the base64 vector and its proof."""

    vector: str = ""
    proof: str = ""

    @property
    def summary(self) -> UpdateSummary:
        """The update without its vector and proof."""
        values = {name: getattr(self, name) for name in UpdateSummary.__dataclass_fields__}
        return UpdateSummary(**values)


@dataclass(frozen=True)
class AggregateRecord(Record):
    """AggregateGradientsOutput: the homomorphic product of a round's updates (base64 vector)."""

    NAME = "aggregate"

    task_id: str
    round: int
    digest: str
    size: int
    contributors: tuple[str, ...]
    total_samples: int
    closed_at: int
    closed_tx: str
    vector: str


@dataclass(frozen=True)
class ShareSummary(Record):
    """One verified decryption share, without its values."""

    NAME = "decryption share"

    task_id: str
    round: int
    party: str
    size: int
    submitted_at: int
    submitted_tx: str


@dataclass(frozen=True)
class ShareRecord(ShareSummary):
    """A verified decryption share with its base64 bytes."""

    share: str = ""


@dataclass(frozen=True)
class ReportRecord(Record):
    """One contributor's outcome: a weights digest with its accuracy, or a decoding failure."""

    NAME = "report"

    task_id: str
    round: int
    party: str
    weights_hash: str | None
    accuracy_bp: int | None
    base_accuracy_bp: int | None  # the reporter's accuracy of the round's base model
    decode_error: str | None
    reported_at: int
    reported_tx: str

    @property
    def outcome(self) -> str:
        """What the report votes for: its weights digest, or "undecodable"."""
        return self.weights_hash if self.weights_hash is not None else OUTCOME_UNDECODABLE


@dataclass(frozen=True)
class RoundView(Record):
    """GetRound's answer: the round with every summary submitted to it so far (no vectors)."""

    NAME = "round view"

    round: RoundRecord
    submissions: tuple[UpdateSummary, ...]
    shares: tuple[ShareSummary, ...]
    reports: tuple[ReportRecord, ...]

    @property
    def submitters(self) -> tuple[str, ...]:
        """The parties that submitted an update, in party-id order."""
        return tuple(s.party for s in self.submissions)

    @property
    def share_parties(self) -> tuple[str, ...]:
        """The parties whose verified shares are in, in party-id order."""
        return tuple(s.party for s in self.shares)


@dataclass(frozen=True)
class KeyEnvelopeRecord(Record):
    """Key material sealed to one recipient (base64)."""

    NAME = "key envelope"

    task_id: str
    recipient: str
    size: int
    stored_at: int
    stored_tx: str
    envelope: str


@dataclass(frozen=True)
class ModelWeightsRecord(Record):
    """The initial global weights of a task: float32 little-endian, base64."""

    NAME = "model weights"

    task_id: str
    round: int
    weights_hash: str
    size: int
    stored_at: int
    stored_tx: str
    weights: str


@dataclass(frozen=True)
class ReportOutcome(Record):
    """What ReportResult answers: the stored report and the round as it now stands."""

    NAME = "report outcome"

    report: ReportRecord
    round: RoundRecord


@dataclass(frozen=True)
class CurrentModelRecord(Record):
    """What GetCurrentModel answers: the task's current global model and where it comes from.

    ``source`` is "initial", "round" or "enrichment"; ``round`` the last accepted round (0 for
    the initial weights); ``median_bp`` its reported median accuracy (None for the initial
    weights); ``plan_id`` the plan of an adopted enrichment.
    """

    NAME = "current model"

    task_id: str
    weights_hash: str
    source: str
    round: int
    median_bp: int | None
    plan_id: str | None
