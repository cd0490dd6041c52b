"""CompensationPlan transactions: ProposePlan, ApprovePlan, GetPlan.

A participant of a task proposes a plan to pay an enricher for improving the task's current
global model (which must come from an accepted round or an adopted enrichment, so that it has a
median accuracy to improve on); proposing counts as the proposer's approval. The plan becomes
active when every participant has approved it: the approval that completes the set moves each
participant's pro-rata part of the maximum payout into the plan's escrow, or fails, naming the
first participant (in id order) whose balance is short. Approvals live in the plan record, so
concurrent approvals conflict (MVCC) and the later one is resubmitted: "the last approval funds
the plan" stays exact. Schemas and the lifecycle: :mod:`fedledger.protocol.enrichment`.
"""

from __future__ import annotations

import dataclasses
import json

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.enrichment import (
    ENRICHER_ROLE,
    ENRICHMENT_TYPE,
    ESCROW_KIND,
    EVALUATION_TYPE,
    MAX_DELIVERY_BYTES,
    MAX_PLAN_SECONDS,
    PLAN_ACTIVE,
    PLAN_MODEL_TYPE,
    PLAN_PROPOSED,
    PLAN_TYPE,
    STATISTIC_MEDIAN,
    EnrichmentRecord,
    EvaluationRecord,
    PlanRecord,
    PlanView,
    parse_plan_id,
    plan_id,
    sealed_size,
)
from fedledger.protocol.enrichment_requests import PlanRequest, parse_plan_request
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import PLAN_ACTIVATED, PLAN_APPROVED
from fedledger.protocol.events import PLAN_PROPOSED as PLAN_PROPOSED_EVENT
from fedledger.protocol.task_records import TaskRecord
from fedledger.protocol.tokens import escrow_account
from fedledger.protocol.training import TASK_PROPOSED
from fedledger_chaincode.core.context import TransactionContext, create_composite_key, load
from fedledger_chaincode.core.parties import party_key
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.credits.movements import token_movements
from fedledger_chaincode.training.global_model import SOURCE_INITIAL, CurrentModel, current_model
from fedledger_chaincode.training.state import (
    caller_party,
    is_past,
    load_task,
    put_record,
    require_participant,
)

__all__ = [
    "load_plan",
    "plan_key",
    "plan_part_key",
    "put_plan",
    "register",
    "require_plan_participant",
]


def plan_key(plan: str) -> str:
    """Return the state key of a CompensationPlan."""
    return create_composite_key(PLAN_TYPE, (plan,))


def plan_part_key(object_type: str, plan: str, party: str | None = None) -> str:
    """Return the key of one of a plan's assets: (object_type, plan[, party])."""
    return create_composite_key(object_type, (plan,) if party is None else (plan, party))


async def load_plan(ctx: TransactionContext, plan: str) -> PlanRecord:
    """Return the stored plan; raises "plan plan-… does not exist" or a malformed-id message."""
    parse_plan_id(plan)
    return await load(ctx, PlanRecord, plan_key(plan), f"plan {plan} does not exist")


def put_plan(ctx: TransactionContext, plan: PlanRecord) -> bytes:
    """Write ``plan``; return its bytes."""
    return put_record(ctx, plan_key(plan.id), plan)


def require_plan_participant(plan: PlanRecord, party: str) -> None:
    """Raise "party X is not a participant of plan-…" unless ``party`` funds the plan."""
    if party not in plan.participant_ids:
        raise ProtocolError(f"party {party} is not a participant of {plan.id}")


async def _require_enricher(ctx: TransactionContext, party: str) -> None:
    stored = await ctx.get_state(party_key(*parse_party_id(party)))
    if not stored:
        raise ProtocolError(f"enricher {party} is not a registered party")
    if ENRICHER_ROLE not in json.loads(stored)["roles"]:
        raise ProtocolError(f"enricher {party} does not have the enricher role")


def _event(plan: PlanRecord, **extra: object) -> dict[str, object]:
    return {"plan_id": plan.id, "task_id": plan.task_id, **extra}


async def _check_plan(
    ctx: TransactionContext, request: PlanRequest, task: TaskRecord
) -> tuple[CurrentModel, int]:
    """Check a plan request against its task and the ledger.

    Returns the model the plan improves and that model's median accuracy (bp).

    Raises ``ProtocolError`` with the messages ``propose_plan`` documents.
    """
    delivery = sealed_size(task.value_count) * len(task.participants)
    if delivery > MAX_DELIVERY_BYTES:
        raise ProtocolError(
            f"a delivery for {task.id} would be {delivery} sealed bytes, more than the limit of "
            f"{MAX_DELIVERY_BYTES} bytes per transaction"
        )
    if task.status == TASK_PROPOSED:
        raise ProtocolError(f"{task.id} is proposed; a plan needs its training under way or done")
    await _require_enricher(ctx, request.enricher)
    if request.enricher in task.participant_ids:
        raise ProtocolError(f"the enricher {request.enricher} is a participant of {task.id}")
    base = await current_model(ctx, task)
    if base.source == SOURCE_INITIAL or base.median_bp is None:
        raise ProtocolError(
            f"{task.id} has no accepted round yet; a plan improves an evaluated model"
        )
    now = ctx.tx_timestamp.seconds
    if request.delivery_deadline <= now:
        raise ProtocolError(
            f"delivery_deadline {request.delivery_deadline} is not after the transaction time {now}"
        )
    if request.evaluation_deadline - now > MAX_PLAN_SECONDS:
        raise ProtocolError(
            f"evaluation_deadline {request.evaluation_deadline} is more than {MAX_PLAN_SECONDS} "
            f"seconds after the transaction time {now}"
        )
    return base, base.median_bp


async def propose_plan(ctx: TransactionContext, plan_json: str) -> bytes:
    """ProposePlan: store a new plan proposed (and approved) by a participant of its task.

    Returns the stored plan. Raises ``ProtocolError`` for a malformed request, a caller that is
    not a participant, a delivery too large for one transaction, a task still proposed, an
    enricher that is unregistered, lacks the role or is a participant, a task without an
    evaluated model, deadlines not ahead of the transaction time or too far ahead;
    ``NotFoundError`` for an unknown task.
    """
    request = parse_plan_request(plan_json)
    proposer = await caller_party(ctx)
    task = await load_task(ctx, request.task_id)
    require_participant(task, proposer)
    base, base_median_bp = await _check_plan(ctx, request, task)
    now = ctx.tx_timestamp.seconds
    new_id = plan_id(ctx.tx_id)
    if await ctx.get_state(plan_key(new_id)):
        raise ProtocolError(f"plan {new_id} already exists")
    plan = PlanRecord(
        id=new_id,
        task_id=task.id,
        proposer=proposer,
        enricher=request.enricher,
        tiers=request.tiers,
        statistic=STATISTIC_MEDIAN,
        max_payout=request.tiers[-1].payment,
        escrow=escrow_account(ESCROW_KIND, new_id),
        base_weights_hash=base.weights_hash,
        base_source=base.source,
        base_round=base.round,
        base_plan_id=base.plan_id,
        base_median_bp=base_median_bp,
        value_count=task.value_count,
        participants=task.participants,
        quorum=task.quorum,
        delivery_deadline=request.delivery_deadline,
        evaluation_deadline=request.evaluation_deadline,
        approvals=(proposer,),
        status=PLAN_PROPOSED,
        proposed_at=now,
        proposed_tx=ctx.tx_id,
    )
    payload = put_plan(ctx, plan)
    event = _event(plan, proposer=proposer, enricher=plan.enricher)
    ctx.set_event(PLAN_PROPOSED_EVENT, dumps(event))
    return payload


async def approve_plan(ctx: TransactionContext, plan_text: str) -> bytes:
    """ApprovePlan: record the caller's approval; the last one funds the escrow and activates.

    Returns the stored plan. Raises ``ProtocolError``: "plan-… is active; only a proposed plan
    can be approved", "party X is not a participant of plan-…", "party X already approved
    plan-…", "the delivery deadline D of plan-… has passed; it can no longer be approved", and on
    activation "insufficient balance: X has 3 credits, needs 5".
    """
    party = await caller_party(ctx)
    plan = await load_plan(ctx, plan_text)
    if plan.status != PLAN_PROPOSED:
        raise ProtocolError(f"{plan.id} is {plan.status}; only a proposed plan can be approved")
    require_plan_participant(plan, party)
    if party in plan.approvals:
        raise ProtocolError(f"party {party} already approved {plan.id}")
    if is_past(ctx.tx_timestamp, plan.delivery_deadline):
        raise ProtocolError(
            f"the delivery deadline {plan.delivery_deadline} of {plan.id} has passed; it can no "
            "longer be approved"
        )
    approvals = tuple(sorted([*plan.approvals, party]))
    plan = dataclasses.replace(plan, approvals=approvals)
    event = _event(plan, party=party, approved=len(approvals), participants=len(plan.participants))
    if len(approvals) < len(plan.participants):
        payload = put_plan(ctx, plan)
        ctx.set_event(PLAN_APPROVED, dumps(event))
        return payload
    async with token_movements(ctx) as book:
        funded = await book.fund_pro_rata(plan.escrow, plan.max_payout, plan.samples)
        plan = dataclasses.replace(
            plan, status=PLAN_ACTIVE, activated_at=ctx.tx_timestamp.seconds, funded=funded
        )
        book.announce(PLAN_ACTIVATED, {**event, "escrow": plan.escrow, "funded": funded})
    return put_plan(ctx, plan)


async def plan_view(ctx: TransactionContext, plan: PlanRecord) -> PlanView:
    """Return the plan with its sealed-model flag, its delivery and its reports."""
    sealed = bool(await ctx.get_state(plan_part_key(PLAN_MODEL_TYPE, plan.id)))
    stored = await ctx.get_state(plan_part_key(ENRICHMENT_TYPE, plan.id))
    enrichment = EnrichmentRecord.from_bytes(stored) if stored else None
    entries = await ctx.get_range(EVALUATION_TYPE, (plan.id,))
    reports = tuple(EvaluationRecord.from_bytes(value) for _, value in entries)
    return PlanView(plan, sealed, enrichment, reports)


async def get_plan(ctx: TransactionContext, plan_text: str) -> bytes:
    """GetPlan: the plan, ``model_sealed``, its enrichment (or null) and its reports.

    Raises ``NotFoundError`` "plan plan-… does not exist".
    """
    return (await plan_view(ctx, await load_plan(ctx, plan_text))).to_bytes()


def register(router: Router) -> None:
    """Route the plan transactions."""
    router.add_object_type(PLAN_TYPE)
    router.add("ProposePlan", propose_plan)
    router.add("ApprovePlan", approve_plan)
    router.add("GetPlan", get_plan)
