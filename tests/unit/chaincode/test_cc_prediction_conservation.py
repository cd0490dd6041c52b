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
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from token_helpers import escrow_ledger, register
from token_machine import (
    EVERYONE,
    IDS,
    MINTER,
    ORG2,
    ORG3,
    OUTSIDER_ID,
    REGISTERED,
    TokenRules,
    assert_a_wrong_model_fails,
    identities,
    slow_machine_test,
)
from token_model import Rejected, TokenModel
from training_helpers import WEIGHTS, task_json

from fedledger.ledger.memory import ManualClock
from fedledger.protocol.assets import party_id
from fedledger.protocol.predictions import split_payment
from fedledger.protocol.prorata import split_pro_rata

# The task's participants and declared samples, and two offers: (provider, price, fee_bp).
SAMPLES = {IDS[0]: 100, IDS[2]: 200, IDS[3]: 300}
OFFERS = ((ORG2, 7, 2500), (ORG3, 13, 3333))
INPUT = hashlib.sha256(b"input").hexdigest()


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

    def _open_for(self, caller: str, request_id: str, role: str, act: str) -> Request:
        """The open request, when ``caller`` is its ``role`` (provider or consumer) and may
        ``act`` on it."""
        request = self.requests[request_id]
        self._registered(caller)
        holder = request.provider if role == "provider" else request.consumer
        if caller != holder:
            raise Rejected(
                f"only the {role} {holder} of prediction request {request_id} may {act}; "
                f"{caller} may not"
            )
        return self._open(request_id)

    def receipt(self, caller: str, request_id: str, now: int) -> None:
        request = self._open_for(caller, request_id, "provider", "submit its receipt")
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
        request = self._open_for(caller, request_id, "consumer", "reclaim it")
        if now < request.deadline:
            raise Rejected(
                f"prediction request {request_id} is open until {request.deadline}; "
                f"it cannot be reclaimed at {now}"
            )
        self._move(f"escrow:request:{request_id}", request.consumer, request.price)
        request.status = "reclaimed"


class Conservation(TokenRules):
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

    def _close_request(self, data: st.DataObject, by: str, function: str, *extra: str) -> None:
        """Receipt (``by`` "provider") or reclaim (``by`` "consumer") a drawn request, mostly by
        that party; the model predicts the outcome."""
        request_id = data.draw(st.sampled_from(list(self.model.requests)))  # in request order
        identity = self._party_of(getattr(self.model.requests[request_id], by), data)
        caller = party_id(identity.msp_id, identity.certificate_pem)
        close = Model.receipt if by == "provider" else Model.reclaim
        self._expect(
            identity,
            lambda model: close(model, caller, request_id, self.now),
            function,
            request_id,
            *extra,
        )

    @precondition(lambda machine: machine.model.requests)
    @rule(data=st.data())
    def submit_receipt(self, data: st.DataObject) -> None:
        self._close_request(data, "provider", "SubmitReceipt", "c" * 64)

    @precondition(lambda machine: machine.model.requests)
    @rule(data=st.data())
    def reclaim_prediction(self, data: st.DataObject) -> None:
        self._close_request(data, "consumer", "ReclaimPrediction")

    @rule(seconds=st.integers(1, 60))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)


def test_the_invariant_fails_when_the_model_and_the_ledger_disagree() -> None:
    assert_a_wrong_model_fails(Conservation())


test_credits_are_conserved_by_every_prediction_transaction = slow_machine_test(Conservation, 40)
