"""Paid enrichment, shared by the chaincode and the clients: plans, deliveries, reports, settlement.

A *compensation plan* lets the participants of a task pay an outsider (a party registered with
the role ``enricher``) for improving the task's current global model. Its lifecycle::

    proposed ──(every participant approved: escrow funded)──▶ active
    active ──(the enricher delivered)──▶ delivered ──(settled)──▶ settled
    active ──(delivery deadline passed, settled: full refund)──▶ settled

Object types (composite keys)::

    CompensationPlan     (plan,)                 the plan (approvals, escrow, settlement)
    PlanModelEnvelope    (plan,)                 the base model sealed to the enricher
    Enrichment           (plan,)                 the enriched weights' digest and envelope digests
    EnrichmentEnvelope   (plan, participant)     the enriched weights sealed to one participant
    EnrichmentReport     (plan, participant)     one participant's accuracy of the enriched model
    AdoptedModel         (task,)                 the task's latest adopted enrichment

Money: the plan's escrow ``escrow:plan:<plan id>`` receives, when the last participant approves,
the plan's maximum payout (its highest tier) split pro rata to the participants' declared
samples (:func:`fedledger.protocol.prorata.split_pro_rata`). Settling pays the tier the median
report reached to the enricher and refunds the rest to the funders pro rata to what each paid in.

Payout rule (:func:`settle_figures`): the gain is the lower median of the participants' reported
accuracies (basis points) minus the base model's median accuracy recorded in the plan; the tier
is the highest whose ``min_gain_bp`` the gain reaches. Everything is an integer.

Envelopes: the plaintext of every model envelope is the task's weights as float32 little-endian,
so a sealed envelope is exactly :data:`ENVELOPE_OVERHEAD` + 4 x value count bytes; the chaincode
checks that length, the holder checks the digest after opening. Associated data
(:func:`envelope_context`) binds an envelope to its plan and recipient, so an envelope copied from
another plan does not open.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from fedledger.protocol.canonical import show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import lower_median
from fedledger.protocol.task_records import TaskParticipant

__all__ = [
    "ADOPTED_MODEL_TYPE",
    "ENRICHER_ROLE",
    "ENRICHMENT_ENVELOPE_TYPE",
    "ENRICHMENT_TYPE",
    "ENVELOPE_OVERHEAD",
    "ESCROW_KIND",
    "EVALUATION_TYPE",
    "MAX_DELIVERY_BYTES",
    "MAX_PLAN_SECONDS",
    "MAX_TIERS",
    "OUTCOMES",
    "OUTCOME_BELOW_TIERS",
    "OUTCOME_PAID",
    "OUTCOME_UNDELIVERED",
    "OUTCOME_UNEVALUATED",
    "PLAN_ACTIVE",
    "PLAN_DELIVERED",
    "PLAN_MODEL_TYPE",
    "PLAN_PROPOSED",
    "PLAN_SETTLED",
    "PLAN_TYPE",
    "STATISTIC_MEDIAN",
    "AdoptedModelRecord",
    "EnrichmentRecord",
    "EvaluationRecord",
    "PlanRecord",
    "PlanTier",
    "PlanView",
    "SealedModelRecord",
    "Settlement",
    "envelope_context",
    "parse_plan_id",
    "pick_tier",
    "plan_id",
    "sealed_size",
    "settle_figures",
]

PLAN_TYPE = "CompensationPlan"
PLAN_MODEL_TYPE = "PlanModelEnvelope"
ENRICHMENT_TYPE = "Enrichment"
ENRICHMENT_ENVELOPE_TYPE = "EnrichmentEnvelope"
EVALUATION_TYPE = "EnrichmentReport"
ADOPTED_MODEL_TYPE = "AdoptedModel"
ESCROW_KIND = "plan"
ENRICHER_ROLE = "enricher"

PLAN_PROPOSED = "proposed"
PLAN_ACTIVE = "active"
PLAN_DELIVERED = "delivered"
PLAN_SETTLED = "settled"

OUTCOME_PAID = "paid"  # a tier was reached: the enricher is paid, the model adopted
OUTCOME_BELOW_TIERS = "below_tiers"  # evaluated, no tier reached: full refund
OUTCOME_UNDELIVERED = "undelivered"  # nothing delivered by the delivery deadline: full refund
OUTCOME_UNEVALUATED = "unevaluated"  # fewer than the quorum reported by the evaluation deadline
OUTCOMES = (OUTCOME_PAID, OUTCOME_BELOW_TIERS, OUTCOME_UNDELIVERED, OUTCOME_UNEVALUATED)

STATISTIC_MEDIAN = "median"
MAX_TIERS = 16
MAX_GAIN_BP = 10_000
MAX_PLAN_SECONDS = 366 * 24 * 3600
# version byte, ephemeral X25519 key, AES-GCM tag (fedledger.crypto.envelope)
ENVELOPE_OVERHEAD = 1 + 32 + 16
# All envelopes of one delivery together, raw bytes: one transaction must stay well inside the
# chaincode stream's 64 MiB message limit once base64 adds a third.
MAX_DELIVERY_BYTES = 24 * 1024 * 1024

_PLAN_ID = re.compile(r"plan-[0-9a-f]{32}")


def plan_id(tx_id: str) -> str:
    """Return the id of the plan proposed by transaction ``tx_id``: ``plan-`` + 32 hex."""
    digest = hashlib.sha256(b"CompensationPlan\x00" + tx_id.encode("utf-8")).hexdigest()
    return "plan-" + digest[:32]


def parse_plan_id(text: str) -> str:
    """Return ``text`` if it is a plan id; raise ``ProtocolError`` otherwise."""
    if not isinstance(text, str) or not _PLAN_ID.fullmatch(text):
        raise ProtocolError(f"plan id must look like plan-<32 hex digits>, got {show(text)}")
    return text


def sealed_size(value_count: int) -> int:
    """Bytes of a model envelope: the overhead plus ``value_count`` float32 values."""
    return ENVELOPE_OVERHEAD + 4 * value_count


def envelope_context(plan: str, recipient: str) -> bytes:
    """Associated data of a model envelope of ``plan`` sealed to ``recipient``."""
    return f"fedledger/enrichment/{plan}/{recipient}".encode()


@dataclass(frozen=True)
class PlanTier(Record):
    """Reaching a gain of ``min_gain_bp`` basis points earns ``payment`` credits."""

    NAME = "tier"

    min_gain_bp: int
    payment: int


@dataclass(frozen=True)
class Settlement(Record):
    """How a plan ended: the outcome, the figures it was decided by, and every payment."""

    NAME = "settlement"

    outcome: str
    reports: int
    median_bp: int | None
    gain_bp: int | None
    payment: int
    refunds: dict[str, int]
    adopted: bool
    settled_at: int
    settled_tx: str
    settled_by: str


@dataclass(frozen=True)
class PlanRecord(Record):
    """A CompensationPlan (module docstring). ``funded`` is each participant's escrowed part."""

    NAME = "plan"

    id: str
    task_id: str
    proposer: str
    enricher: str
    tiers: tuple[PlanTier, ...]
    statistic: str
    max_payout: int
    escrow: str
    base_weights_hash: str
    base_source: str
    base_round: int
    base_plan_id: str | None
    base_median_bp: int
    value_count: int
    participants: tuple[TaskParticipant, ...]
    quorum: int
    delivery_deadline: int
    evaluation_deadline: int
    approvals: tuple[str, ...]
    status: str
    proposed_at: int
    proposed_tx: str
    activated_at: int | None = None
    funded: dict[str, int] = field(default_factory=dict)
    delivered_at: int | None = None
    settlement: Settlement | None = None

    @property
    def participant_ids(self) -> tuple[str, ...]:
        """The participants' party ids, as the task lists them."""
        return tuple(p.party for p in self.participants)

    @property
    def samples(self) -> dict[str, int]:
        """Each participant's declared samples: the weights of the escrow split."""
        return {p.party: p.samples for p in self.participants}


@dataclass(frozen=True)
class SealedModelRecord(Record):
    """Model weights sealed to one recipient: the base model to the enricher, or the enriched
    model to one participant (base64 envelope and the SHA-256 of its bytes)."""

    NAME = "sealed model"

    plan_id: str
    recipient: str
    size: int
    digest: str
    stored_at: int
    stored_tx: str
    envelope: str


@dataclass(frozen=True)
class EnrichmentRecord(Record):
    """The delivery: the enriched weights' digest and the digest of each participant's envelope."""

    NAME = "enrichment"

    plan_id: str
    task_id: str
    enricher: str
    weights_hash: str
    envelopes: dict[str, str]
    size: int
    delivered_at: int
    delivered_tx: str


@dataclass(frozen=True)
class EvaluationRecord(Record):
    """One participant's accuracy of the enriched model on its own validation data."""

    NAME = "enrichment report"

    plan_id: str
    party: str
    weights_hash: str
    accuracy_bp: int
    reported_at: int
    reported_tx: str


@dataclass(frozen=True)
class AdoptedModelRecord(Record):
    """A paid enrichment adopted as the task's global model."""

    NAME = "adopted model"

    task_id: str
    plan_id: str
    weights_hash: str
    median_bp: int
    base_weights_hash: str
    base_round: int
    adopted_at: int
    adopted_tx: str


@dataclass(frozen=True)
class PlanView(Record):
    """GetPlan's answer: the plan, whether its model is sealed, its delivery and its reports."""

    NAME = "plan view"

    plan: PlanRecord
    model_sealed: bool
    enrichment: EnrichmentRecord | None
    reports: tuple[EvaluationRecord, ...]


def pick_tier(tiers: tuple[PlanTier, ...], gain_bp: int) -> PlanTier | None:
    """Return the highest tier whose ``min_gain_bp`` ``gain_bp`` reaches, None below them all."""
    reached = [tier for tier in tiers if gain_bp >= tier.min_gain_bp]
    return reached[-1] if reached else None


def settle_figures(plan: PlanRecord, accuracies: list[int]) -> tuple[int, int, int]:
    """Return (median accuracy, gain over the base, payment) for the reported ``accuracies``."""
    median = lower_median(accuracies)
    gain = median - plan.base_median_bp
    tier = pick_tier(plan.tiers, gain)
    return median, gain, 0 if tier is None else tier.payment
