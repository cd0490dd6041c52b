"""Conservation of credits with paid predictions: supply = balances + escrows, after every step.

(The enrichment plans have the same property in ``test_cc_token_conservation.py``; the two
machines share the token rules and differ in the paying feature they drive.)
A Hypothesis rule-based machine drives the real contract on the in-memory ledger through random
sequences of mints, transfers, escrow scripts (fund, pay, refund, pro-rata funding and payouts,
several per transaction, through the test-only escrow module), paid predictions (requests into
escrow, receipts paying a fee and a pro-rata split, reclaims after the deadline, by any caller, at
any time the clock has reached) and calls the contract must reject.
A plain-Python model of the rules predicts every balance and every rejection's exact message;
each rejection is checked to change nothing, and after every step the ledger's audit must match
the model and conserve the supply.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cc_helpers import reject
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from support.identities import make_identity
from token_helpers import audit, escrow, escrow_ledger, register, script
from token_model import Rejected, TokenModel
from training_helpers import WEIGHTS, task_json

from fedledger.ledger.memory import ManualClock
from fedledger.protocol.assets import party_id
from fedledger.protocol.fields import MAX_INT64
from fedledger.protocol.predictions import split_payment
from fedledger.protocol.prorata import split_pro_rata

# Org1's two users may mint (the default minter Org1MSP); Org2 and Org3 may not. The outsider
# is never registered.
MINTER = make_identity("Org1MSP", "User1@org1")
MINTER_2 = make_identity("Org1MSP", "User2@org1")
ORG2 = make_identity("Org2MSP", "User1@org2")
ORG3 = make_identity("Org3MSP", "User1@org3")
OUTSIDER = make_identity("Org2MSP", "User9@org2")
REGISTERED = (MINTER, MINTER_2, ORG2, ORG3)
EVERYONE = (*REGISTERED, OUTSIDER)
IDS = [party_id(i.msp_id, i.certificate_pem) for i in EVERYONE]
OUTSIDER_ID = IDS[-1]
ESCROWS = ("e0", "e1", "e2")

identities = st.sampled_from(EVERYONE)
party_ids = st.sampled_from(IDS)
amounts = st.integers(1, 150)
step_amounts = st.integers(0, 150)
weights = st.dictionaries(party_ids, st.integers(1, 5), min_size=1, max_size=4)
refs = st.sampled_from(ESCROWS)
steps = st.one_of(
    st.tuples(st.just("fund"), refs, party_ids, step_amounts),
    st.tuples(st.just("pay"), refs, party_ids, step_amounts),
    st.tuples(st.just("refund"), refs),
    st.tuples(st.just("fund_pro_rata"), refs, step_amounts, weights),
    st.tuples(st.just("pay_pro_rata"), refs, step_amounts, weights),
    st.tuples(st.just("transfer"), party_ids, party_ids, step_amounts),
)
# The task's participants and declared samples, and two offers: (provider, price, fee_bp).
SAMPLES = {IDS[0]: 100, IDS[2]: 200, IDS[3]: 300}
OFFERS = ((ORG2, 7, 2500), (ORG3, 13, 3333))
INPUT = hashlib.sha256(b"input").hexdigest()
bad_amounts = st.sampled_from(["0", "-4", "1.5", "false", "[1]", str(MAX_INT64 + 1), "7 7"])


@dataclass
class Request:
    """What the model knows of a paid prediction request."""

    consumer: str
    provider: str
    price: int
    fee_bp: int
    deadline: int
    status: str = "open"


class Model(TokenModel):
    """The token rules, and paid prediction requests over them."""

    def __init__(self) -> None:
        super().__init__(OUTSIDER_ID)
        self.requests: dict[str, Request] = {}

    def copy_extra(self, clone: Model) -> None:
        clone.requests = {k: Request(**vars(v)) for k, v in self.requests.items()}

    def _registered(self, caller: str) -> None:
        if caller == OUTSIDER_ID:
            raise Rejected(f"caller {caller} is not a registered party; call RegisterParty first")

    def request(self, caller: str, price: int) -> None:
        """The checks of RequestPrediction (the escrow is booked once the id is known)."""
        self._registered(caller)
        self._debit(caller, price)

    def book_request(self, request_id: str, request: Request) -> None:
        self.requests[request_id] = request
        self._move(request.consumer, f"escrow:request:{request_id}", request.price)

    def _open(self, request_id: str) -> Request:
        request = self.requests[request_id]
        if request.status == "receipted":
            raise Rejected(f"prediction request {request_id} already has a receipt")
        if request.status == "reclaimed":
            raise Rejected(f"prediction request {request_id} was reclaimed by its consumer")
        return request

    def receipt(self, caller: str, request_id: str, now: int) -> None:
        request = self.requests[request_id]
        self._registered(caller)
        if caller != request.provider:
            raise Rejected(
                f"only the provider {request.provider} of prediction request {request_id} may "
                f"submit its receipt; {caller} may not"
            )
        self._open(request_id)
        if now >= request.deadline:
            raise Rejected(
                f"prediction request {request_id} expired at {request.deadline}; "
                f"a receipt at {now} is too late"
            )
        account = f"escrow:request:{request_id}"
        fee, rest = split_payment(request.price, request.fee_bp)
        if fee:
            self._move(account, request.provider, fee)
        for party, part in split_pro_rata(rest, SAMPLES).items():
            if part:
                self._move(account, party, part)
        request.status = "receipted"

    def reclaim(self, caller: str, request_id: str, now: int) -> None:
        request = self.requests[request_id]
        self._registered(caller)
        if caller != request.consumer:
            raise Rejected(
                f"only the consumer {request.consumer} of prediction request {request_id} may "
                f"reclaim it; {caller} may not"
            )
        self._open(request_id)
        if now < request.deadline:
            raise Rejected(
                f"prediction request {request_id} is open until {request.deadline}; "
                f"it cannot be reclaimed at {now}"
            )
        self._move(f"escrow:request:{request_id}", request.consumer, request.price)
        request.status = "reclaimed"


class Conservation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.ledger = escrow_ledger(self.clock)
        register(self.ledger, *REGISTERED)
        self.model = Model()
        self.offers = self._open_market()
        # Everyone registered starts with credits, so that requests mostly find a balance.
        for party in IDS[:-1]:
            self._expect(MINTER, lambda model, p=party: model.mint(p, 60), "Mint", party, "60")

    def _open_market(self) -> list[str]:
        """An active task of Org1's first user, Org2 and Org3, and one offer by each of the two."""
        proposer = self.ledger.contract(MINTER)
        participants = [{"party": p, "samples": n} for p, n in SAMPLES.items()]
        task = json.loads(proposer.submit("ProposeTask", task_json([], participants=participants)))
        proposer.submit("PutModelWeights", task["id"], base64.b64encode(WEIGHTS).decode())
        for identity in (MINTER, ORG2, ORG3):
            self.ledger.contract(identity).submit("ApproveTask", task["id"])
        offers = []
        for provider, price, fee_bp in OFFERS:
            offer = {"price": price, "fee_bp": fee_bp, "endpoint": "h:1", "params": "ckks-n8192-d3"}
            created = self.ledger.contract(provider).submit(
                "CreateOffer", task["id"], json.dumps(offer)
            )
            offers.append(json.loads(created)["id"])
        return offers

    @property
    def now(self) -> int:
        return self.clock() // 1_000_000_000

    def _expect(self, identity: Any, predict: Any, function: str, *args: str) -> None:
        """Submit a call; the model says whether it commits or which message rejects it."""
        trial = self.model.copy()
        try:
            predict(trial)
        except Rejected as expected:
            assert reject(self.ledger, self.ledger.contract(identity), function, *args) == str(
                expected
            )
            return
        self.ledger.contract(identity).submit(function, *args)
        self.model = trial

    @rule(identity=st.sampled_from((MINTER, MINTER_2)), recipient=party_ids, value=amounts)
    def mint(self, identity: Any, recipient: str, value: int) -> None:
        self._expect(
            identity, lambda model: model.mint(recipient, value), "Mint", recipient, str(value)
        )

    @rule(identity=st.sampled_from((ORG2, ORG3, OUTSIDER)), recipient=party_ids, value=amounts)
    def mint_by_another_org(self, identity: Any, recipient: str, value: int) -> None:
        message = reject(self.ledger, self.ledger.contract(identity), "Mint", recipient, str(value))

        assert message == (
            "only identities of the minter organisation Org1MSP may mint credits; "
            f"the caller belongs to {identity.msp_id}"
        )

    @precondition(lambda machine: machine.model.supply >= 3)
    @rule(recipient=party_ids, excess=st.integers(1, 3))
    def mint_past_int64(self, recipient: str, excess: int) -> None:
        value = MAX_INT64 - self.model.supply + excess
        self._expect(
            MINTER, lambda model: model.mint(recipient, value), "Mint", recipient, str(value)
        )

    def _transfer(self, identity: Any, recipient: str, value: int) -> None:
        sender = party_id(identity.msp_id, identity.certificate_pem)

        def predict(model: Model) -> None:
            if sender == OUTSIDER_ID:
                raise Rejected(
                    f"caller {sender} is not a registered party; call RegisterParty first"
                )
            model.transfer(sender, recipient, value)

        self._expect(identity, predict, "Transfer", recipient, str(value))

    @rule(recipient=party_ids, data=st.data())
    def transfer_by_a_holder(self, recipient: str, data: st.DataObject) -> None:
        holders = [i for i, p in zip(EVERYONE, IDS, strict=True) if self.model.accounts.get(p)]
        identity = data.draw(st.sampled_from(holders or EVERYONE))
        held = self.model.accounts.get(party_id(identity.msp_id, identity.certificate_pem), 0)
        # Mostly within the sender's balance, sometimes just over it.
        self._transfer(identity, recipient, data.draw(st.integers(1, held + 2)))

    @rule(identity=identities, recipient=party_ids, value=amounts)
    def transfer_by_anyone(self, identity: Any, recipient: str, value: int) -> None:
        self._transfer(identity, recipient, value)

    @rule(function=st.sampled_from(["Mint", "Transfer"]), recipient=party_ids, text=bad_amounts)
    def bad_amount(self, function: str, recipient: str, text: str) -> None:
        message = reject(self.ledger, self.ledger.contract(MINTER), function, recipient, text)

        assert message.startswith("amount must be ")

    @rule(recipient=refs, value=amounts)
    def transfer_into_an_escrow(self, recipient: str, value: int) -> None:
        message = reject(
            self.ledger, self.ledger.contract(ORG2), "Transfer", escrow(recipient), str(value)
        )

        assert message == (
            f"{escrow(recipient)} is an escrow account; only the contract's rules move credits "
            "into it"
        )

    @rule(moves=st.lists(steps, min_size=1, max_size=6))
    def escrow_script(self, moves: list[tuple[Any, ...]]) -> None:
        def predict(model: Model) -> None:
            for step in moves:
                model.run(step)

        self._expect(ORG3, predict, "EscrowScript", script(*[list(s) for s in moves]))

    @rule(identity=identities, which=st.integers(0, len(OFFERS) - 1), ttl=st.integers(5, 20))
    def request_prediction(self, identity: Any, which: int, ttl: int) -> None:
        caller = party_id(identity.msp_id, identity.certificate_pem)
        provider, price, fee_bp = OFFERS[which]
        args = ("RequestPrediction", self.offers[which], INPUT, str(ttl))
        try:
            self.model.copy().request(caller, price)
        except Rejected as expected:
            assert reject(self.ledger, self.ledger.contract(identity), *args) == str(expected)
            return
        paid = json.loads(self.ledger.contract(identity).submit(*args))
        seller = party_id(provider.msp_id, provider.certificate_pem)
        self.model.book_request(paid["id"], Request(caller, seller, price, fee_bp, self.now + ttl))

    def _party_of(self, party: str, data: st.DataObject) -> Any:
        """Mostly the identity of ``party``, sometimes anybody."""
        if data.draw(st.integers(0, 3)):
            return EVERYONE[IDS.index(party)]
        return data.draw(identities)

    @precondition(lambda machine: machine.model.requests)
    @rule(data=st.data())
    def submit_receipt(self, data: st.DataObject) -> None:
        request_id = data.draw(st.sampled_from(list(self.model.requests)))  # in request order
        identity = self._party_of(self.model.requests[request_id].provider, data)
        caller = party_id(identity.msp_id, identity.certificate_pem)
        self._expect(
            identity,
            lambda model: model.receipt(caller, request_id, self.now),
            "SubmitReceipt",
            request_id,
            "c" * 64,
        )

    @precondition(lambda machine: machine.model.requests)
    @rule(data=st.data())
    def reclaim_prediction(self, data: st.DataObject) -> None:
        request_id = data.draw(st.sampled_from(list(self.model.requests)))  # in request order
        identity = self._party_of(self.model.requests[request_id].consumer, data)
        caller = party_id(identity.msp_id, identity.certificate_pem)
        self._expect(
            identity,
            lambda model: model.reclaim(caller, request_id, self.now),
            "ReclaimPrediction",
            request_id,
        )

    @rule(seconds=st.integers(1, 60))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @invariant()
    def supply_equals_balances_plus_escrows_and_matches_the_model(self) -> None:
        state = audit(self.ledger, ORG2)
        held = sum(state["balances"].values()) + sum(state["escrows"].values())
        assert state["total_supply"] == held == self.model.supply
        assert {**state["balances"], **state["escrows"]} == self.model.accounts
        assert json.loads(self.ledger.contract(ORG3).evaluate("TotalSupply")) == held


def test_the_invariant_fails_when_the_model_and_the_ledger_disagree() -> None:
    # A check of the harness itself: a wrong model must fail the machine.
    machine = Conservation()
    machine.model.supply = 1  # the model now believes in a credit the ledger never minted
    try:
        machine.supply_equals_balances_plus_escrows_and_matches_the_model()
    except AssertionError:
        return
    raise AssertionError("the invariant accepted a supply the ledger does not have")


Conservation.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_credits_are_conserved_by_every_prediction_transaction = Conservation.TestCase
