"""CompensationPlan: proposal by a participant, approval by all, escrow funded pro rata."""

from __future__ import annotations

import json

import pytest
from cc_helpers import reject
from enrichment_helpers import (
    BASE_HASH,
    BASE_MEDIAN,
    DELIVERY_IN,
    ENRICHER,
    ORG1,
    ORG1_B,
    ORG2,
    ORG3,
    OUTSIDER,
    TIERS,
    Consortium,
)
from training_helpers import pid, task_json, threshold_public

from fedledger.protocol.enrichment import MAX_DELIVERY_BYTES, MAX_PLAN_SECONDS, sealed_size
from fedledger.protocol.tokens import parse_transfer_event


def test_a_participant_proposes_a_plan_on_the_current_model_and_counts_as_its_first_approval(
    co: Consortium,
) -> None:
    plan = co.propose()

    assert plan["status"] == "proposed"
    assert plan["approvals"] == [co.ids[0]]
    assert plan["id"].startswith("plan-") and plan["escrow"] == f"escrow:plan:{plan['id']}"
    assert (plan["max_payout"], plan["tiers"], plan["statistic"]) == (100, TIERS, "median")
    assert (plan["base_weights_hash"], plan["base_median_bp"]) == (BASE_HASH, BASE_MEDIAN)
    assert (plan["base_source"], plan["base_round"], plan["base_plan_id"]) == ("round", 1, None)
    assert [p["samples"] for p in plan["participants"]] == [100, 200, 300]
    assert plan["quorum"] == 2 and plan["funded"] == {} and plan["settlement"] is None
    event = co.ledger.event_log()[-1]
    assert event.name == "PlanProposed"
    assert json.loads(event.payload) == {
        "plan_id": plan["id"],
        "task_id": co.task,
        "proposer": co.ids[0],
        "enricher": co.enricher_id,
    }


def test_approvals_accumulate_and_the_last_one_funds_the_escrow_pro_rata_to_samples(
    co: Consortium,
) -> None:
    plan = co.propose()["id"]

    second = json.loads(co.of(ORG2).submit("ApprovePlan", plan))
    second_event = co.ledger.event_log()[-1]
    last = json.loads(co.of(ORG3).submit("ApprovePlan", plan))
    last_event = co.ledger.event_log()[-1]

    assert second["status"] == "proposed" and second_event.name == "PlanApproved"
    assert last["status"] == "active" and last["activated_at"] == co.now
    # 100 credits over samples 100:200:300 = 16.7 : 33.3 : 50 -> the spare credit to Org1
    funded = {co.ids[0]: 17, co.ids[1]: 33, co.ids[2]: 50}
    assert last["funded"] == funded
    assert last_event.name == "PlanActivated"
    moved = parse_transfer_event(last_event.payload)
    assert {(m.source, m.target, m.value) for m in moved.transfers} == {
        (party, last["escrow"], part) for party, part in funded.items()
    }
    assert co.balance(last["escrow"]) == 100
    assert [co.balance(p) for p in co.ids] == [983, 967, 950]


def test_activation_fails_naming_the_party_whose_balance_is_short_and_nothing_moves(
    co: Consortium,
) -> None:
    plan = co.propose()["id"]
    co.of(ORG2).submit("ApprovePlan", plan)
    co.of(ORG2).submit("Transfer", pid(ORG1_B), "970")  # Org2 keeps 30, needs 33

    message = reject(co.ledger, co.of(ORG3), "ApprovePlan", plan)

    assert message == f"insufficient balance: {co.ids[1]} has 30 credits, needs 33"
    assert co.plan(plan)["plan"]["status"] == "proposed"


def test_approval_is_refused_to_outsiders_twice_after_activation_and_after_the_deadline(
    co: Consortium,
) -> None:
    plan = co.propose()["id"]
    late = co.propose()["id"]

    outsider = reject(co.ledger, co.of(ORG1_B), "ApprovePlan", plan)
    enricher = reject(co.ledger, co.of(ENRICHER), "ApprovePlan", plan)
    unregistered = reject(co.ledger, co.of(OUTSIDER), "ApprovePlan", plan)
    twice = reject(co.ledger, co.of(ORG1), "ApprovePlan", plan)
    co.of(ORG2).submit("ApprovePlan", plan)
    co.of(ORG3).submit("ApprovePlan", plan)
    active = reject(co.ledger, co.of(ORG2), "ApprovePlan", plan)
    co.clock.advance(DELIVERY_IN)
    on_time = json.loads(co.of(ORG2).submit("ApprovePlan", late))  # the deadline itself is on time
    co.clock.advance(0, 1)
    too_late = reject(co.ledger, co.of(ORG3), "ApprovePlan", late)

    assert outsider == f"party {pid(ORG1_B)} is not a participant of {plan}"
    assert enricher == f"party {co.enricher_id} is not a participant of {plan}"
    assert unregistered == (
        f"caller {pid(OUTSIDER)} is not a registered party; call RegisterParty first"
    )
    assert twice == f"party {co.ids[0]} already approved {plan}"
    assert active == f"{plan} is active; only a proposed plan can be approved"
    assert on_time["status"] == "proposed"
    deadline = on_time["delivery_deadline"]
    assert too_late == (
        f"the delivery deadline {deadline} of {late} has passed; it can no longer be approved"
    )


def test_an_unknown_or_malformed_plan_id_is_refused(co: Consortium) -> None:
    missing = "plan-" + "0" * 32

    unknown = reject(co.ledger, co.of(ORG1), "ApprovePlan", missing)
    malformed = reject(co.ledger, co.of(ORG1), "ApprovePlan", "task-1")
    view = reject(co.ledger, co.of(ORG1), "GetPlan", missing)

    assert unknown == view == f"plan {missing} does not exist"
    assert malformed == 'plan id must look like plan-<32 hex digits>, got "task-1"'


def test_only_a_participant_may_propose_and_the_enricher_must_be_an_outside_enricher(
    co: Consortium,
) -> None:
    ledger = co.ledger

    outsider = reject(ledger, co.of(ORG1_B), "ProposePlan", co.plan_json())
    enricher_proposes = reject(ledger, co.of(ENRICHER), "ProposePlan", co.plan_json())
    no_role = reject(ledger, co.of(ORG1), "ProposePlan", co.plan_json(enricher=pid(ORG1_B)))
    unregistered = reject(ledger, co.of(ORG1), "ProposePlan", co.plan_json(enricher=pid(OUTSIDER)))
    insider = reject(ledger, co.of(ORG1), "ProposePlan", co.plan_json(enricher=co.ids[1]))

    assert outsider == f"party {pid(ORG1_B)} is not a participant of {co.task}"
    assert enricher_proposes == f"party {co.enricher_id} is not a participant of {co.task}"
    assert no_role == f"enricher {pid(ORG1_B)} does not have the enricher role"
    assert unregistered == f"enricher {pid(OUTSIDER)} is not a registered party"
    assert insider == f"the enricher {co.ids[1]} is a participant of {co.task}"


def test_a_plan_needs_a_task_whose_model_was_evaluated(co: Consortium) -> None:
    setup = co.setup()
    proposed = str(setup.propose()["id"])
    untrained = setup.active_task()
    missing = "task-" + "0" * 32

    still_proposed = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(task_id=proposed))
    no_round = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(task_id=untrained))
    unknown = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(task_id=missing))

    assert still_proposed == f"{proposed} is proposed; a plan needs its training under way or done"
    assert no_round == f"{untrained} has no accepted round yet; a plan improves an evaluated model"
    assert unknown == f"task {missing} does not exist"


def test_a_task_whose_delivery_would_not_fit_one_transaction_is_refused(co: Consortium) -> None:
    # 4 participants x 4,000,000 float32 values sealed is 64 MB, above the 24 MiB limit (tiny
    # 8-bit slots pack 255 values per ciphertext, so the updates stay within max_update_bytes)
    ids = [*co.ids, pid(ORG1_B)]
    values = 4_000_000
    tiny = {"frac_bits": 2, "clip_units": 31, "max_summands": 4, "slot_bits": 8, "slots": 255}
    big = json.loads(
        co.of(ORG1).submit(
            "ProposeTask",
            task_json(ids, value_count=values, threshold_public=threshold_public(4),
                      encoding=tiny,
                      max_update_bytes=16 * 1024 * 1024),
        )
    )["id"]  # fmt: skip

    message = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(task_id=big))

    size = sealed_size(values) * 4
    assert message == (
        f"a delivery for {big} would be {size} sealed bytes, more than the limit of "
        f"{MAX_DELIVERY_BYTES} bytes per transaction"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"tiers": []}, "tiers must be a non-empty array, got an array"),
        (
            {"tiers": [{"min_gain_bp": 300, "payment": 30}, {"min_gain_bp": 100, "payment": 50}]},
            "tiers must be in increasing order of min_gain_bp and of payment; tiers[1] does not "
            "follow tiers[0]",
        ),
        (
            {"tiers": [{"min_gain_bp": 100, "payment": 30}, {"min_gain_bp": 200, "payment": 30}]},
            "tiers must be in increasing order of min_gain_bp and of payment; tiers[1] does not "
            "follow tiers[0]",
        ),
        (
            {"tiers": [{"min_gain_bp": 0, "payment": 1}]},
            "tiers[0].min_gain_bp must be a positive integer, got 0",
        ),
        (
            {"tiers": [{"min_gain_bp": 10001, "payment": 1}]},
            "tiers[0].min_gain_bp must be at most 10000, got 10001",
        ),
        (
            {"tiers": [{"min_gain_bp": 1, "payment": 1.5}]},
            "plan.tiers[0].payment must be an integer, got 1.5",
        ),
        (
            {"tiers": [{"min_gain_bp": 1, "payment": 1, "x": 1}]},
            "plan.tiers[0] has unknown field 'x'",
        ),
        (
            {"tiers": [{"min_gain_bp": i + 1, "payment": i + 1} for i in range(17)]},
            "a plan has at most 16 tiers, got 17",
        ),
        ({"statistic": "mean"}, 'statistic must be "median", got "mean"'),
        ({"enricher": "nobody"}, 'party id must look like <MSP id>/<64 hex digits>, got "nobody"'),
        ({"task_id": 7}, "plan.task_id must be a string, got 7"),
        ({"colour": "red"}, "plan has unknown field 'colour'"),
        ({"delivery_deadline": None}, "plan is missing field 'delivery_deadline'"),
    ],
)
def test_malformed_plans_are_refused_with_the_field_named(
    co: Consortium, overrides: dict[str, object], expected: str
) -> None:
    message = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(**overrides))

    assert message == expected


def test_deadlines_must_lie_ahead_in_order_and_within_a_year(co: Consortium) -> None:
    now = co.now

    past = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(delivery_deadline=now))
    order = reject(
        co.ledger,
        co.of(ORG1),
        "ProposePlan",
        co.plan_json(delivery_deadline=now + 50, evaluation_deadline=now + 50),
    )
    far = now + MAX_PLAN_SECONDS + 1
    too_far = reject(co.ledger, co.of(ORG1), "ProposePlan", co.plan_json(evaluation_deadline=far))

    assert past == f"delivery_deadline {now} is not after the transaction time {now}"
    assert order == f"evaluation_deadline {now + 50} must be after delivery_deadline {now + 50}"
    assert too_far == (
        f"evaluation_deadline {far} is more than {MAX_PLAN_SECONDS} seconds after the "
        f"transaction time {now}"
    )


def test_the_plan_view_starts_empty(co: Consortium) -> None:
    plan = co.active_plan()

    view = co.plan(plan)

    assert view["plan"]["status"] == "active"
    assert (view["model_sealed"], view["enrichment"], view["reports"]) == (False, None, [])
