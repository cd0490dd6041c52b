"""Paid predictions: request into escrow, receipt releases it (fee + pro rata), reclaim refunds it.

The market (prediction_helpers): offer by Org2 at 101 credits with a 15% fee; participants'
declared samples Org1 100, Org2 200, Org3 300; the consumer holds 1,000 credits.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cc_helpers import reject
from prediction_helpers import CONSUMER_CREDITS, INPUT, RESPONSE, Market, make_market, offer_json
from training_helpers import WEIGHTS, Setup, pid

from fedledger.ledger.memory import ManualClock
from fedledger.protocol.predictions import request_id
from fedledger.protocol.tokens import parse_transfer_event


@pytest.fixture
def market(setup: Setup, clock: ManualClock) -> Market:
    return make_market(setup, clock)


def _ids(market: Market) -> tuple[str, str, str, str]:
    """(consumer, Org1, Org2 = provider, Org3)."""
    org1, org2, org3 = market.setup.ids
    return pid(market.consumer.identity), org1, org2, org3


def test_a_request_moves_the_price_into_its_escrow_and_binds_the_input_hash(
    market: Market, clock: ManualClock
) -> None:
    # Prepare
    consumer = pid(market.consumer.identity)
    now = clock() // 10**9

    # Execute
    paid = market.request(ttl=30)

    # Assert
    event = market.setup.ledger.event_log()[-1]
    escrow = f"escrow:request:{paid['id']}"
    assert paid["id"] == request_id(event.tx_id)
    assert event.name == "PredictionRequested"
    assert (paid["input_sha256"], paid["price"], paid["consumer"]) == (INPUT, 101, consumer)
    assert (paid["status"], paid["created_at"], paid["deadline"]) == ("open", now, now + 30)
    assert (paid["escrow"], paid["provider"]) == (escrow, market.offer["provider"])
    assert paid["transfers"] == [{"from": consumer, "to": escrow, "value": 101}]
    assert paid["balances"] == {consumer: CONSUMER_CREDITS - 101, escrow: 101}
    stored = market.stored(paid["id"])
    assert stored == {k: v for k, v in paid.items() if k not in ("transfers", "balances")}


def test_a_request_beyond_the_consumers_balance_is_refused_with_the_tokens_message(
    market: Market,
) -> None:
    # Prepare: an offer priced above the consumer's balance
    offer = json.loads(
        market.provider.submit("CreateOffer", market.task_id, offer_json(price=1001))
    )
    consumer = pid(market.consumer.identity)

    # Execute
    message = reject(
        market.setup.ledger, market.consumer, "RequestPrediction", offer["id"], INPUT, "60"
    )

    # Assert
    assert message == f"insufficient balance: {consumer} has 1000 credits, needs 1001"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["offer-x", INPUT, "60"], 'offer id must look like offer-<32 hex digits>, got "offer-x"'),
        (["offer-" + "a" * 32, INPUT, "60"], f"prediction offer offer-{'a' * 32} does not exist"),
        ([None, INPUT.upper(), "60"], "input_sha256 must be 64 lowercase hex digits, got "),
        ([None, INPUT[:-1], "60"], "input_sha256 must be 64 lowercase hex digits, got "),
        ([None, INPUT, "4"], "ttl_seconds must be an integer of at least 5, got 4"),
        ([None, INPUT, "86401"], "ttl_seconds must be at most 86400, got 86401"),
        ([None, INPUT, "60.0"], "ttl_seconds must be an integer of at least 5, got 60.0"),
        ([None, INPUT, "sixty"], "ttl_seconds must be a JSON integer: "),
    ],
)
def test_a_malformed_request_is_refused_with_its_argument_named(
    market: Market, args: list[str | None], expected: str
) -> None:
    values = [a if a is not None else market.offer["id"] for a in args]

    message = reject(market.setup.ledger, market.consumer, "RequestPrediction", *values)

    assert message.startswith(expected)


def test_an_unregistered_identity_cannot_request(market: Market, org1_other_user: object) -> None:
    from support.identities import make_identity

    stranger = market.setup.ledger.contract(make_identity("Org3MSP", "User9@org3"))

    message = reject(
        market.setup.ledger, stranger, "RequestPrediction", market.offer["id"], INPUT, "60"
    )

    assert message.endswith("is not a registered party; call RegisterParty first")


def test_the_receipt_pays_the_fee_and_splits_the_rest_pro_rata_to_declared_samples(
    market: Market,
) -> None:
    # Prepare
    consumer, org1, org2, org3 = _ids(market)
    paid = market.request()
    before = {p: market.balance(p) for p in (org1, org2, org3)}

    # Execute
    receipt = market.receipt(paid["id"])

    # Assert: fee 101 * 1500 // 10000 = 15; the 86 left split 100:200:300 is 14.33, 28.67, 43:
    # floors 14 + 28 + 43 = 85, and the one credit left goes to the largest remainder (Org2)
    escrow = paid["escrow"]
    assert receipt["provider_fee"] == 15
    assert receipt["shares"] == {org1: 14, org2: 29, org3: 43}
    assert receipt["response_sha256"] == RESPONSE
    assert [(t["to"], t["value"]) for t in receipt["transfers"]] == [
        (org2, 15),
        (org1, 14),
        (org2, 29),
        (org3, 43),
    ]
    after = {p: market.balance(p) for p in (org1, org2, org3)}
    assert {p: after[p] - before[p] for p in after} == {org1: 14, org2: 44, org3: 43}
    assert market.balance(escrow) == 0
    assert market.balance(consumer) == CONSUMER_CREDITS - 101
    assert market.stored(paid["id"])["status"] == "receipted"
    stored = json.loads(market.consumer.evaluate("GetPredictionReceipt", paid["id"]))
    assert stored == {k: v for k, v in receipt.items() if k not in ("transfers", "balances")}
    assert market.setup.ledger.event_log()[-1].name == "PredictionReceipted"
    assert parse_transfer_event(receipt).balances[escrow] == 0


def test_a_fee_of_all_basis_points_pays_everything_to_the_provider(market: Market) -> None:
    _, _, org2, _ = _ids(market)
    offer = json.loads(
        market.provider.submit("CreateOffer", market.task_id, offer_json(price=9, fee_bp=10000))
    )
    before = market.balance(org2)

    receipt = market.receipt(market.request(offer["id"])["id"])

    assert receipt["provider_fee"] == 9
    assert set(receipt["shares"].values()) == {0}
    assert market.balance(org2) == before + 9


def test_a_second_receipt_is_refused_and_pays_nothing_more(market: Market) -> None:
    paid = market.request()
    market.receipt(paid["id"])

    message = reject(market.setup.ledger, market.provider, "SubmitReceipt", paid["id"], RESPONSE)

    assert message == f"prediction request {paid['id']} already has a receipt"


@pytest.mark.parametrize("who", ["consumer", "other_provider", "minter"])
def test_only_the_offers_provider_may_submit_the_receipt(market: Market, who: str) -> None:
    paid = market.request()
    caller = getattr(market, who)

    message = reject(market.setup.ledger, caller, "SubmitReceipt", paid["id"], RESPONSE)

    assert message == (
        f"only the provider {market.offer['provider']} of prediction request {paid['id']} may "
        f"submit its receipt; {pid(caller.identity)} may not"
    )


def test_a_receipt_at_or_after_the_deadline_is_refused(market: Market, clock: ManualClock) -> None:
    paid = market.request(ttl=30)
    clock.advance(30)

    message = reject(market.setup.ledger, market.provider, "SubmitReceipt", paid["id"], RESPONSE)

    assert message == (
        f"prediction request {paid['id']} expired at {paid['deadline']}; "
        f"a receipt at {paid['deadline']} is too late"
    )


def test_a_receipt_one_second_before_the_deadline_is_accepted(
    market: Market, clock: ManualClock
) -> None:
    paid = market.request(ttl=30)
    clock.advance(29)

    assert market.receipt(paid["id"])["at"] == paid["deadline"] - 1


def test_the_consumer_cannot_reclaim_before_the_deadline(
    market: Market, clock: ManualClock
) -> None:
    paid = market.request(ttl=30)
    clock.advance(29)

    message = reject(market.setup.ledger, market.consumer, "ReclaimPrediction", paid["id"])

    assert message == (
        f"prediction request {paid['id']} is open until {paid['deadline']}; "
        f"it cannot be reclaimed at {paid['deadline'] - 1}"
    )


def test_after_the_deadline_without_receipt_the_consumer_gets_the_whole_price_back(
    market: Market, clock: ManualClock
) -> None:
    # Prepare
    consumer = pid(market.consumer.identity)
    paid = market.request(ttl=30)
    clock.advance(30)

    # Execute
    reclaimed = json.loads(market.consumer.submit("ReclaimPrediction", paid["id"]))

    # Assert
    assert reclaimed["status"] == "reclaimed"
    assert reclaimed["closed_at"] == paid["deadline"]
    assert reclaimed["transfers"] == [{"from": paid["escrow"], "to": consumer, "value": 101}]
    assert market.balance(consumer) == CONSUMER_CREDITS
    assert market.balance(paid["escrow"]) == 0
    assert market.stored(paid["id"])["status"] == "reclaimed"
    assert market.setup.ledger.event_log()[-1].name == "PredictionReclaimed"


def test_a_reclaimed_request_takes_no_receipt_and_no_second_reclaim(
    market: Market, clock: ManualClock
) -> None:
    paid = market.request(ttl=30)
    clock.advance(31)
    market.consumer.submit("ReclaimPrediction", paid["id"])

    receipt = reject(market.setup.ledger, market.provider, "SubmitReceipt", paid["id"], RESPONSE)
    again = reject(market.setup.ledger, market.consumer, "ReclaimPrediction", paid["id"])

    assert receipt == f"prediction request {paid['id']} was reclaimed by its consumer"
    assert again == receipt


def test_a_receipted_request_cannot_be_reclaimed_after_the_deadline(
    market: Market, clock: ManualClock
) -> None:
    paid = market.request(ttl=30)
    market.receipt(paid["id"])
    clock.advance(60)

    message = reject(market.setup.ledger, market.consumer, "ReclaimPrediction", paid["id"])

    assert message == f"prediction request {paid['id']} already has a receipt"


@pytest.mark.parametrize("who", ["provider", "minter"])
def test_only_the_consumer_may_reclaim(market: Market, clock: ManualClock, who: str) -> None:
    paid = market.request(ttl=30)
    clock.advance(30)
    caller = getattr(market, who)

    message = reject(market.setup.ledger, caller, "ReclaimPrediction", paid["id"])

    assert message == (
        f"only the consumer {paid['consumer']} of prediction request {paid['id']} may "
        f"reclaim it; {pid(caller.identity)} may not"
    )


ZERO_REQUEST = "req-" + "0" * 32


MALFORMED_IDS = [
    (
        "SubmitReceipt",
        ["req-1", RESPONSE],
        'request id must look like req-<32 hex digits>, got "req-1"',
    ),
    (
        "SubmitReceipt",
        [ZERO_REQUEST, RESPONSE],
        f"prediction request {ZERO_REQUEST} does not exist",
    ),
    ("SubmitReceipt", [None, "xyz"], 'response_sha256 must be 64 lowercase hex digits, got "xyz"'),
    ("ReclaimPrediction", [ZERO_REQUEST], f"prediction request {ZERO_REQUEST} does not exist"),
    ("GetPredictionReceipt", [None], "prediction request {id} has no receipt"),
    (
        "GetDispute",
        ["dispute-1"],
        'dispute id must look like dispute-<32 hex digits>, got "dispute-1"',
    ),
]


@pytest.mark.parametrize(("function", "args", "expected"), MALFORMED_IDS)
def test_malformed_or_unknown_request_ids_and_hashes_are_refused(
    market: Market, function: str, args: list[str | None], expected: str
) -> None:
    paid = market.request()
    values = [a if a is not None else paid["id"] for a in args]

    message = reject(market.setup.ledger, market.provider, function, *values)

    assert message == expected.format(id=paid["id"])


# ------------------------------------------------------------------ disputes


def _second_offer(market: Market) -> dict[str, str]:
    offer: dict[str, str] = json.loads(
        market.other_provider.submit("CreateOffer", market.task_id, offer_json(price=5))
    )
    return offer


def test_a_consumer_disputes_the_answers_of_two_providers_of_one_model(market: Market) -> None:
    # Prepare
    second_offer = _second_offer(market)
    first = market.request()
    second = market.request(second_offer["id"])
    market.receipt(first["id"])
    other_response = "b" * 64
    market.receipt(second["id"], market.other_provider, other_response)

    # Execute
    dispute = json.loads(market.consumer.submit("RecordDispute", second["id"], first["id"]))

    # Assert
    ordered = sorted([(first["id"], RESPONSE), (second["id"], other_response)])
    assert dispute["requests"] == [r for r, _ in ordered]
    assert dispute["response_hashes"] == [h for _, h in ordered]
    assert set(dispute["providers"]) == {market.offer["provider"], second_offer["provider"]}
    assert dispute["weights_hash"] == market.offer["weights_hash"]
    assert dispute["consumer"] == pid(market.consumer.identity)
    assert json.loads(market.provider.evaluate("GetDispute", dispute["id"])) == dispute
    assert market.setup.ledger.event_log()[-1].name == "PredictionDisputed"
    again = reject(market.setup.ledger, market.consumer, "RecordDispute", first["id"], second["id"])
    low, high = dispute["requests"]
    assert again == f"the dispute of {low} and {high} is already recorded"


def test_a_dispute_needs_two_providers(market: Market) -> None:
    first, second = market.request(), market.request()
    market.receipt(first["id"])
    market.receipt(second["id"])
    low, high = sorted([first["id"], second["id"]])

    message = reject(market.setup.ledger, market.consumer, "RecordDispute", low, high)

    assert message == (
        f"prediction requests {low} and {high} were served by the same provider "
        f"{market.offer['provider']}; a dispute needs two providers"
    )


def test_a_dispute_needs_receipts_and_the_consumers_own_requests(market: Market) -> None:
    # Prepare: a receipted request of the consumer, an open one, and one of another consumer
    second_offer = _second_offer(market)
    done, open_ = market.request(), market.request(second_offer["id"])
    market.receipt(done["id"])
    other_consumer = market.minter
    market.minter.submit("Mint", pid(other_consumer.identity), "10")
    theirs = market.request(second_offer["id"], consumer=other_consumer)
    market.receipt(theirs["id"], market.other_provider)

    # Execute
    unreceipted = reject(
        market.setup.ledger, market.consumer, "RecordDispute", done["id"], open_["id"]
    )
    not_own = reject(
        market.setup.ledger, market.consumer, "RecordDispute", done["id"], theirs["id"]
    )
    same = reject(market.setup.ledger, market.consumer, "RecordDispute", done["id"], done["id"])

    # Assert
    assert unreceipted == f"prediction request {open_['id']} has no receipt to dispute"
    assert not_own == (
        f"prediction request {theirs['id']} belongs to {pid(other_consumer.identity)}; "
        f"{pid(market.consumer.identity)} may not dispute it"
    )
    assert same == "a dispute needs two different requests"


def test_a_dispute_needs_one_model_digest(market: Market) -> None:
    # Prepare: a second task whose initial weights differ, offered by Org3
    other_weights = bytes(reversed(WEIGHTS))
    setup = market.setup
    task = setup.propose(initial_weights_hash=hashlib.sha256(other_weights).hexdigest())
    setup.coordinator.submit(
        "PutModelWeights", task["id"], base64.b64encode(other_weights).decode()
    )
    for contract in setup.participants:
        contract.submit("ApproveTask", task["id"])
    other_offer = json.loads(market.other_provider.submit("CreateOffer", task["id"], offer_json()))
    first, second = market.request(), market.request(other_offer["id"])
    market.receipt(first["id"])
    market.receipt(second["id"], market.other_provider)
    low, high = sorted([first, second], key=lambda r: r["id"])

    # Execute
    message = reject(setup.ledger, market.consumer, "RecordDispute", first["id"], second["id"])

    # Assert
    assert message == (
        f"prediction requests {low['id']} and {high['id']} are for different models "
        f"({low['weights_hash']}, {high['weights_hash']}); a dispute needs one model"
    )
