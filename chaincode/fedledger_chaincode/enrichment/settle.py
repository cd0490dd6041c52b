"""SettlePlan: pay a plan's enricher by the tier its median report reached, refund the rest, adopt.

Anyone registered may settle a plan, once it is due:

- delivered, and every participant reported, or the evaluation deadline passed: with at least
  the quorum of reports, the gain is the lower median of the reported accuracies minus the base
  model's median (integers, basis points); the enricher gets the highest tier the gain reached,
  the rest of the escrow goes back to the funders pro rata to what each paid in. Below the
  quorum at the evaluation deadline: outcome "unevaluated", everything is refunded.
- active (nothing delivered) once the delivery deadline passed: outcome "undelivered", full
  refund.

Exactly once: SettlePlan reads the plan and rewrites it as settled in the same transaction, so
of several concurrent settles Fabric commits one and invalidates the others (MVCC read
conflict); resubmitted, they find the plan settled and are refused with "plan-… is already
settled", moving nothing. A report committed between a settle's endorsement and its commit
invalidates it too (the settle's range read over the reports changed).

Adoption: a paid enrichment becomes the task's global model (``AdoptedModel``, read by
:func:`fedledger_chaincode.training.global_model.current_model`) if the model it improved is still
the task's current model; if a round or another plan replaced it meanwhile, the enricher is still
paid (it improved what it was given) but nothing is adopted, and the settlement says so.
"""

from __future__ import annotations

import dataclasses

from fedledger.protocol.enrichment import (
    ENRICHMENT_TYPE,
    EVALUATION_TYPE,
    OUTCOME_BELOW_TIERS,
    OUTCOME_PAID,
    OUTCOME_UNDELIVERED,
    OUTCOME_UNEVALUATED,
    PLAN_ACTIVE,
    PLAN_DELIVERED,
    PLAN_SETTLED,
    AdoptedModelRecord,
    EnrichmentRecord,
    EvaluationRecord,
    PlanRecord,
    Settlement,
    settle_figures,
)
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import PLAN_SETTLED as PLAN_SETTLED_EVENT
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.credits.movements import token_movements
from fedledger_chaincode.enrichment.plans import load_plan, plan_part_key, put_plan
from fedledger_chaincode.training.global_model import adopted_model_key, current_model
from fedledger_chaincode.training.state import caller_party, is_past, load_task, put_record

__all__ = ["register"]


@dataclasses.dataclass(frozen=True)
class _Decision:
    outcome: str
    reports: int
    median_bp: int | None = None
    gain_bp: int | None = None
    payment: int = 0


async def _decide(ctx: TransactionContext, plan: PlanRecord) -> _Decision:
    """Return how ``plan`` settles now; raise ``ProtocolError`` when it cannot settle yet."""
    if plan.status == PLAN_SETTLED:
        raise ProtocolError(f"{plan.id} is already settled")
    if plan.status == PLAN_ACTIVE:
        if not is_past(ctx.tx_timestamp, plan.delivery_deadline):
            raise ProtocolError(
                f"{plan.id} cannot be settled before its delivery deadline "
                f"{plan.delivery_deadline}: nothing is delivered yet"
            )
        return _Decision(OUTCOME_UNDELIVERED, 0)
    if plan.status != PLAN_DELIVERED:
        raise ProtocolError(
            f"{plan.id} is {plan.status}; only an active or delivered plan can be settled"
        )
    entries = await ctx.get_range(EVALUATION_TYPE, (plan.id,))
    accuracies = [EvaluationRecord.from_bytes(value).accuracy_bp for _, value in entries]
    expected = len(plan.participants)
    past = is_past(ctx.tx_timestamp, plan.evaluation_deadline)
    if len(accuracies) < expected and not past:
        raise ProtocolError(
            f"{plan.id} cannot be settled yet: {len(accuracies)} of {expected} participants "
            f"reported and its evaluation deadline {plan.evaluation_deadline} has not passed"
        )
    if len(accuracies) < plan.quorum:
        return _Decision(OUTCOME_UNEVALUATED, len(accuracies))
    median, gain, payment = settle_figures(plan, accuracies)
    outcome = OUTCOME_PAID if payment else OUTCOME_BELOW_TIERS
    return _Decision(outcome, len(accuracies), median, gain, payment)


async def _adopt(ctx: TransactionContext, plan: PlanRecord, median: int) -> bool:
    """Make the plan's enrichment the task's model if its base is still current; say if it did."""
    task = await load_task(ctx, plan.task_id)
    current = await current_model(ctx, task)
    if current.weights_hash != plan.base_weights_hash:
        return False
    enrichment = EnrichmentRecord.from_bytes(
        await ctx.get_state(plan_part_key(ENRICHMENT_TYPE, plan.id))
    )
    adopted = AdoptedModelRecord(
        task_id=plan.task_id,
        plan_id=plan.id,
        weights_hash=enrichment.weights_hash,
        median_bp=median,
        base_weights_hash=plan.base_weights_hash,
        base_round=current.round,
        adopted_at=ctx.tx_timestamp.seconds,
        adopted_tx=ctx.tx_id,
    )
    put_record(ctx, adopted_model_key(plan.task_id), adopted)
    return True


async def settle_plan(ctx: TransactionContext, plan_text: str) -> bytes:
    """SettlePlan: pay the tier reached, refund the rest, mark the plan settled (module docstring).

    Returns the settled plan. Raises ``ProtocolError``: "plan-… is already settled", "plan-… is
    proposed; only an active or delivered plan can be settled", "plan-… cannot be settled before
    its delivery deadline D: nothing is delivered yet", "plan-… cannot be settled yet: 1 of 3
    participants reported and its evaluation deadline D has not passed".
    """
    party = await caller_party(ctx)
    plan = await load_plan(ctx, plan_text)
    decision = await _decide(ctx, plan)
    adopted = False
    if decision.payment and decision.median_bp is not None:
        adopted = await _adopt(ctx, plan, decision.median_bp)
    async with token_movements(ctx) as book:
        await book.pay(plan.escrow, plan.enricher, decision.payment)
        refunds = await book.refund(plan.escrow)
        settlement = Settlement(
            outcome=decision.outcome,
            reports=decision.reports,
            median_bp=decision.median_bp,
            gain_bp=decision.gain_bp,
            payment=decision.payment,
            refunds=refunds,
            adopted=adopted,
            settled_at=ctx.tx_timestamp.seconds,
            settled_tx=ctx.tx_id,
            settled_by=party,
        )
        event = {"plan_id": plan.id, "task_id": plan.task_id, **settlement.to_dict()}
        book.announce(PLAN_SETTLED_EVENT, event)
    return put_plan(ctx, dataclasses.replace(plan, status=PLAN_SETTLED, settlement=settlement))


def register(router: Router) -> None:
    """Route SettlePlan."""
    router.add("SettlePlan", settle_plan)
