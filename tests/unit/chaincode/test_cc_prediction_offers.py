"""Prediction offers: a participant offers the task's current model; only it withdraws the offer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cc_helpers import reject
from prediction_helpers import ENDPOINT, PARAMS, Market, make_market, offer_json
from training_helpers import WEIGHTS_HASH, Setup, pid

from fedledger.ledger.memory import ManualClock
from fedledger.protocol.predictions import CKKS_PARAMETER_SETS, offer_id


@pytest.fixture
def market(setup: Setup, clock: ManualClock) -> Market:
    return make_market(setup, clock)


def _offers(market: Market, **options: Any) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(
        market.consumer.evaluate("ListOffers", json.dumps(options))
    )
    return listed


def test_a_participant_offers_the_tasks_current_model_at_its_price(
    setup: Setup, clock: ManualClock
) -> None:
    # Prepare
    task_id = setup.active_task()
    provider = setup.trainers[0]

    # Execute
    offer = json.loads(provider.submit("CreateOffer", task_id, offer_json(price=7, fee_bp=2500)))

    # Assert
    event = setup.ledger.event_log()[-1]
    assert offer == {
        "id": offer_id(event.tx_id),
        "task_id": task_id,
        "provider": pid(provider.identity),
        "provider_msp": "Org2MSP",
        "model": "mlp32",
        "weights_hash": WEIGHTS_HASH,  # no accepted round yet: the initial weights
        "round": 0,
        "price": 7,
        "fee_bp": 2500,
        "endpoint": ENDPOINT,
        "params": PARAMS,
        "status": "open",
        "created_at": clock() // 10**9,
        "created_tx": event.tx_id,
        "withdrawn_at": None,
        "withdrawn_tx": None,
    }
    assert event.name == "PredictionOfferCreated"
    assert json.loads(setup.outsider.evaluate("GetOffer", offer["id"])) == offer


def test_a_party_that_is_not_a_participant_cannot_offer_the_tasks_model(setup: Setup) -> None:
    task_id = setup.active_task()

    message = reject(setup.ledger, setup.outsider, "CreateOffer", task_id, offer_json())

    assert message == f"party {pid(setup.outsider.identity)} is not a participant of {task_id}"


def test_a_proposed_task_has_no_model_to_offer_yet(setup: Setup) -> None:
    task_id = str(setup.propose()["id"])

    message = reject(setup.ledger, setup.trainers[0], "CreateOffer", task_id, offer_json())

    assert message == f"task {task_id} is proposed; an offer needs an active or finished task"


def test_an_offer_for_an_unknown_task_is_refused_as_not_found(setup: Setup) -> None:
    task_id = "task-" + "0" * 32

    message = reject(setup.ledger, setup.trainers[0], "CreateOffer", task_id, offer_json())

    assert message == f"task {task_id} does not exist"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"price": 0}, "price must be a positive integer, got 0"),
        ({"price": 1.5}, "offer.price must be an integer, got 1.5"),
        ({"price": True}, "offer.price must be an integer, got true"),
        ({"endpoint": 7}, "offer.endpoint must be a string, got 7"),
        ({"price": 2**63}, f"price must be at most {2**63 - 1}, got {2**63}"),
        ({"fee_bp": -1}, "fee_bp must be a non-negative integer, got -1"),
        ({"fee_bp": 10001}, "fee_bp must be at most 10000, got 10001"),
        ({"params": "ckks-n4096"}, 'params must be one of ckks-n8192-d3, got "ckks-n4096"'),
        ({"endpoint": None}, "offer is missing field 'endpoint'"),
        ({"extra": 1}, "offer has unknown field 'extra'"),
    ],
)
def test_a_malformed_offer_is_refused_with_its_field_named(
    setup: Setup, overrides: dict[str, Any], expected: str
) -> None:
    task_id = setup.active_task()

    message = reject(
        setup.ledger, setup.trainers[0], "CreateOffer", task_id, offer_json(**overrides)
    )

    assert message == expected


@pytest.mark.parametrize(
    "endpoint",
    ["127.0.0.1", "host:0", "host:65536", "host:080", ":7443", "ho st:1", "-host:1", "a:b:1"],
)
def test_an_endpoint_that_is_not_host_colon_port_is_refused(setup: Setup, endpoint: Any) -> None:
    task_id = setup.active_task()

    message = reject(
        setup.ledger, setup.trainers[0], "CreateOffer", task_id, offer_json(endpoint=endpoint)
    )

    assert message.startswith("endpoint must be host:port (a host name or IP address and a port")


@pytest.mark.parametrize("endpoint", ["provider.org2.example.com:7443", "[::1]:443", "h:65535"])
def test_host_names_and_bracketed_ipv6_endpoints_are_accepted(setup: Setup, endpoint: str) -> None:
    task_id = setup.active_task()

    offer = json.loads(
        setup.trainers[0].submit("CreateOffer", task_id, offer_json(endpoint=endpoint))
    )

    assert offer["endpoint"] == endpoint


def test_the_ckks_parameter_names_match_the_inference_engines() -> None:
    from fedledger.inference.params import PARAMETER_SETS

    assert tuple(sorted(PARAMETER_SETS)) == CKKS_PARAMETER_SETS


def test_only_the_provider_withdraws_its_offer_and_only_once(market: Market) -> None:
    # Prepare
    offer = market.offer
    other = market.other_provider

    # Execute
    by_other = reject(market.setup.ledger, other, "WithdrawOffer", offer["id"])
    withdrawn = json.loads(market.provider.submit("WithdrawOffer", offer["id"]))
    twice = reject(market.setup.ledger, market.provider, "WithdrawOffer", offer["id"])

    # Assert
    assert by_other == (
        f"prediction offer {offer['id']} belongs to {offer['provider']}; "
        f"{pid(other.identity)} may not withdraw it"
    )
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["withdrawn_tx"] == market.setup.ledger.event_log()[-1].tx_id
    assert twice == f"prediction offer {offer['id']} is already withdrawn"


def test_a_withdrawn_offer_takes_no_requests_and_leaves_the_default_listing(
    market: Market,
) -> None:
    # Prepare
    offer_id_ = market.offer["id"]
    market.provider.submit("WithdrawOffer", offer_id_)

    # Execute
    message = reject(
        market.setup.ledger, market.consumer, "RequestPrediction", offer_id_, "a" * 64, "60"
    )

    # Assert
    assert message == f"prediction offer {offer_id_} is withdrawn; it takes no requests"
    assert _offers(market) == []
    assert [o["id"] for o in _offers(market, include_withdrawn=True)] == [offer_id_]


def test_offers_are_listed_per_task(market: Market) -> None:
    other_task = market.setup.active_task()
    second = json.loads(market.other_provider.submit("CreateOffer", other_task, offer_json()))

    assert [o["id"] for o in _offers(market, task_id=market.task_id)] == [market.offer["id"]]
    assert [o["id"] for o in _offers(market, task_id=other_task)] == [second["id"]]
    assert {o["id"] for o in _offers(market)} == {market.offer["id"], second["id"]}


@pytest.mark.parametrize(
    ("function", "args", "expected"),
    [
        ("GetOffer", ["offer-1"], 'offer id must look like offer-<32 hex digits>, got "offer-1"'),
        ("GetOffer", ["offer-" + "0" * 32], f"prediction offer offer-{'0' * 32} does not exist"),
        ("WithdrawOffer", ["OFFER"], 'offer id must look like offer-<32 hex digits>, got "OFFER"'),
        ("ListOffers", ['{"task_id": 3}'], "list options.task_id must be a string, got 3"),
        (
            "ListOffers",
            ['{"include_withdrawn": 1}'],
            "list options.include_withdrawn must be true or false, got 1",
        ),
    ],
)
def test_malformed_offer_ids_and_listing_options_are_refused(
    market: Market, function: str, args: list[str], expected: str
) -> None:
    message = reject(market.setup.ledger, market.provider, function, *args)

    assert message == expected
