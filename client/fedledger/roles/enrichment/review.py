"""A participant's review of a delivered enrichment: open, check, evaluate, report, settle.

For a plan its task shares with this participant (:meth:`EnrichmentReviewer.review`):

1. wait until the enricher has delivered, open this party's envelope with its key-exchange key
   and check the weights' length and digest against the ``Enrichment`` record on the ledger;
2. evaluate them on this party's own validation data and report the accuracy in basis points
   with the digest (the chaincode refuses a report for any other digest, or a second one);
3. :meth:`EnrichmentReviewer.settle_when_due` waits until every participant reported (or the
   evaluation deadline passed) and settles. Any party may; when several try at once one settle
   commits and the others are refused with "plan-… is already settled" (or lose the MVCC race
   at commit), which this treats as done and answers with the settled plan.

A participant keeps the reviewed weights (:class:`Review`); if the settlement says the model was
adopted, they are the task's global model from then on (``GetCurrentModel``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from fedledger.contract import enrichment as enrichment_calls
from fedledger.errors import CommitError, ContractError, EnrichmentError
from fedledger.learning.datasets import Dataset
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.ledger.events import EventFeed
from fedledger.ledger.interface import Contract
from fedledger.protocol.enrichment import (
    PLAN_DELIVERED,
    PLAN_SETTLED,
    PlanRecord,
    PlanView,
)
from fedledger.protocol.enrichment_requests import ReportRequest
from fedledger.roles.enrichment.enricher import plan_events
from fedledger.roles.enrichment.plan import get_plan, open_weights, settle_plan
from fedledger.roles.ledger_io import Watch, get_task
from fedledger.roles.model_io import FloatVector

__all__ = ["EnrichmentReviewer", "Review", "accuracy_bp"]

LOG = logging.getLogger("fedledger.enrichment")


def accuracy_bp(accuracy: float) -> int:
    """An accuracy in [0, 1] as the ledger records it: whole basis points."""
    return round(accuracy * 10_000)


@dataclass(frozen=True)
class Review:
    """One participant's review: the enriched weights it opened and the accuracy it reported."""

    plan: PlanRecord
    weights_hash: str
    accuracy_bp: int
    weights: FloatVector


class EnrichmentReviewer:
    """A participant reviewing enrichments, over a ``Contract`` bound to its identity."""

    def __init__(
        self,
        contract: Contract,
        party_id: str,
        kx_private_key: bytes,
        validation: Dataset,
        *,
        fallback_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` (seconds since the epoch) tells when the evaluation deadline has passed."""
        self.contract = contract
        self.party_id = party_id
        self._kx_private_key = kx_private_key
        self.validation = validation
        self._fallback = fallback_seconds
        self.clock = clock

    def _watch(self, feed: EventFeed) -> Watch:
        return Watch(feed, fallback_seconds=self._fallback)

    def review(self, plan_id: str, timeout: float = 600.0) -> Review:
        """Wait for the delivery, open and check it, evaluate it and report; return the review.

        Raises EnrichmentError when the plan ended undelivered or the weights do not match the
        ledger's digest, EnvelopeError when this party's envelope does not open, WaitTimeout
        when nothing is delivered within ``timeout`` seconds, ContractError when the report is
        refused (e.g. past the evaluation deadline).
        """
        with EventFeed(self.contract, accept=plan_events(plan_id)) as feed:
            view = self._watch(feed).until(
                lambda: get_plan(self.contract, plan_id),
                lambda found: found.plan.status in (PLAN_DELIVERED, PLAN_SETTLED),
                what=f"the delivery of {plan_id}",
                timeout=timeout,
            )
        enrichment = view.enrichment
        if enrichment is None:
            raise EnrichmentError(f"{plan_id} was settled without a delivery")
        stored = enrichment_calls.get_enrichment_envelope(self.contract, plan_id, self.party_id)
        weights = open_weights(
            self._kx_private_key,
            stored.envelope,
            plan_id=plan_id,
            recipient=self.party_id,
            value_count=view.plan.value_count,
            expected_hash=enrichment.weights_hash,
        )
        model = get_task(self.contract, view.plan.task_id).model
        accuracy = accuracy_bp(evaluate_accuracy(model, weights, self.validation))
        LOG.info("%s: enriched model %s scores %d bp", plan_id, enrichment.weights_hash, accuracy)
        report = ReportRequest(enrichment.weights_hash, accuracy)
        enrichment_calls.report_enrichment(self.contract, plan_id, report)
        return Review(view.plan, enrichment.weights_hash, accuracy, weights)

    def settle_when_due(self, plan_id: str, timeout: float = 600.0) -> PlanRecord:
        """Wait until the plan can be settled, settle it (or find it settled); return it."""

        def due(view: PlanView) -> bool:
            plan = view.plan
            everyone = len(view.reports) == len(plan.participants)
            return (
                plan.status == PLAN_SETTLED
                or (plan.status == PLAN_DELIVERED and everyone)
                or self.clock() > plan.evaluation_deadline
            )

        deadline = get_plan(self.contract, plan_id).plan.evaluation_deadline
        with EventFeed(self.contract, accept=plan_events(plan_id)) as feed:
            view = self._watch(feed).until(
                lambda: get_plan(self.contract, plan_id),
                due,
                what=f"{plan_id} to be due for settlement",
                timeout=timeout,
                wake=lambda: deadline + 1 - self.clock(),
            )
        if view.plan.status == PLAN_SETTLED:
            return view.plan
        try:
            return settle_plan(self.contract, plan_id)
        except (ContractError, CommitError) as exc:
            settled = get_plan(self.contract, plan_id).plan
            if settled.status != PLAN_SETTLED:
                raise
            LOG.info("%s was settled by another party (%s)", plan_id, exc)
            return settled
