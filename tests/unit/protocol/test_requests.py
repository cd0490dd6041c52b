"""Request records: what the client sends is the record's canonical JSON, byte for byte, and the
chaincode's parser reads it back, refusing each malformed field with its message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fedledger.protocol.asset_requests import (
    AdvertisementListing,
    AdvertisementRequest,
    PartyRequest,
    parse_advertisement_listing,
    parse_advertisement_request,
    parse_party_request,
)
from fedledger.protocol.codec import Record
from fedledger.protocol.enrichment import PlanTier
from fedledger.protocol.enrichment_requests import (
    DeliveryRequest,
    PlanRequest,
    ReportRequest,
    parse_delivery_request,
    parse_evaluation_request,
    parse_plan_request,
)
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.prediction_requests import (
    OfferListing,
    OfferRequest,
    parse_offer_listing,
    parse_offer_request,
)
from fedledger.protocol.round_requests import (
    ResultRequest,
    UpdateRequest,
    parse_result_request,
    parse_update_request,
)
from fedledger.protocol.task_records import TaskParticipant
from fedledger.protocol.task_requests import (
    ModulusArgument,
    StrategyRequest,
    TaskListing,
    TaskProposal,
    parse_task_listing,
    parse_task_request,
)

KX = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
PARTY = "Org1MSP/" + "a" * 64
TASK = "task-" + "b" * 32
HEX = "c" * 64

# (record, its exact bytes on the wire, the chaincode's parser of it)
CASES: list[tuple[Record, bytes, Callable[[str], Any]]] = [
    (
        PartyRequest(("trainer",), KX),
        b'{"kx_public_key":"' + KX.encode() + b'","roles":["trainer"]}',
        parse_party_request,
    ),
    (
        AdvertisementRequest("MNIST digits", 1000, "a classifier"),
        b'{"description":"MNIST digits","goal":"a classifier","samples":1000}',
        parse_advertisement_request,
    ),
    (
        AdvertisementRequest("d", 5, "g", {"0": 2, "1": 3}, HEX),
        b'{"description":"d","description_hash":"' + HEX.encode() + b'","goal":"g",'
        b'"labels":{"0":2,"1":3},"samples":5}',
        parse_advertisement_request,
    ),
    (AdvertisementListing(), b"{}", parse_advertisement_listing),
    (AdvertisementListing(True), b'{"include_withdrawn":true}', parse_advertisement_listing),
    (
        OfferRequest(100, 500, "provider.org2.example.com:7443", "ckks-n8192-d3"),
        b'{"endpoint":"provider.org2.example.com:7443","fee_bp":500,"params":"ckks-n8192-d3",'
        b'"price":100}',
        parse_offer_request,
    ),
    (OfferListing(), b"{}", parse_offer_listing),
    (
        OfferListing(TASK, True),
        b'{"include_withdrawn":true,"task_id":"' + TASK.encode() + b'"}',
        parse_offer_listing,
    ),
    (
        PlanRequest(TASK, PARTY, (PlanTier(100, 5), PlanTier(300, 9)), 1000, 2000),
        b'{"delivery_deadline":1000,"enricher":"' + PARTY.encode() + b'",'
        b'"evaluation_deadline":2000,"task_id":"' + TASK.encode() + b'",'
        b'"tiers":[{"min_gain_bp":100,"payment":5},{"min_gain_bp":300,"payment":9}]}',
        parse_plan_request,
    ),
    (
        DeliveryRequest(HEX, {PARTY: "AAAA"}),
        b'{"envelopes":{"' + PARTY.encode() + b'":"AAAA"},"weights_hash":"' + HEX.encode() + b'"}',
        parse_delivery_request,
    ),
    (
        ReportRequest(HEX, 9100),
        b'{"accuracy_bp":9100,"weights_hash":"' + HEX.encode() + b'"}',
        parse_evaluation_request,
    ),
    (
        UpdateRequest("AAAA", 1000, "BBBB"),
        b'{"proof":"BBBB","samples":1000,"vector":"AAAA"}',
        parse_update_request,
    ),
    (
        ResultRequest(HEX, 9000, base_accuracy_bp=8800),
        b'{"accuracy_bp":9000,"base_accuracy_bp":8800,"weights_hash":"' + HEX.encode() + b'"}',
        parse_result_request,
    ),
    (
        ResultRequest(decode_error="slot overflow"),
        b'{"decode_error":"slot overflow"}',
        parse_result_request,
    ),
    (TaskListing(), b"{}", parse_task_listing),
    (
        TaskListing(PARTY, 10, TASK),
        b'{"bookmark":"'
        + TASK.encode()
        + b'","page_size":10,"participant":"'
        + PARTY.encode()
        + b'"}',
        parse_task_listing,
    ),
]


@pytest.mark.parametrize(("record", "wire", "parse"), CASES, ids=lambda c: type(c).__name__)
def test_a_request_is_sent_as_exactly_these_bytes_and_read_back_equal(
    record: Record, wire: bytes, parse: Callable[[str], Any]
) -> None:
    assert record.to_bytes() == wire
    assert record.to_text() == wire.decode()
    assert type(record).from_bytes(wire) == record
    assert parse(record.to_text()) == record


def test_a_task_proposal_leaves_out_the_defaults_it_was_not_given() -> None:
    proposal = TaskProposal(
        model="mlp32", model_hash=HEX, initial_weights_hash=HEX, value_count=10,
        encoding={"slots": 2}, public_key=ModulusArgument("15"), threshold_public="AAAA",
        threshold=2, participants=(TaskParticipant(PARTY, 5),), quorum=2, rounds=1,
        round_seconds=60, tolerance_bp=0,
    )  # fmt: skip
    wire = proposal.to_bytes()
    assert b"max_update_bytes" not in wire and b"strategy" not in wire
    assert wire.startswith(b'{"encoding":{"slots":2},"initial_weights_hash":')
    assert TaskProposal.from_bytes(wire) == proposal
    momentum = StrategyRequest("fedavgm", 5000)
    assert momentum.to_bytes() == b'{"momentum_bp":5000,"name":"fedavgm"}'


REFUSALS: list[tuple[Callable[[str], Any], str, str]] = [
    (parse_party_request, "[]", "argument 1 must be a JSON object, got an array"),
    (parse_party_request, '{"roles": ["trainer"]}', "party is missing field 'kx_public_key'"),
    (parse_party_request, f'{{"roles": 5, "kx_public_key": "{KX}"}}',
     "party.roles must be an array, got 5"),
    (parse_party_request, f'{{"roles": [], "kx_public_key": "{KX}"}}', "roles must not be empty"),
    (parse_party_request, f'{{"roles": ["x"], "kx_public_key": "{KX}"}}',
     'unknown role "x"; roles are consumer, coordinator, enricher, provider, trainer'),
    (parse_party_request, '{"roles": ["trainer"], "kx_public_key": "AAAA"}',
     "kx_public_key must decode to 32 bytes, got 3"),
    (parse_advertisement_request, '{"description": "d", "samples": 0, "goal": "g"}',
     "samples must be a positive integer, got 0"),
    (parse_advertisement_request, '{"description": "d", "samples": 1, "goal": "g", "x": 1}',
     "advertisement has unknown field 'x'"),
    (parse_advertisement_request,
     '{"description": "d", "samples": 1, "goal": "g", "labels": {"a": 1.5}}',
     "advertisement.labels['a'] must be an integer, got 1.5"),
    (parse_advertisement_listing, '{"include_withdrawn": "yes"}',
     'list options.include_withdrawn must be true or false, got "yes"'),
    (parse_offer_request,
     '{"price": 0, "fee_bp": 0, "endpoint": "h:1", "params": "ckks-n8192-d3"}',
     "price must be a positive integer, got 0"),
    (parse_offer_request,
     '{"price": 1, "fee_bp": 0, "endpoint": "h:1", "params": "other"}',
     'params must be one of ckks-n8192-d3, got "other"'),
    (parse_offer_listing, '{"task_id": "t"}',
     'task id must look like task-<32 hex digits>, got "t"'),
    (parse_plan_request,
     f'{{"task_id": "{TASK}", "enricher": "{PARTY}", "tiers": [], "delivery_deadline": 1, '
     '"evaluation_deadline": 2}', "tiers must be a non-empty array, got an array"),
    (parse_plan_request,
     f'{{"task_id": "{TASK}", "enricher": "{PARTY}", "tiers": [{{"min_gain_bp": 1, '
     '"payment": 1}], "delivery_deadline": 2, "evaluation_deadline": 2}',
     "evaluation_deadline 2 must be after delivery_deadline 2"),
    (parse_plan_request,
     f'{{"task_id": "{TASK}", "enricher": "{PARTY}", "tiers": [{{"min_gain_bp": 1, '
     '"payment": 1}], "delivery_deadline": 1, "evaluation_deadline": 2, "statistic": "mean"}',
     'statistic must be "median", got "mean"'),
    (parse_delivery_request, f'{{"weights_hash": "{HEX}", "envelopes": {{}}}}',
     "envelopes must be a non-empty object, got an object"),
    (parse_evaluation_request, f'{{"weights_hash": "{HEX}", "accuracy_bp": 10001}}',
     "accuracy_bp must be at most 10000, got 10001"),
    (parse_update_request, '{"vector": "A", "samples": 0, "proof": "B"}',
     "samples must be a positive integer, got 0"),
    (parse_result_request, f'{{"weights_hash": "{HEX}", "accuracy_bp": 1}}',
     "result is missing field 'base_accuracy_bp'"),
    (parse_result_request, '{"decode_error": "x", "accuracy_bp": 1}',
     "a result is either weights_hash with accuracy_bp and base_accuracy_bp, or decode_error"),
    (parse_task_listing, '{"page_size": 101}', "page_size must be at most 100, got 101"),
    (parse_task_listing, '{"bookmark": 3}', "task listing.bookmark must be a string, got 3"),
    (parse_task_request, '{"model": 1}', "task is missing field 'encoding'"),
]  # fmt: skip


@pytest.mark.parametrize(("parse", "text", "message"), REFUSALS)
def test_a_malformed_request_is_refused_with_its_message(
    parse: Callable[[str], Any], text: str, message: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse(text)
    assert str(caught.value) == message
