"""Conservation of credits: total supply = all balances + all escrows, after every transaction.

A Hypothesis rule-based machine drives the real contract on the in-memory ledger through random
sequences of mints, transfers, escrow scripts (fund, pay, refund, pro-rata funding and payouts,
several per transaction, through the test-only escrow module), the life of enrichment plans
(proposal, approvals with the escrow funded on the last one, delivery, reports, settlement with
payment and refunds, adoption, all at random times) and calls the contract must reject. A
plain-Python model of the rules predicts every balance and every rejection's exact message; each
rejection is checked to change nothing, and after every step the ledger's audit must match the
model and conserve the supply. The ledger is a fork of the enrichment tests' consortium, whose
task has an accepted round (base median 8000 basis points).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from enrichment_helpers import (
    BASE_HASH,
    BASE_MEDIAN,
    DELIVERY_IN,
    ENRICHER,
    EVALUATION_IN,
    PARTICIPANTS,
    consortium,
    envelope,
    report_json,
)
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from token_machine import (
    MINTER,
    OUTSIDER_ID,
    REGISTERED,
    TokenRules,
    assert_a_wrong_model_fails,
    slow_machine_test,
)
from token_model import Rejected, TokenModel

from fedledger.protocol.assets import party_id
from fedledger.protocol.enrichment import PlanTier, pick_tier
from fedledger.protocol.prorata import split_pro_rata
from fedledger.protocol.rounds import lower_median

# Org1, Org2 and Org3 are the task's participants (samples 100, 200, 300); Org4 is the enricher.
# The minters, the other registered parties and the outsider are token_machine's.
PARTICIPANT_IDS = [party_id(i.msp_id, i.certificate_pem) for i in PARTICIPANTS]
SAMPLES = dict(zip(PARTICIPANT_IDS, (100, 200, 300), strict=True))
ENRICHER_ID = party_id(ENRICHER.msp_id, ENRICHER.certificate_pem)
QUORUM = 2


def _tiers(pairs: list[tuple[int, int]]) -> list[dict[str, int]]:
    gains = sorted({gain for gain, _ in pairs})
    payments = sorted({payment for _, payment in pairs})
    return [{"min_gain_bp": g, "payment": p} for g, p in zip(gains, payments, strict=False)]


tiers = st.lists(st.tuples(st.integers(1, 2500), st.integers(1, 150)), min_size=1, max_size=3).map(
    _tiers
)
accuracies = st.integers(7000, 10_000)


class Model(TokenModel):
    """The token rules, and the enrichment plans' life over them."""

    def __init__(self) -> None:
        super().__init__(OUTSIDER_ID)
        self.plans: dict[str, dict[str, Any]] = {}
        self.current = (BASE_HASH, BASE_MEDIAN)  # the task's current model: digest, median

    def copy_extra(self, clone: Model) -> None:
        clone.plans = copy.deepcopy(self.plans)
        clone.current = self.current

    # ------------------------------------------------------------------ enrichment plans
    def propose(self, plan: str, proposer: str, tier_list: list[dict[str, int]], now: int) -> None:
        self.plans[plan] = {
            "status": "proposed",
            "approvals": {proposer},
            "tiers": tuple(PlanTier(t["min_gain_bp"], t["payment"]) for t in tier_list),
            "max": tier_list[-1]["payment"],
            "escrow": f"escrow:plan:{plan}",
            "delivery": now + DELIVERY_IN,
            "evaluation": now + EVALUATION_IN,
            "base": self.current,
            "digest": hashlib.sha256(plan.encode()).hexdigest(),
            "reports": {},
        }

    def approve(self, plan: str, party: str, now: int) -> None:
        state = self.plans[plan]
        if state["status"] != "proposed":
            raise Rejected(f"{plan} is {state['status']}; only a proposed plan can be approved")
        if party in state["approvals"]:
            raise Rejected(f"party {party} already approved {plan}")
        if now > state["delivery"]:
            raise Rejected(
                f"the delivery deadline {state['delivery']} of {plan} has passed; it can no "
                "longer be approved"
            )
        state["approvals"].add(party)
        if len(state["approvals"]) == len(SAMPLES):
            for funder, part in split_pro_rata(state["max"], SAMPLES).items():
                self.fund_account(state["escrow"], funder, part)
            state["status"] = "active"

    def deliver(self, plan: str, now: int) -> None:
        state = self.plans[plan]
        if state["status"] != "active":
            raise Rejected(f"{plan} is {state['status']}; only an active plan takes a delivery")
        if now > state["delivery"]:
            raise Rejected(f"the delivery deadline {state['delivery']} of {plan} has passed")
        state["status"] = "delivered"

    def report(self, plan: str, party: str, accuracy: int, now: int) -> None:
        state = self.plans[plan]
        if state["status"] != "delivered":
            raise Rejected(
                f"{plan} is {state['status']}; reports are accepted only while it is delivered"
            )
        if now > state["evaluation"]:
            raise Rejected(f"the evaluation deadline {state['evaluation']} of {plan} has passed")
        if party in state["reports"]:
            raise Rejected(f"party {party} already reported on {plan}")
        state["reports"][party] = accuracy

    def settle(self, plan: str, now: int) -> None:
        state = self.plans[plan]
        payment = 0
        if state["status"] == "settled":
            raise Rejected(f"{plan} is already settled")
        if state["status"] == "proposed":
            raise Rejected(f"{plan} is proposed; only an active or delivered plan can be settled")
        if state["status"] == "active" and now <= state["delivery"]:
            raise Rejected(
                f"{plan} cannot be settled before its delivery deadline {state['delivery']}: "
                "nothing is delivered yet"
            )
        if state["status"] == "delivered":
            reports = list(state["reports"].values())
            if len(reports) < len(SAMPLES) and now <= state["evaluation"]:
                raise Rejected(
                    f"{plan} cannot be settled yet: {len(reports)} of {len(SAMPLES)} participants "
                    f"reported and its evaluation deadline {state['evaluation']} has not passed"
                )
            if len(reports) >= QUORUM:
                median = lower_median(reports)
                tier = pick_tier(state["tiers"], median - state["base"][1])
                payment = 0 if tier is None else tier.payment
                if payment and state["base"][0] == self.current[0]:
                    self.current = (state["digest"], median)
        self.pay_account(state["escrow"], ENRICHER_ID, payment)
        self.refund_account(state["escrow"])
        state["status"] = "settled"


class Conservation(TokenRules):
    def __init__(self) -> None:
        super().__init__()
        self.consortium = consortium(mint=None)
        self.ledger = self.consortium.ledger
        self.model = Model()
        for party in PARTICIPANT_IDS:  # enough for a few plans; transfers may drain it
            self._expect(MINTER, lambda model, p=party: model.mint(p, 200), "Mint", party, "200")

    # ------------------------------------------------------------------ enrichment plans
    @property
    def _now(self) -> int:
        return self.consortium.now

    @precondition(lambda machine: len(machine.model.plans) < 3)
    @rule(proposer=st.sampled_from(PARTICIPANTS), tier_list=tiers)
    def propose_plan(self, proposer: Any, tier_list: list[dict[str, int]]) -> None:
        answer = self.consortium.propose(proposer, tiers=tier_list)
        self.model.propose(answer["id"], answer["proposer"], tier_list, self._now)

    def _pick(self, data: st.DataObject, status: str) -> str:
        """A plan, mostly one in ``status`` (where the rule can succeed), sometimes any plan."""
        # In proposal order: plan ids are random, so sorting by id would make the draws flaky.
        fitting = [p for p, state in self.model.plans.items() if state["status"] == status]
        if fitting and data.draw(st.integers(0, 3)):
            return data.draw(st.sampled_from(fitting))
        return data.draw(st.sampled_from(list(self.model.plans)))

    @precondition(lambda machine: machine.model.plans)
    @rule(data=st.data())
    def approve_plan(self, data: st.DataObject) -> None:
        plan = self._pick(data, "proposed")
        missing = [
            identity
            for identity, party in zip(PARTICIPANTS, PARTICIPANT_IDS, strict=True)
            if party not in self.model.plans[plan]["approvals"]
        ]
        approver = data.draw(st.sampled_from(missing or list(PARTICIPANTS)))
        party = party_id(approver.msp_id, approver.certificate_pem)
        now = self._now
        self._expect(approver, lambda model: model.approve(plan, party, now), "ApprovePlan", plan)

    @precondition(lambda machine: machine.model.plans)
    @rule(data=st.data())
    def deliver_enrichment(self, data: st.DataObject) -> None:
        plan = self._pick(data, "active")
        digest = self.model.plans[plan]["digest"]
        sealed = {party: envelope(i) for i, party in enumerate(PARTICIPANT_IDS)}
        delivery = json.dumps({"weights_hash": digest, "envelopes": sealed})
        now = self._now
        self._expect(
            ENRICHER, lambda model: model.deliver(plan, now), "DeliverEnrichment", plan, delivery
        )

    @precondition(lambda machine: machine.model.plans)
    @rule(data=st.data(), reporter=st.sampled_from(PARTICIPANTS), accuracy=accuracies)
    def report_enrichment(self, data: st.DataObject, reporter: Any, accuracy: int) -> None:
        plan = self._pick(data, "delivered")
        party = party_id(reporter.msp_id, reporter.certificate_pem)
        text = report_json(self.model.plans[plan]["digest"], accuracy)
        now = self._now
        self._expect(
            reporter,
            lambda model: model.report(plan, party, accuracy, now),
            "ReportEnrichment",
            plan,
            text,
        )

    @precondition(lambda machine: machine.model.plans)
    @rule(data=st.data(), settler=st.sampled_from((*REGISTERED, ENRICHER)))
    def settle_plan(self, data: st.DataObject, settler: Any) -> None:
        plan = self._pick(data, "delivered")
        now = self._now
        self._expect(settler, lambda model: model.settle(plan, now), "SettlePlan", plan)

    @precondition(
        lambda machine: any(s["status"] == "delivered" for s in machine.model.plans.values())
    )
    @rule(data=st.data(), settler=st.sampled_from((*REGISTERED, ENRICHER)))
    def everyone_reports_then_settle(self, data: st.DataObject, settler: Any) -> None:
        plan = self._pick(data, "delivered")
        for reporter, party in zip(PARTICIPANTS, PARTICIPANT_IDS, strict=True):
            if party in self.model.plans[plan]["reports"]:
                continue
            accuracy = data.draw(accuracies)
            text = report_json(self.model.plans[plan]["digest"], accuracy)
            now = self._now
            self._expect(
                reporter,
                lambda model, p=party, a=accuracy, n=now: model.report(plan, p, a, n),
                "ReportEnrichment",
                plan,
                text,
            )
        now = self._now
        self._expect(settler, lambda model: model.settle(plan, now), "SettlePlan", plan)

    @rule(seconds=st.integers(1, 1500))
    def time_passes(self, seconds: int) -> None:
        self.consortium.clock.advance(seconds)

    @invariant()
    def the_current_model_is_the_last_adopted_enrichment_or_the_round(self) -> None:
        current = self.consortium.current_model()
        assert (current["weights_hash"], current["median_bp"]) == self.model.current


def test_the_invariant_fails_when_the_model_and_the_ledger_disagree() -> None:
    assert_a_wrong_model_fails(Conservation())


test_credits_are_conserved_by_every_transaction = slow_machine_test(Conservation, 60)
