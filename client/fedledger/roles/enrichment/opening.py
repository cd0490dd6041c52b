"""The participants' side of opening an enrichment: fund, propose, approve, seal the model.

One short step per role, in the order a consortium takes them:

1. the minter credits each participant (:func:`fund_participants`), so that they can escrow;
2. one participant proposes the plan to an enricher (:meth:`PlanProposer.propose`);
3. every other participant approves it (:func:`~fedledger.roles.enrichment.plan.approve_plan`);
   the last approval funds the escrow pro rata to the declared samples;
4. the proposer seals the plan's base model, from its own model store, to the enricher
   (:meth:`PlanProposer.seal`).

The enricher's side is :mod:`~fedledger.roles.enrichment.enricher`; the reports and the
settlement are :mod:`~fedledger.roles.enrichment.review`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from fedledger.contract.credits import balance_of, mint
from fedledger.ledger.interface import Contract
from fedledger.protocol.enrichment import PlanView
from fedledger.roles.enrichment.plan import get_plan, propose_plan, seal_model_to_enricher
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.checkpoints import ModelStore

__all__ = ["PlanProposer", "PlanTerms", "balances", "base_model", "fund_participants"]


@dataclass(frozen=True)
class PlanTerms:
    """What a proposer offers: (min gain bp, payment) tiers and how long each phase may take."""

    tiers: tuple[tuple[int, int], ...]
    delivery_seconds: int
    evaluation_seconds: int


def fund_participants(minter: Contract, parties: Sequence[str], credits: int) -> None:
    """Mint ``credits`` for each of ``parties`` (``minter`` is an identity of the minter org).

    Raises ContractError with the chaincode's message when a mint is refused.
    """
    for party in parties:
        mint(minter, party, credits)


def balances(contract: Contract, accounts: Mapping[str, str]) -> dict[str, int]:
    """The credit balance of each account, by the caller's name for it."""
    return {name: balance_of(contract, account) for name, account in accounts.items()}


def base_model(store: ModelStore, view: PlanView) -> FloatVector:
    """The plan's base model from a participant's model store: the enriched model of the plan
    it builds on, else the task's global model of its base round. Raises what the store raises
    for a model it does not hold."""
    plan = view.plan
    if plan.base_plan_id is not None:
        return store.enriched().load(plan.base_plan_id, 0).weights
    return store.load(plan.task_id, plan.base_round).weights


class PlanProposer:
    """The participant that proposes a plan and, once it is active, seals its model."""

    def __init__(
        self, contract: Contract, store: ModelStore, clock: Callable[[], float] = time.time
    ) -> None:
        self.contract = contract
        self.store = store
        self._clock = clock

    def propose(self, task_id: str, enricher: str, terms: PlanTerms) -> str:
        """Propose a plan for ``task_id`` to ``enricher`` with deadlines from now; return its id.

        Raises ContractError with the chaincode's message when the plan is refused.
        """
        now = int(self._clock())
        return propose_plan(
            self.contract,
            task_id,
            enricher,
            terms.tiers,
            delivery_deadline=now + terms.delivery_seconds,
            evaluation_deadline=now + terms.evaluation_seconds,
        ).id

    def seal(self, plan_id: str) -> PlanView:
        """Seal the plan's base model to its enricher; return the plan as it was sealed.

        Raises EnrichmentError for a plan that is not active (an approval is missing) or a
        stored model that is not the plan's base; ContractError when the ledger refuses.
        """
        view = get_plan(self.contract, plan_id)
        seal_model_to_enricher(self.contract, plan_id, base_model(self.store, view))
        return view
