"""Paid enrichment by the real roles on the in-memory ledger, after a real (tiny-model) task.

Three participants train a task of two rounds; then Org1 proposes a plan naming an outside
enricher, the others approve (the escrow is funded), Org1 seals the current model to the
enricher, the enricher (in a thread) opens it, improves it and delivers it sealed to each
participant, and every participant (in a thread of its own) opens its envelope, evaluates the
weights on its own validation data, reports and tries to settle. Exactly one settle commits.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from support.consortium import Consortium, run_whole_task
from support.identities import make_identity
from support.raw_calls import query, query_or_none

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.errors import ContractError, EnrichmentError
from fedledger.ledger.memory import InMemoryContract
from fedledger.protocol.enrichment import pick_tier
from fedledger.protocol.rounds import lower_median
from fedledger.roles.enrichment.enricher import Enricher
from fedledger.roles.enrichment.opening import PlanProposer, PlanTerms
from fedledger.roles.enrichment.plan import (
    approve_plan,
    get_plan,
    propose_plan,
    seal_model_to_enricher,
    seal_weights,
)
from fedledger.roles.enrichment.review import EnrichmentReviewer
from fedledger.roles.ledger_io import register_party
from fedledger.roles.model_io import FloatVector, weights_hash
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.participant import TaskState

TIERS = ((1, 10), (300, 30), (1000, 100))


@pytest.fixture(scope="module")
def trained() -> Iterator[tuple[Consortium, str, list[TaskState]]]:
    """A consortium whose two-round task finished, with 1,000 credits per participant."""
    with Consortium() as consortium:
        task = consortium.propose()
        _, _, states = run_whole_task(consortium, task)
        minter = consortium.members[0].contract  # Org1MSP, the default minter
        for member in consortium.members:
            minter.submit("Mint", member.party["id"], "1000")
        yield consortium, task, states


def _enricher(consortium: Consortium, name: str) -> tuple[InMemoryContract, str, bytes]:
    contract = consortium.ledger.contract(make_identity("Org4MSP", name))
    key = generate_private_key()
    public = base64.b64encode(public_key_bytes(key)).decode()
    party = register_party(contract, ["enricher"], public)
    return contract, str(party["id"]), key


def _active_plan(consortium: Consortium, task: str, enricher: str) -> str:
    now = int(consortium.now())
    first, *others = consortium.members
    plan = propose_plan(
        first.contract, task, enricher, TIERS,
        delivery_deadline=now + 3600, evaluation_deadline=now + 7200,
    ).id  # fmt: skip
    for member in others:
        approve_plan(member.contract, plan)
    return plan


def _nudged(model: str, base: FloatVector) -> FloatVector:
    return base + 0.01


def test_an_enrichment_is_delivered_evaluated_by_everyone_and_paid_exactly_once(
    trained: tuple[Consortium, str, list[TaskState]],
) -> None:
    # Prepare
    consortium, task, states = trained
    contract, enricher_id, key = _enricher(consortium, "enricher-a")
    plan = _active_plan(consortium, task, enricher_id)
    before = query(contract, "TokenAudit")
    seal_model_to_enricher(consortium.members[0].contract, plan, states[0].latest)
    enricher = Enricher(contract, enricher_id, key, _nudged, fallback_seconds=0.2)
    reviewers = [
        EnrichmentReviewer(
            m.contract, m.party["id"], m.kx_key, m.role.validation,
            fallback_seconds=0.2, clock=consortium.now,
        )
        for m in consortium.members
    ]  # fmt: skip

    # Execute: the enricher and the three reviewers each in a thread, as separate processes
    with ThreadPoolExecutor(max_workers=4) as pool:
        delivery = pool.submit(enricher.run, plan, 60)
        reviews = [pool.submit(r.review, plan, 60) for r in reviewers]
        reviewed = [future.result(timeout=120) for future in reviews]
        settles = [pool.submit(r.settle_when_due, plan, 60) for r in reviewers]
        settled = [future.result(timeout=120) for future in settles]
        delivered = delivery.result(timeout=120)

    # Assert: one digest everywhere; the settlement follows the reports; one payout
    assert delivered.base_hash == weights_hash(states[0].latest)
    assert {r.weights_hash for r in reviewed} == {delivered.record.weights_hash}
    assert all(np.array_equal(r.weights, delivered.weights) for r in reviewed)
    settlement = settled[0].settlement
    assert settlement is not None and all(s.settlement == settlement for s in settled)
    median = lower_median([r.accuracy_bp for r in reviewed])
    view = get_plan(contract, plan)
    tier = pick_tier(view.plan.tiers, median - view.plan.base_median_bp)
    payment = 0 if tier is None else tier.payment
    assert (settlement.median_bp, settlement.payment) == (median, payment)
    assert len(view.reports) == 3
    settles_committed = [e for e in consortium.ledger.event_log() if e.name == "PlanSettled"]
    assert len(settles_committed) == 1
    after = query(contract, "TokenAudit")
    assert after["balances"].get(enricher_id, 0) == payment
    assert after["escrows"][view.plan.escrow] == 0
    assert after["total_supply"] == before["total_supply"]
    assert sum(after["balances"].values()) == after["total_supply"]
    current = query(contract, "GetCurrentModel", task)
    expected_hash = delivered.record.weights_hash if payment else view.plan.base_weights_hash
    assert current["weights_hash"] == expected_hash


def test_the_proposer_refuses_to_seal_weights_that_are_not_the_plans_model(
    trained: tuple[Consortium, str, list[TaskState]],
) -> None:
    consortium, task, states = trained
    _, enricher_id, _ = _enricher(consortium, "enricher-b")
    plan = _active_plan(consortium, task, enricher_id)
    current = query(consortium.members[0].contract, "GetCurrentModel", task)["weights_hash"]

    with pytest.raises(EnrichmentError) as refused:
        seal_model_to_enricher(consortium.members[0].contract, plan, states[0].latest + 1)

    assert str(refused.value) == (
        f"these weights hash to {weights_hash(states[0].latest + 1)}; {plan} improves {current}"
    )
    assert get_plan(consortium.members[0].contract, plan).model_sealed is False


def test_the_enricher_refuses_a_sealed_model_whose_digest_is_not_the_plans(
    trained: tuple[Consortium, str, list[TaskState]],
) -> None:
    consortium, task, states = trained
    contract, enricher_id, key = _enricher(consortium, "enricher-c")
    plan = _active_plan(consortium, task, enricher_id)
    wrong = states[0].latest * 2
    public = public_key_bytes(key)
    consortium.members[0].contract.submit(
        "SealPlanModel", plan, seal_weights(public, plan, enricher_id, wrong)
    )
    enricher = Enricher(contract, enricher_id, key, _nudged, fallback_seconds=0.2)

    with pytest.raises(EnrichmentError) as refused:
        enricher.run(plan, timeout=5)

    assert str(refused.value).startswith(f"the weights sealed for {plan} hash to ")
    assert get_plan(contract, plan).plan.status == "active"


def test_a_participant_cannot_report_twice_through_the_reviewer(
    trained: tuple[Consortium, str, list[TaskState]],
) -> None:
    consortium, task, states = trained
    contract, enricher_id, key = _enricher(consortium, "enricher-d")
    plan = _active_plan(consortium, task, enricher_id)
    seal_model_to_enricher(consortium.members[0].contract, plan, states[0].latest)
    Enricher(contract, enricher_id, key, _nudged, fallback_seconds=0.2).run(plan, timeout=5)
    member = consortium.members[1]
    reviewer = EnrichmentReviewer(
        member.contract, member.party["id"], member.kx_key, member.role.validation,
        fallback_seconds=0.2, clock=consortium.now,
    )  # fmt: skip
    reviewer.review(plan, timeout=5)

    with pytest.raises(ContractError) as refused:
        reviewer.review(plan, timeout=5)

    assert refused.value.message == f"party {member.party['id']} already reported on {plan}"


def test_the_proposer_seals_the_base_model_from_its_own_store_and_the_enricher_opens_it(
    trained: tuple[Consortium, str, list[TaskState]], tmp_path: Path
) -> None:
    # Prepare: the proposer's store holds the task's last model, as a participant's does
    consortium, task, states = trained
    contract, enricher_id, key = _enricher(consortium, "enricher-e")
    first, *others = consortium.members
    store = ModelStore(tmp_path)
    store.save(task, max(states[0].models), states[0].latest)
    proposer = PlanProposer(first.contract, store, clock=consortium.now)
    terms = PlanTerms(tiers=TIERS, delivery_seconds=3600, evaluation_seconds=7200)

    # Execute
    plan = proposer.propose(task, enricher_id, terms)
    for member in others:
        approve_plan(member.contract, plan)
    sealed = proposer.seal(plan)
    delivery = Enricher(contract, enricher_id, key, _nudged, fallback_seconds=0.2).run(plan, 5)

    # Assert
    assert sealed.plan.status == "active"
    assert delivery.base_hash == weights_hash(states[0].latest) == sealed.plan.base_weights_hash
    assert sealed.plan.delivery_deadline == int(consortium.now()) + 3600


def test_the_proposer_cannot_seal_before_every_approval(
    trained: tuple[Consortium, str, list[TaskState]], tmp_path: Path
) -> None:
    consortium, task, states = trained
    _, enricher_id, _ = _enricher(consortium, "enricher-f")
    store = ModelStore(tmp_path)
    store.save(task, max(states[0].models), states[0].latest)
    proposer = PlanProposer(consortium.members[0].contract, store, clock=consortium.now)
    plan = proposer.propose(task, enricher_id, PlanTerms(TIERS, 3600, 7200))

    with pytest.raises(EnrichmentError, match=f"{plan} is proposed; its model is sealed once"):
        proposer.seal(plan)

    assert query_or_none(consortium.members[0].contract, "GetPlanModel", plan) is None
