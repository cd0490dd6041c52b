"""`fedledger enrich ...` and `fedledger query enrichment` on the in-memory ledger."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from support.accepted_round import VALUE_COUNT, accepted_task
from support.cli import run_cli
from support.cli_ledger import route_cli
from support.identities import make_identity

from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id

ORGS = ("Org1", "Org2", "Org3", "Org4")
IDENTITIES = {org: make_identity(f"{org}MSP", f"User1@{org.lower()}") for org in ORGS}
PARTY = {org: party_id(i.msp_id, i.certificate_pem) for org, i in IDENTITIES.items()}
KEY = base64.b64encode(bytes(32)).decode()


@pytest.fixture
def task(monkeypatch: pytest.MonkeyPatch) -> str:
    """Org1-Org3 trained a task (round 1 accepted, median 8000 bp); Org4 is an enricher."""
    ledger = InMemoryLedger(clock=ManualClock(start_seconds=int(time.time())))
    for org in ORGS:
        roles = ["enricher"] if org == "Org4" else ["trainer"]
        request = json.dumps({"roles": roles, "kx_public_key": KEY})
        ledger.contract(IDENTITIES[org]).submit("RegisterParty", request)
    participants = [ledger.contract(IDENTITIES[org]) for org in ORGS[:3]]
    task_id = accepted_task(participants, np.ones(VALUE_COUNT), [8000, 8100, 8200])
    for org in ORGS[:3]:
        participants[0].submit("Mint", PARTY[org], "100")

    route_cli(monkeypatch, ledger, IDENTITIES)
    return task_id


def test_propose_approve_and_status_show_the_plan_for_people_and_as_json(
    task: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, "enrich", "propose", "--task", task, "--enricher", PARTY["Org4"],
        "--tier", "100:10", "--tier", "300:30", "--json",
    )  # fmt: skip
    plan = json.loads(out)["plan"]["id"]
    approved = run_cli(capsys, "enrich", "approve", "--plan", plan, "--org", "Org2")
    run_cli(capsys, "enrich", "approve", "--plan", plan, "--org", "Org3")
    _, status, _ = run_cli(capsys, "query", "enrichment", "--plan", plan)
    _, view, _ = run_cli(capsys, "enrich", "status", "--plan", plan, "--json")

    assert code == 0
    assert approved[0] == 0 and f"plan {plan} for {task}: proposed" in approved[1]
    assert f"plan {plan} for {task}: active" in status
    assert "tiers: >= 100 bp -> 10, >= 300 bp -> 30" in status
    assert "median accuracy 8000 bp" in status and "approvals 3/3" in status
    assert json.loads(view)["plan"]["funded"] == {PARTY["Org1"]: 5, PARTY["Org2"]: 10,
                                                  PARTY["Org3"]: 15}  # fmt: skip


def test_a_malformed_tier_and_a_refused_approval_are_one_line_errors(
    task: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = run_cli(
        capsys, "enrich", "propose", "--task", task, "--enricher", PARTY["Org4"], "--tier", "100"
    )
    _, out, _ = run_cli(
        capsys, "enrich", "propose", "--task", task, "--enricher", PARTY["Org4"],
        "--tier", "100:10", "--json",
    )  # fmt: skip
    plan = json.loads(out)["plan"]["id"]
    twice = run_cli(capsys, "enrich", "approve", "--plan", plan)

    assert bad == (
        2,
        "",
        "fedledger: EnrichmentError: a tier is GAIN_BP:CREDITS, e.g. 100:10; got '100'\n",
    )
    assert twice[0] == 2
    assert twice[2].startswith(
        f"fedledger: rejected by the chaincode: party {PARTY['Org1']} already approved {plan} "
    )
