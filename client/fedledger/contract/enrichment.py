"""Paid enrichment: plans, the sealed base model, the delivery and the participants' reports."""

from __future__ import annotations

from typing import Any

from fedledger.errors import AssetNotFound
from fedledger.ledger.interface import Contract
from fedledger.protocol.canonical import loads
from fedledger.protocol.enrichment import (
    EnrichmentRecord,
    EvaluationRecord,
    PlanRecord,
    PlanView,
    SealedModelRecord,
)
from fedledger.protocol.enrichment_requests import DeliveryRequest, PlanRequest, ReportRequest
from fedledger.protocol.errors import ProtocolError

__all__ = [
    "approve_plan",
    "deliver_enrichment",
    "find_plan_model",
    "get_enrichment_envelope",
    "get_plan",
    "get_plan_model",
    "propose_plan",
    "report_enrichment",
    "seal_plan_model",
    "settle_plan",
]


def propose_plan(contract: Contract, request: PlanRequest) -> PlanRecord:
    """Propose a compensation plan (the proposer approves it too); returns the stored plan."""
    return PlanRecord.from_bytes(contract.submit("ProposePlan", request.to_text()))


def approve_plan(contract: Contract, plan_id: str) -> PlanRecord:
    """Approve a plan; the last approval funds its escrow. Returns the stored plan."""
    return PlanRecord.from_bytes(contract.submit("ApprovePlan", plan_id))


def get_plan(contract: Contract, plan_id: str) -> PlanView:
    """The plan with its delivery and reports; raises AssetNotFound for an unknown plan."""
    return PlanView.from_bytes(contract.evaluate("GetPlan", plan_id))


def settle_plan(contract: Contract, plan_id: str) -> PlanRecord:
    """Settle a plan that is due (anyone registered may); returns the settled plan."""
    return PlanRecord.from_bytes(contract.submit("SettlePlan", plan_id))


def seal_plan_model(contract: Contract, plan_id: str, envelope_b64: str) -> dict[str, Any]:
    """Store the base model sealed to the plan's enricher (its proposer, once).

    Returns the stored record's summary (its fields without the envelope, and the task id).
    Raises ``ProtocolError`` when the answer is not a JSON object.
    """
    summary = loads(contract.submit("SealPlanModel", plan_id, envelope_b64))
    if not isinstance(summary, dict):
        raise ProtocolError("SealPlanModel must answer a JSON object")
    return summary


def get_plan_model(contract: Contract, plan_id: str) -> SealedModelRecord:
    """The base model sealed to the enricher; raises AssetNotFound until it is sealed."""
    return SealedModelRecord.from_bytes(contract.evaluate("GetPlanModel", plan_id))


def find_plan_model(contract: Contract, plan_id: str) -> SealedModelRecord | None:
    """Like :func:`get_plan_model`, but None until the model is sealed."""
    try:
        return get_plan_model(contract, plan_id)
    except AssetNotFound:
        return None


def deliver_enrichment(
    contract: Contract, plan_id: str, request: DeliveryRequest
) -> EnrichmentRecord:
    """Deliver the enriched weights' digest and one envelope per participant (the enricher)."""
    raw = contract.submit("DeliverEnrichment", plan_id, request.to_text())
    return EnrichmentRecord.from_bytes(raw)


def get_enrichment_envelope(contract: Contract, plan_id: str, party: str) -> SealedModelRecord:
    """The enriched weights sealed to ``party``; raises AssetNotFound before the delivery."""
    raw = contract.evaluate("GetEnrichmentEnvelope", plan_id, party)
    return SealedModelRecord.from_bytes(raw)


def report_enrichment(contract: Contract, plan_id: str, request: ReportRequest) -> EvaluationRecord:
    """Report the caller's accuracy of the delivered weights (once); returns the stored report."""
    raw = contract.submit("ReportEnrichment", plan_id, request.to_text())
    return EvaluationRecord.from_bytes(raw)
