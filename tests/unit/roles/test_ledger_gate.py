"""The provider's ledger gate on the in-memory ledger running the real contract.

The consortium's task (participants Org1-3, samples 40/60/80) is active; Org2 offers predictions
at 10 credits with a 20% fee and its gate serves that offer; the registered stranger (Org9) is the
consumer with 100 credits. The gate's clock is the ledger's, so deadlines move without sleeping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from support.consortium import Consortium

from fedledger.errors import AssetNotFound, PredictionError
from fedledger.inference.params import DEFAULT_PARAMS
from fedledger.ledger.memory import InMemoryContract
from fedledger.protocol.assets import party_id
from fedledger.protocol.predictions import PredictionOffer
from fedledger.roles.prediction.gate import LedgerGate
from fedledger.roles.prediction.market import (
    create_offer,
    get_receipt,
    get_request,
    pay_for,
    reclaim,
)

CIPHERTEXT = b"the consumer's input ciphertext"
INPUT = hashlib.sha256(CIPHERTEXT).hexdigest()
RESPONSE = hashlib.sha256(b"encrypted logits").hexdigest()
MARGIN = 5


@dataclass
class Market:
    consortium: Consortium
    task_id: str
    offer: PredictionOffer
    gate: LedgerGate

    @property
    def consumer(self) -> InMemoryContract:
        return self.consortium.stranger

    @property
    def provider(self) -> InMemoryContract:
        return self.consortium.members[1].contract

    def pay(self, ttl: int = 60, ciphertext: bytes = CIPHERTEXT) -> str:
        return pay_for(self.consumer, self.offer.id, ciphertext, ttl).id

    def balance(self, contract: InMemoryContract) -> int:
        account = party_id(contract.identity.msp_id, contract.identity.certificate_pem)
        return int(contract.evaluate("BalanceOf", account))


def _offer(consortium: Consortium, task_id: str, index: int) -> PredictionOffer:
    contract = consortium.members[index].contract
    return create_offer(
        contract, task_id, price=10, fee_bp=2000, endpoint="127.0.0.1:7443", params=DEFAULT_PARAMS
    )


@pytest.fixture
def market() -> Iterator[Market]:
    with Consortium() as consortium:
        task_id = consortium.propose()
        for member in consortium.members:
            member.role.join(task_id, timeout=1)
        offer = _offer(consortium, task_id, 1)
        stranger = consortium.stranger.identity
        consortium.members[0].contract.submit(
            "Mint", party_id(stranger.msp_id, stranger.certificate_pem), "100"
        )
        gate = LedgerGate(
            consortium.members[1].contract,
            [offer.id],
            clock=consortium.now,
            margin_seconds=MARGIN,
            read_wait_seconds=0,
        )
        yield Market(consortium, task_id, offer, gate)


def _refused(gate: LedgerGate, request_id: str, input_sha256: str = INPUT) -> PredictionError:
    with pytest.raises(PredictionError) as refused:
        gate.admit(request_id, input_sha256)
    return refused.value


def test_a_paid_matching_request_is_admitted_and_served_with_a_receipt_that_pays(
    market: Market,
) -> None:
    # Prepare
    request_id = market.pay()
    before = market.balance(market.provider)

    # Execute
    market.gate.admit(request_id, INPUT)
    market.gate.served(request_id, INPUT, RESPONSE)

    # Assert: fee 2 and Org2's share of the 8 left (60 of 180 samples: 2.67 -> 3)
    receipt = get_receipt(market.consumer, request_id)
    assert (receipt.response_sha256, receipt.provider_fee) == (RESPONSE, 2)
    assert get_request(market.consumer, request_id).status == "receipted"
    assert market.balance(market.provider) == before + 2 + receipt.shares[receipt.provider]
    assert market.gate.receipts == {request_id: RESPONSE}


def test_a_replayed_request_is_refused_as_already_served_by_this_gate_and_by_a_fresh_one(
    market: Market,
) -> None:
    request_id = market.pay()
    market.gate.admit(request_id, INPUT)
    market.gate.served(request_id, INPUT, RESPONSE)
    restarted = LedgerGate(
        market.provider, [market.offer.id], clock=market.consortium.now, read_wait_seconds=0
    )

    again = _refused(market.gate, request_id)
    after_restart = _refused(restarted, request_id)

    assert (again.code, again.message) == (
        "ALREADY_EXISTS",
        f"request {request_id} was already served",
    )
    assert (after_restart.code, after_restart.message) == (again.code, again.message)


def test_a_request_being_served_is_not_admitted_twice(market: Market) -> None:
    request_id = market.pay()
    market.gate.admit(request_id, INPUT)

    refused = _refused(market.gate, request_id)
    market.gate.release(request_id)

    assert refused.code == "ALREADY_EXISTS"
    market.gate.admit(request_id, INPUT)  # released: it may be sent again


def test_an_unpaid_or_malformed_request_id_is_refused(market: Market) -> None:
    unpaid = _refused(market.gate, "req-" + "0" * 32)
    malformed = _refused(market.gate, "live-1")

    assert (unpaid.code, unpaid.message) == (
        "FAILED_PRECONDITION",
        f"request req-{'0' * 32} is not a paid request on the ledger",
    )
    assert malformed.message == "request live-1 is not a paid request on the ledger"


def test_an_input_other_than_the_one_paid_for_is_refused(market: Market) -> None:
    request_id = market.pay()
    other = hashlib.sha256(b"another input").hexdigest()

    refused = _refused(market.gate, request_id, other)

    assert (refused.code, refused.message) == (
        "FAILED_PRECONDITION",
        f"the input's SHA-256 {other} is not the {INPUT} paid for in request {request_id}",
    )
    market.gate.admit(request_id, INPUT)  # the refusal reserved nothing


def test_a_request_for_another_providers_offer_is_refused(market: Market) -> None:
    other_offer = _offer(market.consortium, market.task_id, 2)
    request_id = pay_for(market.consumer, other_offer.id, CIPHERTEXT, 60).id

    refused = _refused(market.gate, request_id)

    assert refused.message == f"request {request_id} is for offer {other_offer.id}, not served here"


def test_a_request_too_close_to_its_deadline_is_refused(market: Market) -> None:
    request_id = market.pay(ttl=30)
    deadline = get_request(market.consumer, request_id).deadline
    market.consortium.clock.advance(30 - MARGIN + 1)

    refused = _refused(market.gate, request_id)

    assert (refused.code, refused.message) == (
        "FAILED_PRECONDITION",
        f"request {request_id} expires at {deadline}, 4 s from now; "
        f"it needs {MARGIN} s to be served and receipted",
    )


def test_a_reclaimed_request_is_refused(market: Market) -> None:
    request_id = market.pay(ttl=10)
    market.consortium.clock.advance(10)
    reclaim(market.consumer, request_id)

    refused = _refused(market.gate, request_id)

    assert refused.message == f"request {request_id} was reclaimed by its consumer"


def test_a_receipt_the_ledger_refuses_is_reported_and_not_recorded(market: Market) -> None:
    # Prepare: admitted, but the consumer reclaims before the receipt lands
    request_id = market.pay(ttl=10)
    market.gate.admit(request_id, INPUT)
    market.consortium.clock.advance(10)
    reclaim(market.consumer, request_id)

    # Execute
    with pytest.raises(PredictionError) as refused:
        market.gate.served(request_id, INPUT, RESPONSE)

    # Assert
    assert refused.value.code == "FAILED_PRECONDITION"
    assert refused.value.message == (
        f"the ledger refused the receipt of {request_id}: "
        f"prediction request {request_id} was reclaimed by its consumer"
    )
    assert market.gate.receipts == {}


class LaggingPeer:
    """The provider's contract through a peer a block behind the consumer's: its first
    ``misses`` reads of the request find nothing."""

    def __init__(self, contract: InMemoryContract, misses: int) -> None:
        self.contract, self.misses = contract, misses

    def evaluate(self, function: str, *args: str) -> bytes:
        if function == "GetPredictionRequest" and self.misses > 0:
            self.misses -= 1
            raise AssetNotFound(f"prediction request {args[0]} does not exist", status=404)
        return self.contract.evaluate(function, *args)

    def submit(self, function: str, *args: str) -> bytes:
        return self.contract.submit(function, *args)


def test_a_payment_the_providers_peer_has_not_committed_yet_is_waited_for(market: Market) -> None:
    request_id = market.pay()
    peer = LaggingPeer(market.provider, misses=2)
    gate = LedgerGate(peer, [market.offer.id], clock=market.consortium.now, read_wait_seconds=5)  # type: ignore[arg-type]

    gate.admit(request_id, INPUT)

    assert peer.misses == 0
