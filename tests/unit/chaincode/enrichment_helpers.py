"""Helpers for the enrichment tests: a consortium whose task has an accepted round, and plans.

Building the starting point costs real cryptography (three proven updates, two verified
decryption shares), so it is built once per test session (:func:`template`) and every test works
on its own fork of it (:func:`consortium`). The template's router also carries the test-only
escrow module, so the conservation machine can mix escrow scripts with plans.

Parties: Org1 (coordinator, minter, participant, 100 samples), Org2 (participant, 200 samples,
also registered as an enricher so the "enricher is a participant" rule can be tried), Org3
(participant, 300 samples), Org1's second user (a registered trainer outside the task), Org4
(the enricher) and an unregistered Org2 user. Round 1 was accepted by the reports 8000 and 8200
(a majority of 3): the base median is 8000 basis points.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import escrow_router
from cc_helpers import party_json
from support.identities import make_identity
from training_helpers import VALUE_COUNT, Setup, pid

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger, ManualClock
from fedledger.protocol.enrichment import sealed_size
from fedledger_chaincode.core.contract import build_router

ORG1 = make_identity("Org1MSP", "User1@org1")
ORG1_B = make_identity("Org1MSP", "User2@org1")
ORG2 = make_identity("Org2MSP", "User1@org2")
ORG3 = make_identity("Org3MSP", "User1@org3")
ENRICHER = make_identity("Org4MSP", "User1@org4")
OUTSIDER = make_identity("Org2MSP", "User9@org2")  # never registered
PARTICIPANTS = (ORG1, ORG2, ORG3)

START = 1_800_000_000
BASE_HASH = "a1" * 32
BASE_MEDIAN = 8000  # decided by the first two reports: lower median of 8000, 8200
ENRICHED_HASH = "e5" * 32
TIERS = [
    {"min_gain_bp": 100, "payment": 10},
    {"min_gain_bp": 300, "payment": 30},
    {"min_gain_bp": 1000, "payment": 100},
]
DELIVERY_IN = 3600
EVALUATION_IN = 7200


def _report(weights_hash: str, accuracy: int) -> str:
    """A ReportResult argument (the base model's accuracy 0: a round gains what it reports)."""
    return json.dumps(
        {"weights_hash": weights_hash, "accuracy_bp": accuracy, "base_accuracy_bp": 0}
    )


def decide_round(setup: Setup, task: str, number: int, accuracies: list[int], digest: str) -> None:
    """Run round ``number`` (already open) to its decision with the given reports."""
    for contract in setup.participants:
        setup.submit_update(contract, task, number)
    setup.outsider.submit("CloseRound", task, str(number))
    for contract in setup.participants[:2]:
        share = setup.share(contract, task, number)
        contract.submit("SubmitDecryptionShare", task, str(number), share)
    for contract, accuracy in zip(setup.participants, accuracies, strict=True):
        answer = json.loads(
            contract.submit("ReportResult", task, str(number), _report(digest, accuracy))
        )
        if answer["round"]["status"] != "closed":
            return


@cache
def template() -> tuple[InMemoryLedger, str, int]:
    """The consortium with round 1 of its task accepted: (ledger, task id, clock seconds)."""
    clock = ManualClock(start_seconds=START)
    router = build_router()
    escrow_router.register(router)
    ledger = InMemoryLedger(clock=clock, router=router)
    coordinator = ledger.contract(ORG1)
    coordinator.submit("RegisterParty", party_json(["coordinator", "trainer"], seed=1))
    ledger.contract(ORG2).submit("RegisterParty", party_json(["enricher", "trainer"], seed=2))
    ledger.contract(ORG3).submit("RegisterParty", party_json(["trainer"], seed=3))
    ledger.contract(ORG1_B).submit("RegisterParty", party_json(["trainer"], seed=5))
    ledger.contract(ENRICHER).submit("RegisterParty", party_json(["enricher"], seed=4))
    setup = Setup(ledger, coordinator, [ledger.contract(ORG2), ledger.contract(ORG3)],
                  ledger.contract(ORG1_B))  # fmt: skip
    task = setup.active_task()
    coordinator.submit("OpenRound", task, "1")
    decide_round(setup, task, 1, [8000, 8200, 8400], BASE_HASH)
    return ledger, task, clock() // 1_000_000_000


def envelope(seed: int | None = None) -> str:
    """A stand-in for a model envelope of the right length (the chaincode cannot open it)."""
    size = sealed_size(VALUE_COUNT)
    raw = secrets.token_bytes(size) if seed is None else bytes([seed % 256]) * size
    return base64.b64encode(raw).decode("ascii")


@dataclass
class Consortium:
    """One test's fork of the template, with contracts for every party and plan helpers."""

    ledger: InMemoryLedger
    clock: ManualClock
    task: str
    contracts: dict[str, InMemoryContract] = field(default_factory=dict)

    def of(self, identity: Identity) -> InMemoryContract:
        return self.ledger.contract(identity)

    @property
    def participants(self) -> list[InMemoryContract]:
        return [self.of(i) for i in PARTICIPANTS]

    @property
    def ids(self) -> list[str]:
        return [pid(i) for i in PARTICIPANTS]

    @property
    def enricher_id(self) -> str:
        return pid(ENRICHER)

    @property
    def now(self) -> int:
        return self.clock() // 1_000_000_000

    def plan_fields(self, **overrides: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "task_id": self.task,
            "enricher": self.enricher_id,
            "tiers": TIERS,
            "delivery_deadline": self.now + DELIVERY_IN,
            "evaluation_deadline": self.now + EVALUATION_IN,
        }
        fields.update(overrides)
        return {k: v for k, v in fields.items() if v is not None}

    def plan_json(self, **overrides: Any) -> str:
        return json.dumps(self.plan_fields(**overrides))

    def propose(self, proposer: Identity = ORG1, **overrides: Any) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(
            self.of(proposer).submit("ProposePlan", self.plan_json(**overrides))
        )
        return answer

    def mint(self, amount: int = 1000) -> None:
        for party in self.ids:
            self.of(ORG1).submit("Mint", party, str(amount))

    def active_plan(self, **overrides: Any) -> str:
        """Propose as Org1 and approve by Org2 and Org3; return the plan id."""
        plan = str(self.propose(**overrides)["id"])
        for identity in PARTICIPANTS[1:]:
            self.of(identity).submit("ApprovePlan", plan)
        return plan

    def delivery_json(self, weights_hash: str = ENRICHED_HASH, **envelopes: str) -> str:
        sealed = {party: envelope(i) for i, party in enumerate(self.ids)}
        sealed.update(envelopes)
        return json.dumps({"weights_hash": weights_hash, "envelopes": sealed})

    def delivered_plan(self, **overrides: Any) -> str:
        plan = self.active_plan(**overrides)
        self.of(ENRICHER).submit("DeliverEnrichment", plan, self.delivery_json())
        return plan

    def report(
        self, plan: str, identity: Identity, accuracy: int, weights_hash: str = ENRICHED_HASH
    ) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(
            self.of(identity).submit("ReportEnrichment", plan, report_json(weights_hash, accuracy))
        )
        return answer

    def plan(self, plan: str) -> dict[str, Any]:
        view: dict[str, Any] = json.loads(self.of(ORG1_B).evaluate("GetPlan", plan))
        return view

    def balance(self, account: str) -> int:
        return int(json.loads(self.of(ORG1_B).evaluate("BalanceOf", account)))

    def current_model(self) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.of(ORG1_B).evaluate("GetCurrentModel", self.task))
        return answer

    def setup(self) -> Setup:
        """The training helpers' view of this consortium (for running further rounds)."""
        return Setup(self.ledger, self.of(ORG1), [self.of(ORG2), self.of(ORG3)], self.of(ORG1_B))


def consortium(*, mint: int | None = 1000) -> Consortium:
    """A fresh fork of the template; each participant holds ``mint`` credits (None: no mint)."""
    ledger, task, seconds = template()
    clock = ManualClock(start_seconds=seconds + 1)
    fork = Consortium(ledger.fork(clock=clock), clock, task)
    if mint is not None:
        fork.mint(mint)
    return fork


def report_json(weights_hash: str, accuracy: int) -> str:
    """A ReportEnrichment argument."""
    return json.dumps({"weights_hash": weights_hash, "accuracy_bp": accuracy})
