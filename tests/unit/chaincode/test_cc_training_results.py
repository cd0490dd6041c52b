"""Decryption shares, reports decided by majority, the acceptance rule, completion, history."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cc_helpers import reject
from training_helpers import Setup, pid, round_view, stored_round

from fedledger.ledger.memory import ManualClock

HASH_A = "a1" * 32
HASH_B = "b2" * 32


def _closed_round(setup: Setup, task_id: str, number: int) -> None:
    if number == 1:  # later rounds open when their predecessor ends
        setup.coordinator.submit("OpenRound", task_id, "1")
    for contract in setup.participants:
        setup.submit_update(contract, task_id, number)
    setup.outsider.submit("CloseRound", task_id, str(number))


@pytest.fixture
def task_id(setup: Setup) -> str:
    task = setup.active_task()
    _closed_round(setup, task, 1)
    return task


def _result(weights_hash: str, accuracy: int, base: int = 0) -> str:
    return json.dumps(
        {"weights_hash": weights_hash, "accuracy_bp": accuracy, "base_accuracy_bp": base}
    )


def _shares(setup: Setup, task_id: str, number: int) -> None:
    for contract in setup.participants[:2]:
        share = setup.share(contract, task_id, number)
        contract.submit("SubmitDecryptionShare", task_id, str(number), share)


def _decrypt(
    setup: Setup,
    task_id: str,
    number: int,
    accuracies: list[int],
    weights_hash: str = HASH_A,
    bases: list[int] | None = None,
) -> dict[str, Any]:
    """Two shares, then reports in participant order (each with its base accuracy, default 0)
    until the round is decided; return the deciding ReportResult answer."""
    _shares(setup, task_id, number)
    answer: dict[str, Any] = {}
    for contract, accuracy, base in zip(
        setup.participants, accuracies, bases or [0] * len(accuracies), strict=True
    ):
        text = contract.submit(
            "ReportResult", task_id, str(number), _result(weights_hash, accuracy, base)
        )
        answer = json.loads(text)
        if answer["round"]["status"] != "closed":
            break
    return answer


def test_verified_shares_are_stored_once_each_and_shares_ready_fires_at_the_threshold(
    setup: Setup, task_id: str
) -> None:
    ledger = setup.ledger
    share_c, share_a, share_b = (
        setup.share(contract, task_id) for contract in (setup.trainers[1], *setup.participants[:2])
    )

    first = json.loads(setup.trainers[1].submit("SubmitDecryptionShare", task_id, "1", share_c))
    first_event = ledger.event_log()[-1]
    setup.coordinator.submit("SubmitDecryptionShare", task_id, "1", share_a)
    ready_event = ledger.event_log()[-1]
    setup.trainers[0].submit("SubmitDecryptionShare", task_id, "1", share_b)
    third_event = ledger.event_log()[-1]
    again = reject(ledger, setup.coordinator, "SubmitDecryptionShare", task_id, "1", share_a)

    size = len(base64.b64decode(share_c))
    assert (first["party"], first["size"], first["shares"], first["threshold"]) == (
        setup.ids[2],
        size,
        1,
        2,
    )
    assert [first_event.name, ready_event.name, third_event.name] == [
        "DecryptionShareSubmitted",
        "SharesReady",
        "DecryptionShareSubmitted",
    ]
    assert json.loads(ready_event.payload)["shares"] == 2
    assert (
        again
        == f"party {setup.ids[0]} already submitted a decryption share for round 1 of {task_id}"
    )
    summaries = json.loads(setup.outsider.evaluate("GetDecryptionShares", task_id, "1"))
    assert [s["party"] for s in summaries] == sorted(setup.ids)
    assert all("share" not in s and s["size"] == size for s in summaries)
    expected = {setup.ids[2]: share_c, setup.ids[0]: share_a, setup.ids[1]: share_b}
    for party, share in expected.items():
        stored = json.loads(setup.outsider.evaluate("GetDecryptionShare", task_id, "1", party))
        assert stored["share"] == share
    assert round_view(setup.outsider, task_id)["shares"] == sorted(expected)


def test_shares_are_refused_from_strangers_for_open_rounds_and_beyond_the_size_limit(
    setup: Setup,
) -> None:
    task = setup.active_task(max_update_bytes=3000)
    setup.coordinator.submit("OpenRound", task, "1")
    ledger, outsider = setup.ledger, pid(setup.outsider.identity)

    placeholder = base64.b64encode(b"share").decode()
    open_round = reject(ledger, setup.trainers[0], "SubmitDecryptionShare", task, "1", placeholder)
    stranger = reject(ledger, setup.outsider, "SubmitDecryptionShare", task, "1", placeholder)
    big = "A" * 3004
    for contract in setup.participants:
        setup.submit_update(contract, task)
    setup.outsider.submit("CloseRound", task, "1")
    oversized = reject(ledger, setup.trainers[0], "SubmitDecryptionShare", task, "1", big)
    not_b64 = reject(ledger, setup.trainers[0], "SubmitDecryptionShare", task, "1", "@@@@")

    assert open_round == (
        f"round 1 of {task} is open; decryption shares are accepted only while it is closed"
    )
    assert stranger == f"party {outsider} is not a participant of {task}"
    assert oversized == "share is 3004 base64 characters, more than the limit of 3000"
    assert not_b64 == "share is not valid base64"
    assert setup.outsider.evaluate("GetDecryptionShares", task, "1") == b"[]"


def test_reports_wait_for_t_shares_and_come_only_from_contributors(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    for contract in setup.trainers:
        setup.submit_update(contract, task)
    clock.advance(seconds=601)
    setup.trainers[0].submit("CloseRound", task, "1")
    ledger = setup.ledger

    too_soon = reject(ledger, setup.trainers[0], "ReportResult", task, "1", _result(HASH_A, 9000))
    for contract in (setup.trainers[0], setup.coordinator):
        contract.submit("SubmitDecryptionShare", task, "1", setup.share(contract, task))
    not_contributor = reject(
        ledger, setup.coordinator, "ReportResult", task, "1", _result(HASH_A, 1)
    )

    assert too_soon == (
        f"round 1 of {task} has 0 of the 2 decryption shares it needs; report a result once they "
        f"are in"
    )
    assert not_contributor == f"party {setup.ids[0]} did not contribute to round 1 of {task}"
    assert round_view(setup.outsider, task)["reports"] == []


def test_every_report_is_stored_once_and_a_dissenting_first_report_does_not_block(
    setup: Setup, task_id: str
) -> None:
    _shares(setup, task_id, 1)
    ledger = setup.ledger
    first = json.loads(
        setup.trainers[0].submit("ReportResult", task_id, "1", _result(HASH_B, 9100))
    )

    twice = reject(ledger, setup.trainers[0], "ReportResult", task_id, "1", _result(HASH_A, 9200))
    malformed = reject(
        ledger, setup.trainers[1], "ReportResult", task_id, "1", _result(HASH_A, 10_001)
    )
    second = json.loads(
        setup.trainers[1].submit("ReportResult", task_id, "1", _result(HASH_A, 9000))
    )
    deciding = json.loads(
        setup.coordinator.submit("ReportResult", task_id, "1", _result(HASH_A, 8000))
    )

    assert first["report"]["accuracy_bp"] == 9100 and first["round"]["status"] == "closed"
    assert second["round"]["status"] == "closed"
    assert twice == f"party {setup.ids[1]} already reported a result for round 1 of {task_id}"
    assert malformed == "accuracy_bp must be at most 10000, got 10001"
    decided = deciding["round"]
    assert decided["status"] == "accepted"
    assert decided["result"]["weights_hash"] == HASH_A
    assert decided["result"]["accuracies"] == {setup.ids[0]: 8000, setup.ids[2]: 9000}
    assert decided["dissent"] == {setup.ids[1]: HASH_B}
    assert decided["result"]["median_bp"] == 8000
    reports = round_view(setup.outsider, task_id)["reports"]
    assert [(r["party"], r["weights_hash"]) for r in reports] == [
        (setup.ids[0], HASH_A),
        (setup.ids[1], HASH_B),
        (setup.ids[2], HASH_A),
    ]


def test_the_report_that_makes_a_majority_decides_by_the_lower_median_of_the_majority(
    setup: Setup, task_id: str
) -> None:
    answer = _decrypt(setup, task_id, 1, [9000, 8000, 9500])

    decided = answer["round"]
    assert decided["status"] == "accepted"
    result = decided["result"]
    assert (result["median_bp"], result["base_median_bp"], result["weights_hash"]) == (
        8000,
        0,
        HASH_A,
    )
    assert result["accuracies"] == dict(zip(setup.ids[:2], [9000, 8000], strict=True))
    assert (result["median_gain_bp"], result["gains"]) == (8000, result["accuracies"])
    assert decided["dissent"] == {}
    event = setup.ledger.event_log()[-1]
    assert event.name == "RoundDecrypted"
    assert json.loads(event.payload) == {
        "task_id": task_id,
        "round": 1,
        "status": "accepted",
        "median_bp": 8000,
        "median_gain_bp": 8000,
        "weights_hash": HASH_A,
        "dissent": [],
        "task_status": "active",
        "next_round": 2,
    }
    view = round_view(setup.outsider, task_id)
    assert (view["status"], view["result"]) == ("accepted", result)
    late_share = setup.share(setup.trainers[1], task_id)
    late = reject(
        setup.ledger, setup.trainers[1], "SubmitDecryptionShare", task_id, "1", late_share
    )
    late_report = reject(
        setup.ledger, setup.trainers[1], "ReportResult", task_id, "1", _result(HASH_A, 9500)
    )
    assert late == (
        f"round 1 of {task_id} is accepted; decryption shares are accepted only while it is closed"
    )
    assert late_report == (
        f"round 1 of {task_id} is accepted; results are accepted only while it is closed"
    )


def test_a_majority_reporting_an_undecodable_aggregate_fails_the_round(
    setup: Setup, task_id: str
) -> None:
    _shares(setup, task_id, 1)
    undecodable = json.dumps({"decode_error": "plaintext 3 is not a packing of 3 summand(s)"})

    setup.trainers[0].submit("ReportResult", task_id, "1", _result(HASH_A, 9000))
    setup.trainers[1].submit("ReportResult", task_id, "1", undecodable)
    answer = json.loads(setup.coordinator.submit("ReportResult", task_id, "1", undecodable))

    failed = answer["round"]
    assert failed["status"] == "failed"
    assert failed["reason"] == (
        "the aggregate does not decode, as 2 of 3 contributors reported: plaintext 3 is not a "
        "packing of 3 summand(s)"
    )
    assert failed["dissent"] == {setup.ids[1]: HASH_A}
    assert setup.ledger.event_log()[-1].name == "RoundFailed"
    opened = stored_round(setup.outsider, task_id, 2)
    assert (opened["status"], opened["base_round"]) == ("open", 0)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (
            '{"decode_error": "x", "weights_hash": "00"}',
            "a result is either weights_hash with accuracy_bp and base_accuracy_bp, or "
            "decode_error",
        ),
        ('{"decode_error": ""}', "decode_error must not be empty"),
        ('{"decode_error": 5}', "result.decode_error must be a string, got 5"),
        (
            json.dumps({"decode_error": "x" * 513}),
            "decode_error must be at most 512 characters, got 513",
        ),
        ('{"weights_hash": "ab"}', "result is missing field 'accuracy_bp'"),
        (
            json.dumps({"weights_hash": HASH_A, "accuracy_bp": 9000}),
            "result is missing field 'base_accuracy_bp'",
        ),
        (
            json.dumps({"weights_hash": HASH_A, "accuracy_bp": 9000, "base_accuracy_bp": -1}),
            "base_accuracy_bp must be a non-negative integer, got -1",
        ),
    ],
)
def test_malformed_reports_are_refused(
    setup: Setup, task_id: str, result: str, message: str
) -> None:
    _shares(setup, task_id, 1)

    assert reject(setup.ledger, setup.trainers[0], "ReportResult", task_id, "1", result) == message
    assert round_view(setup.outsider, task_id)["reports"] == []


def test_a_worse_round_beyond_tolerance_is_rejected_and_the_next_builds_on_the_last_accepted(
    setup: Setup, task_id: str
) -> None:
    _decrypt(setup, task_id, 1, [9000, 9000, 9000])
    _closed_round(setup, task_id, 2)

    # Gains -101 and +990: lower median -101 < -100, rejected; round 3 starts again from round 1.
    rejected = _decrypt(setup, task_id, 2, [8899, 9990, 10], HASH_B, [9000] * 3)["round"]
    opened = stored_round(setup.outsider, task_id, 3)

    assert rejected["status"] == "rejected"
    result = rejected["result"]
    assert (result["median_bp"], result["base_median_bp"], result["median_gain_bp"]) == (
        8899,
        9000,
        -101,
    )
    assert rejected["base_round"] == 1 and opened["base_round"] == 1


def test_a_drop_within_tolerance_is_accepted(setup: Setup, task_id: str) -> None:
    _decrypt(setup, task_id, 1, [9000, 9000, 9000])
    _closed_round(setup, task_id, 2)

    accepted = _decrypt(setup, task_id, 2, [8900, 8900, 9900], HASH_B, [9000] * 3)["round"]
    opened = stored_round(setup.outsider, task_id, 3)

    assert accepted["status"] == "accepted" and accepted["result"]["median_gain_bp"] == -100
    assert opened["base_round"] == 2


def test_each_reporter_is_compared_with_itself_not_with_other_reporters(
    setup: Setup, task_id: str
) -> None:
    _decrypt(setup, task_id, 1, [9000, 9000, 9000])
    _closed_round(setup, task_id, 2)

    # Validation sets differ: these reporters see 84-85% where round 1's saw 90%, but each of
    # them sees the new model do better than the base model on its own data.
    decided = _decrypt(setup, task_id, 2, [8500, 8600, 0], HASH_B, [8400, 8500, 0])["round"]

    assert decided["status"] == "accepted"
    result = decided["result"]
    assert (result["median_bp"], result["base_median_bp"], result["median_gain_bp"]) == (
        8500,
        9000,
        100,
    )


def test_deciding_the_last_round_finishes_the_task(setup: Setup) -> None:
    task = setup.active_task(rounds=1)
    _closed_round(setup, task, 1)

    _decrypt(setup, task, 1, [5000, 6000, 7000])

    stored = json.loads(setup.outsider.evaluate("GetTask", task))
    assert stored["status"] == "finished" and stored["finished_at"] is not None
    assert json.loads(setup.ledger.event_log()[-1].payload)["task_status"] == "finished"
    message = reject(setup.ledger, setup.coordinator, "OpenRound", task, "2")
    assert message == f"{task} is finished, not active"


def test_history_covers_the_training_assets(setup: Setup, task_id: str) -> None:
    _decrypt(setup, task_id, 1, [9000, 8000, 9500])

    task_history = json.loads(
        setup.outsider.evaluate("GetHistory", "TrainingTask", json.dumps([task_id]))
    )
    round_history = json.loads(
        setup.outsider.evaluate("GetHistory", "Round", json.dumps([task_id, "000001"]))
    )
    update_history = json.loads(
        setup.outsider.evaluate(
            "GetHistory", "Update", json.dumps([task_id, "000001", setup.ids[1]])
        )
    )
    known = {
        "AccuracyReport",
        "Aggregate",
        "DecryptionShare",
        "KeyEnvelope",
        "ModelWeights",
        "Round",
        "TrainingTask",
        "Update",
    }
    for object_type in known:
        setup.outsider.evaluate("GetHistory", object_type, json.dumps([task_id]))

    assert [h["value"]["status"] for h in task_history] == [
        "active",
        "proposed",
        "proposed",
        "proposed",
    ]
    assert [h["value"]["status"] for h in round_history] == ["accepted", "closed", "open"]
    assert len(update_history) == 1 and update_history[0]["value"]["party"] == setup.ids[1]


def test_the_current_model_is_the_last_accepted_rounds_or_the_initial_one(
    setup: Setup, task_id: str
) -> None:
    def current() -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(setup.outsider.evaluate("GetCurrentModel", task_id))
        return answer

    initial = json.loads(setup.outsider.evaluate("GetTask", task_id))["initial_weights_hash"]
    before = current()
    _decrypt(setup, task_id, 1, [9000, 9000, 9000])
    after_one = current()
    _closed_round(setup, task_id, 2)
    _decrypt(setup, task_id, 2, [10, 10, 10], HASH_B, [9000] * 3)  # rejected: round 1 stays

    assert before == {
        "task_id": task_id, "weights_hash": initial, "source": "initial", "round": 0,
        "median_bp": None, "plan_id": None,
    }  # fmt: skip
    assert after_one == {
        "task_id": task_id, "weights_hash": HASH_A, "source": "round", "round": 1,
        "median_bp": 9000, "plan_id": None,
    }  # fmt: skip
    assert current() == after_one
    missing = reject(setup.ledger, setup.outsider, "GetCurrentModel", "task-" + "0" * 32)
    assert missing.startswith("task task-0000")
