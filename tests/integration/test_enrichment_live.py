"""Paid enrichment on the real network, settled by two parties at once: exactly one payout.

Three participants (User7 of Org1-Org3, each through its own org's peer) hold a task whose round
1 was accepted (base median 8000 bp, :mod:`support.accepted_round`). Org1 proposes a plan naming
an outside enricher (Org2's User8, a separate party with the role ``enricher``), the others
approve and the escrow is funded pro rata to the declared samples; Org1 seals the model to the
enricher; the enricher (the real role) opens it, checks its digest and delivers a small synthetic
"enriched" vector sealed to each participant; each participant opens its envelope, checks the
digest and reports; then Org2 and Org3 settle at the same moment. One settle commits; the other
is refused ("already settled") or loses the MVCC race at commit, and pays nothing. Balances are
exact, the supply is unchanged and the enriched model is the task's current model.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from races import race, the_one_winner
from support.accepted_round import VALUE_COUNT, accepted_task
from support.raw_calls import query

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.protocol.assets import party_id
from fedledger.protocol.enrichment import SealedModelRecord
from fedledger.roles.enrichment.enricher import Enricher
from fedledger.roles.enrichment.plan import (
    approve_plan,
    get_plan,
    open_weights,
    propose_plan,
    seal_model_to_enricher,
)
from fedledger.roles.ledger_io import register_party
from fedledger.roles.model_io import FloatVector, weights_hash

pytestmark = pytest.mark.fabric

READ_WAIT_SECONDS = 20.0
BASE = np.linspace(-1, 1, VALUE_COUNT)
TIERS = ((100, 10), (300, 30), (1000, 100))


def _pid(contract: GatewayContract) -> str:
    return party_id(contract.identity.msp_id, contract.identity.certificate_pem)


def _key(contract: GatewayContract, roles: list[str]) -> bytes:
    key = generate_private_key()
    register_party(contract, roles, base64.b64encode(public_key_bytes(key)).decode())
    return key


@pytest.fixture
def parties(fabric_profile: Path) -> Iterator[tuple[list[GatewayContract], GatewayContract]]:
    """User7 of each org (participants) and Org2's User8 (the enricher), fresh connections."""
    orgs = ("Org1", "Org2", "Org3")
    participants = [connect(fabric_profile, org=org, user="User7") for org in orgs]
    enricher = connect(fabric_profile, org="Org2", user="User8")
    try:
        yield participants, enricher
    finally:
        for contract in (*participants, enricher):
            contract.close()


def _read_until(contract: GatewayContract, ready: object, function: str, *args: str) -> object:
    """Query on ``contract``'s peer until ``ready(answer)`` (the peer may be a block behind)."""
    deadline = time.monotonic() + READ_WAIT_SECONDS
    answer = query(contract, function, *args)
    while not ready(answer) and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.2)
        answer = query(contract, function, *args)
    return answer


def test_a_plan_funded_delivered_reported_and_settled_twice_at_once_pays_exactly_once(
    parties: tuple[list[GatewayContract], GatewayContract],
) -> None:
    # Prepare: keys, a trained task, credits
    participants, enricher_contract = parties
    org1, org2, org3 = participants
    keys = [_key(c, ["trainer"]) for c in participants]
    enricher_key = _key(enricher_contract, ["enricher"])
    ids = [_pid(c) for c in participants]
    enricher_id = _pid(enricher_contract)
    task = accepted_task(participants, BASE, [8000, 8200, 8400])
    for party in ids:
        org1.submit("Mint", party, "200")
    before = query(org1, "TokenAudit")

    # Execute: plan, approvals (escrow funded), model sealed, delivery, reports
    now = int(time.time())
    plan = propose_plan(
        org1, task, enricher_id, TIERS, delivery_deadline=now + 900, evaluation_deadline=now + 1800
    ).id
    approve_plan(org2, plan)
    active = approve_plan(org3, plan)
    seal_model_to_enricher(org1, plan, BASE)

    def improve(model: str, base: FloatVector) -> FloatVector:
        return base * 0.5 + 0.25

    delivery = Enricher(enricher_contract, enricher_id, enricher_key, improve).run(plan, 120)
    opened = []
    reported = (8500, 8600, 9100)
    for contract, party, key, accuracy in zip(participants, ids, keys, reported, strict=True):
        stored = SealedModelRecord.from_dict(query(contract, "GetEnrichmentEnvelope", plan, party))
        weights = open_weights(
            key, stored.envelope, plan_id=plan, recipient=party, value_count=VALUE_COUNT,
            expected_hash=delivery.record.weights_hash,
        )  # fmt: skip
        opened.append(weights)
        report = {"weights_hash": weights_hash(weights), "accuracy_bp": accuracy}
        contract.submit("ReportEnrichment", plan, json.dumps(report))
    # Fabric does not promise read-your-writes across peers: wait until every org's peer holds
    # the three reports, so that both settles are endorsed on a complete view.
    for contract in (org1, org2, org3):
        _wait_for_reports(contract, plan, len(reported))
    outcomes = race(
        [lambda: org2.submit("SettlePlan", plan),
         lambda: org3.submit("SettlePlan", plan)]
    )  # fmt: skip

    # Assert: the funding, one payout of the 30-credit tier (median 8600: gain 600 bp)
    assert active.status == "active"
    assert active.funded == {ids[0]: 17, ids[1]: 33, ids[2]: 50}  # 100 over samples 1:2:3
    assert all(np.array_equal(w, opened[0]) for w in opened)
    assert np.allclose(opened[0], improve("mlp32", BASE), atol=1e-6)
    the_one_winner(outcomes, f"{plan} is already settled")
    view = get_plan(org1, plan)
    settlement = view.plan.settlement
    assert settlement is not None
    assert (settlement.outcome, settlement.median_bp, settlement.gain_bp) == ("paid", 8600, 600)
    assert settlement.payment == 30 and settlement.adopted is True
    after = _read_until(org1, lambda a: a["balances"].get(enricher_id, 0) == 30, "TokenAudit")
    assert isinstance(after, dict)
    assert after["balances"][enricher_id] == before["balances"].get(enricher_id, 0) + 30
    assert after["escrows"][view.plan.escrow] == 0
    for party in ids:
        paid_in = view.plan.funded[party]
        refunded = settlement.refunds[party]
        assert after["balances"][party] == before["balances"][party] - paid_in + refunded
    assert sum(settlement.refunds.values()) == 70
    assert after["total_supply"] == before["total_supply"]
    assert sum(after["balances"].values()) + sum(after["escrows"].values()) == after["total_supply"]
    current = query(org3, "GetCurrentModel", task)
    assert (current["source"], current["plan_id"], current["weights_hash"]) == (
        "enrichment", plan, delivery.record.weights_hash,
    )  # fmt: skip


def _wait_for_reports(contract: GatewayContract, plan: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(get_plan(contract, plan).reports) < count:
        assert time.monotonic() < deadline, f"{count} reports never reached this peer"
        time.sleep(0.1)
