"""SettlePlan: the tier of the median gain is paid once, the rest refunded, a paid model adopted."""

from __future__ import annotations

import json
from typing import Any

from cc_helpers import reject
from enrichment_helpers import (
    BASE_HASH,
    BASE_MEDIAN,
    DELIVERY_IN,
    ENRICHED_HASH,
    ENRICHER,
    EVALUATION_IN,
    ORG1,
    ORG1_B,
    ORG2,
    ORG3,
    OUTSIDER,
    PARTICIPANTS,
    Consortium,
    decide_round,
)
from training_helpers import pid

from fedledger.protocol.tokens import parse_transfer_event


def _settle(co: Consortium, plan: str, identity: Any = ORG1_B) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(co.of(identity).submit("SettlePlan", plan))
    return answer


def _reported(co: Consortium, accuracies: list[int], **overrides: Any) -> str:
    plan = co.delivered_plan(**overrides)
    for identity, accuracy in zip(PARTICIPANTS, accuracies, strict=False):
        co.report(plan, identity, accuracy)
    return plan


def test_the_median_gain_pays_its_tier_refunds_the_rest_and_adopts_the_model(
    co: Consortium,
) -> None:
    # Prepare: reports 8100, 8400, 9900 -> median 8400, gain 400 bp over 8000: the 30-credit tier
    plan = _reported(co, [9900, 8100, 8400])
    escrow = co.plan(plan)["plan"]["escrow"]
    before = [co.balance(p) for p in co.ids]  # after funding 17, 33, 50

    # Execute: an outsider to the plan (any registered party) settles
    settled = _settle(co, plan)

    # Assert: 30 to the enricher; 70 back pro rata to 17:33:50 -> 12, 23, 35
    settlement = settled["settlement"]
    assert settled["status"] == "settled"
    assert settlement["outcome"] == "paid"
    assert (settlement["median_bp"], settlement["gain_bp"], settlement["payment"]) == (
        8400, 400, 30,
    )  # fmt: skip
    assert settlement["refunds"] == {co.ids[0]: 12, co.ids[1]: 23, co.ids[2]: 35}
    assert settlement["adopted"] is True and settlement["reports"] == 3
    assert settlement["settled_by"] == pid(ORG1_B)
    assert co.balance(co.enricher_id) == 30 and co.balance(escrow) == 0
    assert [co.balance(p) for p in co.ids] == [before[0] + 12, before[1] + 23, before[2] + 35]
    assert co.current_model() == {
        "task_id": co.task,
        "weights_hash": ENRICHED_HASH,
        "source": "enrichment",
        "round": 1,
        "median_bp": 8400,
        "plan_id": plan,
    }
    event = co.ledger.event_log()[-1]
    assert event.name == "PlanSettled"
    moved = parse_transfer_event(event.payload)
    first = moved.transfers[0]
    assert (first.source, first.target, first.value) == (escrow, co.enricher_id, 30)
    assert sum(m.value for m in moved.transfers) == 100


def test_settling_twice_is_refused_and_pays_nothing(co: Consortium) -> None:
    plan = _reported(co, [9900, 9900, 9900])
    _settle(co, plan, ORG2)

    again = reject(co.ledger, co.of(ORG3), "SettlePlan", plan)

    assert again == f"{plan} is already settled"
    assert co.balance(co.enricher_id) == 100


def test_a_gain_below_every_tier_refunds_everything_and_adopts_nothing(co: Consortium) -> None:
    plan = _reported(co, [8050, 8099, 7000])  # median 8050: gain 50 < 100
    before = [co.balance(p) for p in co.ids]

    settlement = _settle(co, plan)["settlement"]

    assert (settlement["outcome"], settlement["gain_bp"], settlement["payment"]) == (
        "below_tiers", 50, 0,
    )  # fmt: skip
    assert settlement["adopted"] is False
    assert [co.balance(p) for p in co.ids] == [before[0] + 17, before[1] + 33, before[2] + 50]
    assert co.balance(co.enricher_id) == 0
    assert co.current_model()["source"] == "round"


def test_a_worse_model_pays_nothing(co: Consortium) -> None:
    plan = _reported(co, [7000, 7100, 7200])

    settlement = _settle(co, plan)["settlement"]

    assert (settlement["gain_bp"], settlement["payment"]) == (7100 - BASE_MEDIAN, 0)


def test_nothing_delivered_by_the_deadline_refunds_everything(co: Consortium) -> None:
    plan = co.active_plan()
    early = reject(co.ledger, co.of(ORG2), "SettlePlan", plan)
    co.clock.advance(DELIVERY_IN, 1)
    before = [co.balance(p) for p in co.ids]

    settlement = _settle(co, plan)["settlement"]

    deadline = co.plan(plan)["plan"]["delivery_deadline"]
    assert early == (
        f"{plan} cannot be settled before its delivery deadline {deadline}: nothing is "
        "delivered yet"
    )
    assert (settlement["outcome"], settlement["reports"], settlement["payment"]) == (
        "undelivered", 0, 0,
    )  # fmt: skip
    assert settlement["refunds"] == {co.ids[0]: 17, co.ids[1]: 33, co.ids[2]: 50}
    assert [co.balance(p) for p in co.ids] == [before[0] + 17, before[1] + 33, before[2] + 50]
    delivered = reject(co.ledger, co.of(ENRICHER), "DeliverEnrichment", plan, co.delivery_json())
    assert delivered == f"{plan} is settled; only an active plan takes a delivery"


def test_before_every_report_a_settle_waits_for_the_evaluation_deadline(co: Consortium) -> None:
    plan = _reported(co, [9000, 8600])

    early = reject(co.ledger, co.of(ORG1), "SettlePlan", plan)
    co.clock.advance(EVALUATION_IN, 1)
    settlement = _settle(co, plan)["settlement"]

    deadline = co.plan(plan)["plan"]["evaluation_deadline"]
    assert early == (
        f"{plan} cannot be settled yet: 2 of 3 participants reported and its evaluation "
        f"deadline {deadline} has not passed"
    )
    # quorum 2 reached: the lower median of 8600 and 9000 is 8600, gain 600: 30 credits
    assert (settlement["outcome"], settlement["median_bp"], settlement["payment"]) == (
        "paid", 8600, 30,
    )  # fmt: skip


def test_fewer_reports_than_the_quorum_at_the_evaluation_deadline_refund_everything(
    co: Consortium,
) -> None:
    plan = _reported(co, [9900])
    co.clock.advance(EVALUATION_IN, 1)

    settlement = _settle(co, plan)["settlement"]
    late_report = reject(
        co.ledger, co.of(ORG2), "ReportEnrichment", plan,
        json.dumps({"weights_hash": ENRICHED_HASH, "accuracy_bp": 9000}),
    )  # fmt: skip

    assert (settlement["outcome"], settlement["reports"], settlement["payment"]) == (
        "unevaluated", 1, 0,
    )  # fmt: skip
    assert co.balance(co.enricher_id) == 0
    assert late_report == f"{plan} is settled; reports are accepted only while it is delivered"


def test_a_proposed_plan_cannot_be_settled_and_outsiders_need_an_identity(co: Consortium) -> None:
    plan = co.propose()["id"]

    proposed = reject(co.ledger, co.of(ORG1), "SettlePlan", plan)
    unregistered = reject(co.ledger, co.of(OUTSIDER), "SettlePlan", plan)

    assert proposed == f"{plan} is proposed; only an active or delivered plan can be settled"
    assert unregistered == (
        f"caller {pid(OUTSIDER)} is not a registered party; call RegisterParty first"
    )


def test_a_paid_enrichment_of_a_model_no_longer_current_is_paid_but_not_adopted(
    co: Consortium,
) -> None:
    first = _reported(co, [9900, 9900, 9900])
    second = _reported(co, [9900, 9900, 9900])
    _settle(co, first)

    settlement = _settle(co, second)["settlement"]

    assert (settlement["outcome"], settlement["adopted"]) == ("paid", False)
    assert co.current_model()["plan_id"] == first
    assert co.balance(co.enricher_id) == 200


def test_a_plan_on_an_adopted_enrichment_improves_on_its_median(co: Consortium) -> None:
    first = _reported(co, [8400, 8400, 8400])
    _settle(co, first)

    plan = co.propose()

    assert (plan["base_source"], plan["base_plan_id"]) == ("enrichment", first)
    assert (plan["base_weights_hash"], plan["base_median_bp"]) == (ENRICHED_HASH, 8400)


def test_a_round_accepted_after_the_adoption_becomes_the_current_model_again(
    co: Consortium,
) -> None:
    plan = _reported(co, [9900, 9900, 9900])
    _settle(co, plan)
    adopted = co.current_model()

    decide_round(co.setup(), co.task, 2, [8000, 8000, 8000], "b2" * 32)  # round 2 is open

    assert adopted["source"] == "enrichment"
    assert co.current_model() == {
        "task_id": co.task,
        "weights_hash": "b2" * 32,
        "source": "round",
        "round": 2,
        "median_bp": 8000,
        "plan_id": None,
    }
    assert adopted["weights_hash"] != BASE_HASH


def test_the_escrow_holds_exactly_the_maximum_until_settled(co: Consortium) -> None:
    plan = _reported(co, [9900, 9900])
    escrow = co.plan(plan)["plan"]["escrow"]

    held = co.balance(escrow)
    co.report(plan, ORG3, 9900)
    _settle(co, plan, ORG3)

    assert held == 100 and co.balance(escrow) == 0
    assert co.balance(co.enricher_id) == 100
