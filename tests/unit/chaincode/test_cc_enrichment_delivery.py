"""A plan's key exchange and evaluation: the model sealed to the enricher, delivery, reports."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cc_helpers import reject
from enrichment_helpers import (
    DELIVERY_IN,
    ENRICHED_HASH,
    ENRICHER,
    EVALUATION_IN,
    ORG1,
    ORG1_B,
    ORG2,
    ORG3,
    Consortium,
    envelope,
    report_json,
)
from training_helpers import VALUE_COUNT, pid

from fedledger.protocol.canonical import quote
from fedledger.protocol.enrichment import sealed_size

SIZE = sealed_size(VALUE_COUNT)


def test_the_proposer_seals_the_model_to_the_enricher_once_while_the_plan_is_active(
    co: Consortium,
) -> None:
    plan = co.active_plan()
    sealed = envelope(1)

    answer = json.loads(co.of(ORG1).submit("SealPlanModel", plan, sealed))
    stored = json.loads(co.of(ENRICHER).evaluate("GetPlanModel", plan))
    twice = reject(co.ledger, co.of(ORG1), "SealPlanModel", plan, envelope(2))

    raw = base64.b64decode(sealed)
    assert answer["recipient"] == co.enricher_id and answer["size"] == SIZE
    assert answer["digest"] == hashlib.sha256(raw).hexdigest()
    assert stored["envelope"] == sealed and co.plan(plan)["model_sealed"] is True
    assert co.ledger.event_log()[-1].name == "PlanModelSealed"
    assert twice == f"the model of {plan} is already sealed to its enricher"


def test_sealing_the_model_is_refused_to_others_before_activation_and_for_a_wrong_size(
    co: Consortium,
) -> None:
    proposed = co.propose()["id"]
    plan = co.active_plan()

    other = reject(co.ledger, co.of(ORG2), "SealPlanModel", plan, envelope())
    early = reject(co.ledger, co.of(ORG1), "SealPlanModel", proposed, envelope())
    short = base64.b64encode(b"x" * (SIZE - 1)).decode()
    wrong_size = reject(co.ledger, co.of(ORG1), "SealPlanModel", plan, short)
    too_long = reject(co.ledger, co.of(ORG1), "SealPlanModel", plan, "A" * 2000)
    not_base64 = reject(co.ledger, co.of(ORG1), "SealPlanModel", plan, "!!!!")
    missing = reject(co.ledger, co.of(ENRICHER), "GetPlanModel", plan)

    assert other == f"only the proposer {co.ids[0]} of {plan} may seal its model to the enricher"
    assert early == (
        f"{proposed} is proposed; its model is sealed to the enricher only while it is active"
    )
    assert wrong_size == (
        f"envelope must be {SIZE} bytes ({VALUE_COUNT} float32 values sealed), got {SIZE - 1}"
    )
    limit = 4 * (-(-SIZE // 3))
    assert too_long == f"envelope is 2000 base64 characters, more than the limit of {limit}"
    assert not_base64 == "envelope is not valid base64"
    assert missing == f"the model of {plan} is not sealed to its enricher yet"


def test_the_enricher_delivers_one_envelope_per_participant_committed_with_the_digest(
    co: Consortium,
) -> None:
    plan = co.active_plan()
    delivery = json.loads(co.delivery_json())

    record = json.loads(co.of(ENRICHER).submit("DeliverEnrichment", plan, json.dumps(delivery)))
    mine = json.loads(co.of(ORG2).evaluate("GetEnrichmentEnvelope", plan, co.ids[1]))

    digests = {
        party: hashlib.sha256(base64.b64decode(text)).hexdigest()
        for party, text in delivery["envelopes"].items()
    }
    assert record["weights_hash"] == ENRICHED_HASH and record["envelopes"] == digests
    assert (record["enricher"], record["size"], record["delivered_at"]) == (
        co.enricher_id, SIZE, co.now,
    )  # fmt: skip
    assert mine["envelope"] == delivery["envelopes"][co.ids[1]]
    assert mine["digest"] == digests[co.ids[1]]
    view = co.plan(plan)
    assert view["plan"]["status"] == "delivered" and view["enrichment"] == record
    assert co.ledger.event_log()[-1].name == "EnrichmentDelivered"


def test_delivery_is_refused_to_others_out_of_order_late_and_when_incomplete(
    co: Consortium,
) -> None:
    proposed = co.propose()["id"]
    plan = co.active_plan()
    third = co.ids[2]
    partial = json.loads(co.delivery_json())
    del partial["envelopes"][third]
    extra = co.delivery_json(**{pid(ORG1_B): envelope()})
    short = co.delivery_json(**{third: base64.b64encode(b"x" * 10).decode()})

    by_participant = reject(co.ledger, co.of(ORG1), "DeliverEnrichment", plan, co.delivery_json())
    not_active = reject(
        co.ledger, co.of(ENRICHER), "DeliverEnrichment", proposed, co.delivery_json()
    )
    missing = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, json.dumps(partial))
    stranger = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, extra)
    small = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, short)
    bad_hash = reject(
        co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, co.delivery_json("ABC")
    )
    co.clock.advance(DELIVERY_IN, 1)
    late = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, co.delivery_json())

    assert by_participant == f"only the enricher {co.enricher_id} of {plan} may deliver"
    assert not_active == f"{proposed} is proposed; only an active plan takes a delivery"
    assert missing == f"the delivery has no envelope for participant {third}"
    assert stranger == f"party {pid(ORG1_B)} is not a participant of {plan}"
    assert small == (
        f"the envelope for {third} must be {SIZE} bytes ({VALUE_COUNT} float32 values sealed), "
        "got 10"
    )
    assert bad_hash == 'weights_hash must be 64 lowercase hex digits (SHA-256), got "ABC"'
    deadline = co.plan(plan)["plan"]["delivery_deadline"]
    assert late == f"the delivery deadline {deadline} of {plan} has passed"


def test_a_second_delivery_is_refused(co: Consortium) -> None:
    plan = co.delivered_plan()

    again = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, co.delivery_json())

    assert again == f"{plan} is delivered; only an active plan takes a delivery"


def test_each_participant_reports_once_on_the_delivered_digest(co: Consortium) -> None:
    plan = co.delivered_plan()

    stored = co.report(plan, ORG2, 8500)
    twice = reject(co.ledger, co.of(ORG2), "ReportEnrichment", plan, report_json(ENRICHED_HASH, 1))

    assert stored == {
        "plan_id": plan,
        "party": co.ids[1],
        "weights_hash": ENRICHED_HASH,
        "accuracy_bp": 8500,
        "reported_at": co.now,
        "reported_tx": stored["reported_tx"],
    }
    assert co.plan(plan)["reports"] == [stored]
    event = co.ledger.event_log()[-1]
    assert event.name == "EnrichmentReported"
    assert json.loads(event.payload)["accuracy_bp"] == 8500
    assert twice == f"party {co.ids[1]} already reported on {plan}"


def test_reports_from_the_enricher_outsiders_on_another_digest_early_or_late_are_refused(
    co: Consortium,
) -> None:
    active = co.active_plan()
    plan = co.delivered_plan()
    good = report_json(ENRICHED_HASH, 9000)

    enricher = reject(co.ledger, co.of(ENRICHER), "ReportEnrichment", plan, good)
    outsider = reject(co.ledger, co.of(ORG1_B), "ReportEnrichment", plan, good)
    early = reject(co.ledger, co.of(ORG1), "ReportEnrichment", active, good)
    other = "f0" * 32
    wrong = reject(co.ledger, co.of(ORG1), "ReportEnrichment", plan, report_json(other, 9000))
    too_high = report_json(ENRICHED_HASH, 10001)
    high = reject(co.ledger, co.of(ORG1), "ReportEnrichment", plan, too_high)
    fraction = '{"weights_hash": "' + ENRICHED_HASH + '", "accuracy_bp": 90.5}'
    float_bp = reject(co.ledger, co.of(ORG1), "ReportEnrichment", plan, fraction)
    co.clock.advance(EVALUATION_IN, 1)
    late = reject(co.ledger, co.of(ORG3), "ReportEnrichment", plan, good)

    assert enricher == f"the enricher {co.enricher_id} may not report on its own work"
    assert outsider == f"party {pid(ORG1_B)} is not a participant of {plan}"
    assert early == f"{active} is active; reports are accepted only while it is delivered"
    assert wrong == f"the report is for weights {other}; {plan} delivered weights {ENRICHED_HASH}"
    assert high == "accuracy_bp must be at most 10000, got 10001"
    assert float_bp == "report.accuracy_bp must be an integer, got 90.5"
    deadline = co.plan(plan)["plan"]["evaluation_deadline"]
    assert late == f"the evaluation deadline {deadline} of {plan} has passed"


def test_an_envelope_that_was_never_delivered_is_not_found(co: Consortium) -> None:
    plan = co.active_plan()

    missing = reject(co.ledger, co.of(ORG2), "GetEnrichmentEnvelope", plan, co.ids[1])

    assert missing == f"no enrichment envelope for {co.ids[1]} in {plan}"


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        ("[]", "argument 2 must be a JSON object, got an array"),
        (
            "{",
            "argument 2 must be a JSON object: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        ('{"weights_hash": "' + "e5" * 32 + '"}', "delivery is missing field 'envelopes'"),
        (
            '{"weights_hash": "' + "e5" * 32 + '", "envelopes": {}, "x": 1}',
            "delivery has unknown field 'x'",
        ),
        (
            '{"weights_hash": "' + "e5" * 32 + '", "envelopes": {}}',
            "envelopes must be a non-empty object, got an object",
        ),
        (
            '{"weights_hash": "' + "e5" * 32 + '", "envelopes": {"someone": "AAAA"}}',
            'party id must look like <MSP id>/<64 hex digits>, got "someone"',
        ),
    ],
)
def test_malformed_deliveries_are_refused(co: Consortium, delivery: str, expected: str) -> None:
    plan = co.active_plan()

    message = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, delivery)

    assert message == expected


def test_an_envelope_that_is_not_text_or_too_long_is_refused(co: Consortium) -> None:
    plan = co.active_plan()
    third = co.ids[2]
    number = json.loads(co.delivery_json())
    number["envelopes"][third] = 7
    long = co.delivery_json(**{third: "A" * (SIZE * 2)})

    not_text = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, json.dumps(number))
    too_long = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, long)

    # The codec names the key cut to a bounded length (canonical.quote), as for every field.
    assert not_text == f"delivery.envelopes[{quote(third)}] must be a string, got 7"
    limit = 4 * (-(-SIZE // 3))
    assert too_long == (
        f"the envelope for {third} is {SIZE * 2} base64 characters, more than the limit of {limit}"
    )


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ('{"accuracy_bp": 9000}', "report is missing field 'weights_hash'"),
        (
            '{"weights_hash": "' + "e5" * 32 + '", "accuracy_bp": true}',
            "report.accuracy_bp must be an integer, got true",
        ),
        (
            '{"weights_hash": "' + "e5" * 32 + '", "accuracy_bp": -1}',
            "accuracy_bp must be a non-negative integer, got -1",
        ),
        ("null", "argument 2 must be a JSON object, got null"),
    ],
)
def test_malformed_reports_are_refused(co: Consortium, report: str, expected: str) -> None:
    plan = co.delivered_plan()

    message = reject(co.ledger, co.of(ORG1), "ReportEnrichment", plan, report)

    assert message == expected
