"""Key exchange and evaluation of a plan: SealPlanModel, GetPlanModel, DeliverEnrichment,
GetEnrichmentEnvelope, ReportEnrichment.

Envelopes are opaque here (X25519 + HKDF + AES-GCM, sealed by the client): the chaincode checks
who stores them, when, and that each is exactly as long as the task's weights sealed
(:func:`fedledger.protocol.enrichment.sealed_size`); whoever opens one checks the weights' digest
against the ledger. Each envelope is written once and never overwritten.

- The plan's proposer seals the base model (whose digest the plan records) to the enricher while
  the plan is active.
- The enricher delivers once, before the delivery deadline: the enriched weights' digest and one
  envelope per participant, all in one transaction (the ``Enrichment`` record lists each
  envelope's SHA-256). The plan becomes "delivered".
- Each participant reports once, before the evaluation deadline, the accuracy of the delivered
  weights on its own validation data, with their digest. The enricher may not report.
"""

from __future__ import annotations

import dataclasses
import hashlib

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.enrichment import (
    ENRICHMENT_ENVELOPE_TYPE,
    ENRICHMENT_TYPE,
    EVALUATION_TYPE,
    PLAN_ACTIVE,
    PLAN_DELIVERED,
    PLAN_MODEL_TYPE,
    EnrichmentRecord,
    EvaluationRecord,
    PlanRecord,
    SealedModelRecord,
    sealed_size,
)
from fedledger.protocol.enrichment_requests import parse_delivery_request, parse_evaluation_request
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import ENRICHMENT_DELIVERED, ENRICHMENT_REPORTED, PLAN_MODEL_SEALED
from fedledger.protocol.rounds import read_blob
from fedledger_chaincode.core.context import TransactionContext, load_bytes
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.enrichment.plans import (
    load_plan,
    plan_part_key,
    put_plan,
    require_plan_participant,
)
from fedledger_chaincode.training.state import caller_party, is_past, put_record

__all__ = ["register"]


def _read_envelope(plan: PlanRecord, text: str, name: str) -> bytes:
    """Decode one envelope; raises unless it is exactly the task's weights sealed."""
    size = sealed_size(plan.value_count)
    raw = read_blob(text, name, max_chars=4 * (-(-size // 3)))
    if len(raw) != size:
        raise ProtocolError(
            f"{name} must be {size} bytes ({plan.value_count} float32 values sealed), "
            f"got {len(raw)}"
        )
    return raw


def _sealed(
    ctx: TransactionContext, plan: PlanRecord, recipient: str, text: str, raw: bytes
) -> SealedModelRecord:
    digest = hashlib.sha256(raw).hexdigest()
    now = ctx.tx_timestamp.seconds
    return SealedModelRecord(plan.id, recipient, len(raw), digest, now, ctx.tx_id, text)


def _summary(record: SealedModelRecord) -> dict[str, object]:
    return {k: v for k, v in record.to_dict().items() if k != "envelope"}


async def seal_plan_model(ctx: TransactionContext, plan_text: str, envelope_b64: str) -> bytes:
    """SealPlanModel: store the base model sealed to the enricher; the plan's proposer, once.

    Returns the stored record without the envelope. Raises ``ProtocolError``: "only the proposer
    X of plan-… may seal its model to the enricher", "plan-… is proposed; its model is sealed to
    the enricher only while it is active", "the model of plan-… is already sealed to its
    enricher", or the envelope's size and base64 messages.
    """
    party = await caller_party(ctx)
    plan = await load_plan(ctx, plan_text)
    if party != plan.proposer:
        raise ProtocolError(
            f"only the proposer {plan.proposer} of {plan.id} may seal its model to the enricher"
        )
    if plan.status != PLAN_ACTIVE:
        raise ProtocolError(
            f"{plan.id} is {plan.status}; its model is sealed to the enricher only while it is "
            "active"
        )
    state_key = plan_part_key(PLAN_MODEL_TYPE, plan.id)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"the model of {plan.id} is already sealed to its enricher")
    raw = _read_envelope(plan, envelope_b64, "envelope")
    record = _sealed(ctx, plan, plan.enricher, envelope_b64, raw)
    put_record(ctx, state_key, record)
    payload = dumps({"task_id": plan.task_id, **_summary(record)})
    ctx.set_event(PLAN_MODEL_SEALED, payload)
    return payload


async def get_plan_model(ctx: TransactionContext, plan_text: str) -> bytes:
    """GetPlanModel: the base model sealed to the enricher (with ``"envelope"``, base64).

    Raises ``NotFoundError`` "the model of plan-… is not sealed to its enricher yet".
    """
    plan = await load_plan(ctx, plan_text)
    return await load_bytes(
        ctx,
        plan_part_key(PLAN_MODEL_TYPE, plan.id),
        f"the model of {plan.id} is not sealed to its enricher yet",
    )


async def deliver_enrichment(ctx: TransactionContext, plan_text: str, delivery_json: str) -> bytes:
    """DeliverEnrichment: the enricher's weights digest and one envelope per participant, once.

    Returns the Enrichment record. Raises ``ProtocolError``: "only the enricher X of plan-… may
    deliver", "plan-… is delivered; only an active plan takes a delivery", "the delivery deadline
    D of plan-… has passed", "the delivery has no envelope for participant X", "party X is not a
    participant of plan-…", and each envelope's size and base64 messages.
    """
    request = parse_delivery_request(delivery_json)
    party = await caller_party(ctx)
    plan = await load_plan(ctx, plan_text)
    if party != plan.enricher:
        raise ProtocolError(f"only the enricher {plan.enricher} of {plan.id} may deliver")
    if plan.status != PLAN_ACTIVE:
        raise ProtocolError(f"{plan.id} is {plan.status}; only an active plan takes a delivery")
    if is_past(ctx.tx_timestamp, plan.delivery_deadline):
        raise ProtocolError(
            f"the delivery deadline {plan.delivery_deadline} of {plan.id} has passed"
        )
    for recipient in sorted(request.envelopes):
        require_plan_participant(plan, recipient)
    for recipient in plan.participant_ids:
        if recipient not in request.envelopes:
            raise ProtocolError(f"the delivery has no envelope for participant {recipient}")
    sealed = {
        recipient: _sealed(
            ctx,
            plan,
            recipient,
            request.envelopes[recipient],
            _read_envelope(plan, request.envelopes[recipient], f"the envelope for {recipient}"),
        )
        for recipient in sorted(request.envelopes)
    }
    now = ctx.tx_timestamp.seconds
    record = EnrichmentRecord(
        plan_id=plan.id,
        task_id=plan.task_id,
        enricher=party,
        weights_hash=request.weights_hash,
        envelopes={recipient: item.digest for recipient, item in sealed.items()},
        size=sealed_size(plan.value_count),
        delivered_at=now,
        delivered_tx=ctx.tx_id,
    )
    for recipient, item in sealed.items():
        put_record(ctx, plan_part_key(ENRICHMENT_ENVELOPE_TYPE, plan.id, recipient), item)
    payload = put_record(ctx, plan_part_key(ENRICHMENT_TYPE, plan.id), record)
    put_plan(ctx, dataclasses.replace(plan, status=PLAN_DELIVERED, delivered_at=now))
    event = {"plan_id": plan.id, "task_id": plan.task_id, "weights_hash": request.weights_hash}
    ctx.set_event(ENRICHMENT_DELIVERED, dumps(event))
    return payload


async def get_enrichment_envelope(ctx: TransactionContext, plan_text: str, party: str) -> bytes:
    """GetEnrichmentEnvelope: the enriched weights sealed to ``party`` (with ``"envelope"``).

    Raises ``NotFoundError`` "no enrichment envelope for X in plan-…".
    """
    plan = await load_plan(ctx, plan_text)
    parse_party_id(party)
    return await load_bytes(
        ctx,
        plan_part_key(ENRICHMENT_ENVELOPE_TYPE, plan.id, party),
        f"no enrichment envelope for {party} in {plan.id}",
    )


async def report_enrichment(ctx: TransactionContext, plan_text: str, report_json: str) -> bytes:
    """ReportEnrichment: a participant's accuracy (basis points) of the delivered weights, once.

    Returns the stored report. Raises ``ProtocolError``: "the enricher X may not report on its
    own work", "party X is not a participant of plan-…", "plan-… is active; reports are accepted
    only while it is delivered", "the evaluation deadline D of plan-… has passed", "party X
    already reported on plan-…", "the report is for weights W; plan-… delivered weights V".
    """
    report = parse_evaluation_request(report_json)
    weights_hash, accuracy = report.weights_hash, report.accuracy_bp
    party = await caller_party(ctx)
    plan = await load_plan(ctx, plan_text)
    if party == plan.enricher:
        raise ProtocolError(f"the enricher {party} may not report on its own work")
    require_plan_participant(plan, party)
    if plan.status != PLAN_DELIVERED:
        raise ProtocolError(
            f"{plan.id} is {plan.status}; reports are accepted only while it is delivered"
        )
    if is_past(ctx.tx_timestamp, plan.evaluation_deadline):
        raise ProtocolError(
            f"the evaluation deadline {plan.evaluation_deadline} of {plan.id} has passed"
        )
    state_key = plan_part_key(EVALUATION_TYPE, plan.id, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already reported on {plan.id}")
    enrichment = EnrichmentRecord.from_bytes(
        await ctx.get_state(plan_part_key(ENRICHMENT_TYPE, plan.id))
    )
    if weights_hash != enrichment.weights_hash:
        raise ProtocolError(
            f"the report is for weights {weights_hash}; {plan.id} delivered weights "
            f"{enrichment.weights_hash}"
        )
    record = EvaluationRecord(
        plan.id, party, weights_hash, accuracy, ctx.tx_timestamp.seconds, ctx.tx_id
    )
    payload = put_record(ctx, state_key, record)
    event = {"plan_id": plan.id, "task_id": plan.task_id, "party": party, "accuracy_bp": accuracy}
    ctx.set_event(ENRICHMENT_REPORTED, dumps(event))
    return payload


def register(router: Router) -> None:
    """Route the key-exchange, delivery and report transactions of plans."""
    for object_type in (
        PLAN_MODEL_TYPE,
        ENRICHMENT_TYPE,
        ENRICHMENT_ENVELOPE_TYPE,
        EVALUATION_TYPE,
    ):
        router.add_object_type(object_type)
    router.add("SealPlanModel", seal_plan_model)
    router.add("GetPlanModel", get_plan_model)
    router.add("DeliverEnrichment", deliver_enrichment)
    router.add("GetEnrichmentEnvelope", get_enrichment_envelope)
    router.add("ReportEnrichment", report_enrichment)
