"""The enricher's side of a plan, start to finish: receive the model, improve it, deliver it.

An enricher is an outsider registered with the role ``enricher``. For a plan that names it
(:meth:`Enricher.run`):

1. wait until the plan is active and its proposer has sealed the base model to this party's
   registered X25519 key, open the envelope and check the weights against the digest the plan
   records (a wrong model is refused before any training);
2. improve the model on its own data (:func:`train_on`: local training from the base weights;
   any ``Improve`` callable will do, e.g. a fixed vector in tests);
3. seal the improved weights to each participant's registered key (one envelope each, bound to
   the plan and the recipient) and deliver them with their digest in one transaction.

It sees the base model and nothing else: no participant's data, no individual update. Payment
follows from the participants' reports when someone settles the plan
(:mod:`fedledger.roles.enrichment.review`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from fedledger.contract import enrichment
from fedledger.errors import EnrichmentError
from fedledger.learning.datasets import Dataset
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig, train_local
from fedledger.ledger.events import EventFeed
from fedledger.ledger.interface import ChaincodeEvent, Contract
from fedledger.protocol.enrichment import (
    PLAN_ACTIVE,
    PLAN_PROPOSED,
    EnrichmentRecord,
    PlanRecord,
)
from fedledger.protocol.enrichment_requests import DeliveryRequest
from fedledger.roles.enrichment.plan import (
    get_plan,
    open_weights,
    party_public_key,
    seal_weights,
)
from fedledger.roles.ledger_io import Watch, get_task
from fedledger.roles.model_io import FloatVector, canonical_weights, weights_hash

__all__ = ["Delivery", "Enricher", "Improve", "plan_events", "train_on"]

LOG = logging.getLogger("fedledger.enricher")

# (model name, base weights) -> improved weights
Improve = Callable[[str, FloatVector], FloatVector]


def train_on(data: Dataset, config: TrainingConfig = DEFAULT_TRAINING, *, seed: int = 0) -> Improve:
    """An ``Improve`` that trains the model from the base weights on ``data``."""

    def improve(model: str, base: FloatVector) -> FloatVector:
        return train_local(model, base, data, config, seed=seed).weights

    return improve


def plan_events(plan_id: str) -> Callable[[ChaincodeEvent], bool]:
    """An event filter that keeps the events of one plan."""

    def accept(event: ChaincodeEvent) -> bool:
        try:
            return bool(json.loads(event.payload).get("plan_id") == plan_id)
        except (ValueError, AttributeError):
            return False

    return accept


@dataclass(frozen=True)
class Delivery:
    """What the enricher delivered: the plan, the base and enriched digests, the record."""

    plan: PlanRecord
    base_hash: str
    weights: FloatVector
    record: EnrichmentRecord


class Enricher:
    """An enricher over a ``Contract`` bound to its identity."""

    def __init__(
        self,
        contract: Contract,
        party_id: str,
        kx_private_key: bytes,
        improve: Improve,
        *,
        fallback_seconds: float = 5.0,
    ) -> None:
        self.contract = contract
        self.party_id = party_id
        self._kx_private_key = kx_private_key
        self.improve = improve
        self._fallback = fallback_seconds

    def run(self, plan_id: str, timeout: float = 600.0) -> Delivery:
        """Receive the plan's model, improve it and deliver it; return the delivery.

        Raises EnrichmentError for a plan naming another enricher or a sealed model that is not
        the plan's, EnvelopeError when the envelope does not open, WaitTimeout when the plan
        does not become active and sealed within ``timeout`` seconds, ContractError when the
        delivery is refused (e.g. past the delivery deadline).
        """
        with EventFeed(self.contract, accept=plan_events(plan_id)) as feed:
            watch = Watch(feed, fallback_seconds=self._fallback)
            plan, base = self.receive_model(plan_id, watch, timeout)
        model = get_task(self.contract, plan.task_id).model
        LOG.info("improving %s of %s (%s)", plan.base_weights_hash[:12], plan.task_id, model)
        enriched = canonical_weights(self.improve(model, base))
        record = self.deliver(plan, enriched)
        return Delivery(plan, plan.base_weights_hash, enriched, record)

    def receive_model(
        self, plan_id: str, watch: Watch, timeout: float
    ) -> tuple[PlanRecord, FloatVector]:
        """Wait for the plan's sealed model, open it and check its digest; return both."""
        plan = get_plan(self.contract, plan_id).plan
        if plan.enricher != self.party_id:
            raise EnrichmentError(f"{plan_id} names the enricher {plan.enricher}, not this party")
        stored = watch.until(
            lambda: enrichment.find_plan_model(self.contract, plan_id),
            lambda found: found is not None,
            what=f"the model of {plan_id} sealed to this enricher",
            timeout=timeout,
        )
        plan = get_plan(self.contract, plan_id).plan
        if plan.status not in (PLAN_PROPOSED, PLAN_ACTIVE):
            raise EnrichmentError(f"{plan_id} is {plan.status}; nothing to deliver any more")
        if stored is None:  # until() returns only a value that is ready; this keeps mypy told
            raise EnrichmentError(f"the model of {plan_id} is not sealed to this enricher")
        sealed = stored
        base = open_weights(
            self._kx_private_key,
            sealed.envelope,
            plan_id=plan_id,
            recipient=self.party_id,
            value_count=plan.value_count,
            expected_hash=plan.base_weights_hash,
        )
        return plan, base

    def deliver(self, plan: PlanRecord, weights: FloatVector) -> EnrichmentRecord:
        """Seal ``weights`` to every participant and deliver them with their digest."""
        if len(weights) != plan.value_count:
            raise EnrichmentError(
                f"the enriched weights have {len(weights)} values; {plan.id} needs "
                f"{plan.value_count}"
            )
        envelopes = {
            party: seal_weights(party_public_key(self.contract, party), plan.id, party, weights)
            for party in plan.participant_ids
        }
        delivery = DeliveryRequest(weights_hash(weights), envelopes)
        return enrichment.deliver_enrichment(self.contract, plan.id, delivery)
