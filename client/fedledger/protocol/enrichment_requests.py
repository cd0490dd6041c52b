"""Requests of paid enrichment: ProposePlan's plan, DeliverEnrichment's delivery, the report.

Each is a :class:`~fedledger.protocol.codec.Record` that the client sends as canonical JSON and
the chaincode reads with the same record's parser, then checks here (ids, tier order and bounds,
deadlines in order, digests). The caller checks what needs ledger state (deadlines against the
transaction time, envelopes against the plan's participants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import show
from fedledger.protocol.codec import Record
from fedledger.protocol.enrichment import MAX_GAIN_BP, MAX_TIERS, STATISTIC_MEDIAN, PlanTier
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import MAX_INT64, read_int
from fedledger.protocol.rounds import read_hex64
from fedledger.protocol.training import parse_task_id

__all__ = [
    "DeliveryRequest",
    "PlanRequest",
    "ReportRequest",
    "parse_delivery_request",
    "parse_evaluation_request",
    "parse_plan_request",
]


@dataclass(frozen=True)
class PlanRequest(Record):
    """A ProposePlan argument (deadlines are transaction-time seconds)."""

    NAME = "plan"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"statistic"})

    task_id: str
    enricher: str
    tiers: tuple[PlanTier, ...]
    delivery_deadline: int
    evaluation_deadline: int
    statistic: str = STATISTIC_MEDIAN


def _check_tiers(tiers: tuple[PlanTier, ...]) -> None:
    if not tiers:
        raise ProtocolError("tiers must be a non-empty array, got an array")
    if len(tiers) > MAX_TIERS:
        raise ProtocolError(f"a plan has at most {MAX_TIERS} tiers, got {len(tiers)}")
    for index, tier in enumerate(tiers):
        what = f"tiers[{index}]"
        read_int(tier.min_gain_bp, f"{what}.min_gain_bp", minimum=1, maximum=MAX_GAIN_BP)
        read_int(tier.payment, f"{what}.payment", minimum=1, maximum=MAX_INT64)
        previous = tiers[index - 1] if index else None
        if previous and (
            tier.min_gain_bp <= previous.min_gain_bp or tier.payment <= previous.payment
        ):
            raise ProtocolError(
                "tiers must be in increasing order of min_gain_bp and of payment; "
                f"{what} does not follow tiers[{index - 1}]"
            )


def parse_plan_request(text: str, what: str = "argument 1") -> PlanRequest:
    """Parse ``{"task_id", "enricher", "tiers": [{"min_gain_bp", "payment"}],
    "delivery_deadline", "evaluation_deadline", "statistic"?: "median"}``.

    Returns the request. Raises ``ProtocolError``: the record's field messages, a bad id, tiers
    out of order, or an evaluation deadline not after the delivery deadline. The caller checks
    the deadlines against the transaction time.
    """
    request = PlanRequest.from_argument(text, what)
    parse_task_id(request.task_id)
    parse_party_id(request.enricher)
    if request.statistic != STATISTIC_MEDIAN:
        raise ProtocolError(
            f'statistic must be "{STATISTIC_MEDIAN}", got {show(request.statistic)}'
        )
    _check_tiers(request.tiers)
    delivery = read_int(request.delivery_deadline, "delivery_deadline", minimum=1)
    evaluation = read_int(request.evaluation_deadline, "evaluation_deadline", minimum=1)
    if evaluation <= delivery:
        raise ProtocolError(
            f"evaluation_deadline {evaluation} must be after delivery_deadline {delivery}"
        )
    return request


@dataclass(frozen=True)
class DeliveryRequest(Record):
    """A DeliverEnrichment argument: the enriched weights' digest and base64 envelopes."""

    NAME = "delivery"

    weights_hash: str
    envelopes: dict[str, str]


def parse_delivery_request(text: str, what: str = "argument 2") -> DeliveryRequest:
    """Parse ``{"weights_hash": 64 hex, "envelopes": {participant: base64}}``.

    The envelopes are checked by the caller against the plan's participants and sizes. Raises
    ``ProtocolError`` for malformed JSON, fields, an empty envelope map or a bad party id.
    """
    request = DeliveryRequest.from_argument(text, what)
    read_hex64(request.weights_hash, "weights_hash")
    if not request.envelopes:
        raise ProtocolError("envelopes must be a non-empty object, got an object")
    for party in request.envelopes:
        parse_party_id(party)
    return request


@dataclass(frozen=True)
class ReportRequest(Record):
    """A ReportEnrichment argument: which weights were evaluated and their accuracy (bp)."""

    NAME = "report"

    weights_hash: str
    accuracy_bp: int


def parse_evaluation_request(text: str, what: str = "argument 2") -> ReportRequest:
    """Parse ``{"weights_hash": 64 hex, "accuracy_bp": 0..10000}``.

    Returns the report. Raises ``ProtocolError``: the record's field messages, a bad digest,
    an accuracy out of range.
    """
    request = ReportRequest.from_argument(text, what)
    read_hex64(request.weights_hash, "weights_hash")
    read_int(request.accuracy_bp, "accuracy_bp", minimum=0, maximum=10_000)
    return request
