"""Decryption shares, accuracy reports, the acceptance rule, task completion, and history."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cc_helpers import reject
from training_helpers import Setup, pid, round_view, update_json, vector

from fedledger.ledger.memory import ManualClock

HASH_A = "a1" * 32
HASH_B = "b2" * 32


def _share(tag: int) -> str:
    return base64.b64encode(bytes([tag]) * 600).decode("ascii")


def _closed_round(setup: Setup, task_id: str, number: int) -> None:
    setup.coordinator.submit("OpenRound", task_id, str(number))
    for contract in setup.participants:
        contract.submit("SubmitUpdate", task_id, str(number), update_json(vector()))
    setup.outsider.submit("CloseRound", task_id, str(number))


@pytest.fixture
def task_id(setup: Setup) -> str:
    task = setup.active_task()
    _closed_round(setup, task, 1)
    return task


def _result(weights_hash: str, accuracy: int) -> str:
    return json.dumps({"weights_hash": weights_hash, "accuracy_bp": accuracy})


def _decrypt(
    setup: Setup, task_id: str, number: int, accuracies: list[int], weights_hash: str = HASH_A
) -> dict[str, Any]:
    """Two shares, then one report per participant; return the last ReportResult answer."""
    for contract in setup.participants[:2]:
        contract.submit("SubmitDecryptionShare", task_id, str(number), _share(number))
    answer: dict[str, Any] = {}
    for contract, accuracy in zip(setup.participants, accuracies, strict=True):
        text = contract.submit(
            "ReportResult", task_id, str(number), _result(weights_hash, accuracy)
        )
        answer = json.loads(text)
    return answer


def test_shares_are_stored_once_each_and_shares_ready_fires_at_the_threshold(
    setup: Setup, task_id: str
) -> None:
    ledger = setup.ledger

    first = json.loads(setup.trainers[1].submit("SubmitDecryptionShare", task_id, "1", _share(1)))
    first_event = ledger.event_log()[-1]
    setup.coordinator.submit("SubmitDecryptionShare", task_id, "1", _share(2))
    ready_event = ledger.event_log()[-1]
    setup.trainers[0].submit("SubmitDecryptionShare", task_id, "1", _share(3))
    third_event = ledger.event_log()[-1]
    again = reject(ledger, setup.coordinator, "SubmitDecryptionShare", task_id, "1", _share(4))

    assert (first["party"], first["size"], first["shares"], first["threshold"]) == (
        setup.ids[2],
        600,
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
    shares = json.loads(setup.outsider.evaluate("GetDecryptionShares", task_id, "1"))
    expected = {setup.ids[2]: _share(1), setup.ids[0]: _share(2), setup.ids[1]: _share(3)}
    assert shares == [{"party": p, "share": expected[p]} for p in sorted(expected)]
    assert round_view(setup.outsider, task_id)["shares"] == sorted(expected)


def test_shares_are_refused_from_strangers_for_open_rounds_and_beyond_the_size_limit(
    setup: Setup,
) -> None:
    task = setup.active_task(max_update_bytes=3000)
    setup.coordinator.submit("OpenRound", task, "1")
    ledger, outsider = setup.ledger, pid(setup.outsider.identity)

    open_round = reject(ledger, setup.trainers[0], "SubmitDecryptionShare", task, "1", _share(1))
    stranger = reject(ledger, setup.outsider, "SubmitDecryptionShare", task, "1", _share(1))
    big = "A" * 3004
    for contract in setup.participants:
        contract.submit("SubmitUpdate", task, "1", update_json(vector()))
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
        contract.submit("SubmitUpdate", task, "1", update_json(vector()))
    clock.advance(seconds=601)
    setup.outsider.submit("CloseRound", task, "1")
    ledger = setup.ledger

    too_soon = reject(ledger, setup.trainers[0], "ReportResult", task, "1", _result(HASH_A, 9000))
    setup.trainers[0].submit("SubmitDecryptionShare", task, "1", _share(1))
    setup.coordinator.submit("SubmitDecryptionShare", task, "1", _share(2))
    not_contributor = reject(
        ledger, setup.coordinator, "ReportResult", task, "1", _result(HASH_A, 1)
    )

    assert too_soon == (
        f"round 1 of {task} has 0 of the 2 decryption shares it needs; report a result once they "
        f"are in"
    )
    assert not_contributor == f"party {setup.ids[0]} did not contribute to round 1 of {task}"
    assert round_view(setup.outsider, task)["reports"] == []


def test_reports_must_agree_on_the_weights_and_come_once_each(setup: Setup, task_id: str) -> None:
    for contract in setup.participants[:2]:
        contract.submit("SubmitDecryptionShare", task_id, "1", _share(1))
    ledger = setup.ledger
    first = json.loads(
        setup.trainers[0].submit("ReportResult", task_id, "1", _result(HASH_A, 9100))
    )

    twice = reject(ledger, setup.trainers[0], "ReportResult", task_id, "1", _result(HASH_A, 9200))
    differs = reject(ledger, setup.trainers[1], "ReportResult", task_id, "1", _result(HASH_B, 9000))
    malformed = reject(
        ledger, setup.trainers[1], "ReportResult", task_id, "1", _result(HASH_A, 10_001)
    )

    assert first["report"]["accuracy_bp"] == 9100 and first["round"]["status"] == "closed"
    assert ledger.event_log()[-1].name == "ResultReported"
    assert twice == f"party {setup.ids[1]} already reported a result for round 1 of {task_id}"
    assert differs == (
        f"weights_hash {HASH_B} differs from {HASH_A} reported by {setup.ids[1]} for round 1 of "
        f"{task_id}"
    )
    assert malformed == "accuracy_bp must be at most 10000, got 10001"
    reports = round_view(setup.outsider, task_id)["reports"]
    assert [(r["party"], r["accuracy_bp"]) for r in reports] == [(setup.ids[1], 9100)]


def test_the_last_report_decides_by_the_lower_median_and_emits_round_decrypted(
    setup: Setup, task_id: str
) -> None:
    answer = _decrypt(setup, task_id, 1, [9000, 8000, 9500])

    decided = answer["round"]
    assert decided["status"] == "accepted"
    result = decided["result"]
    assert (result["median_bp"], result["base_median_bp"], result["weights_hash"]) == (
        9000,
        0,
        HASH_A,
    )
    assert result["accuracies"] == dict(zip(setup.ids, [9000, 8000, 9500], strict=True))
    event = setup.ledger.event_log()[-1]
    assert event.name == "RoundDecrypted"
    assert json.loads(event.payload) == {
        "task_id": task_id,
        "round": 1,
        "status": "accepted",
        "median_bp": 9000,
        "weights_hash": HASH_A,
        "task_status": "active",
    }
    view = round_view(setup.outsider, task_id)
    assert (view["status"], view["result"]) == ("accepted", result)
    late = reject(setup.ledger, setup.trainers[1], "SubmitDecryptionShare", task_id, "1", _share(9))
    assert late == (
        f"round 1 of {task_id} is accepted; decryption shares are accepted only while it is closed"
    )


def test_a_worse_round_beyond_tolerance_is_rejected_and_the_next_builds_on_the_last_accepted(
    setup: Setup, task_id: str
) -> None:
    _decrypt(setup, task_id, 1, [9000, 9000, 9000])
    _closed_round(setup, task_id, 2)

    # Median 8899 < 9000 - 100: rejected; round 3 then starts again from round 1's weights.
    rejected = _decrypt(setup, task_id, 2, [8899, 9990, 10], HASH_B)["round"]
    opened = json.loads(setup.coordinator.submit("OpenRound", task_id, "3"))

    assert rejected["status"] == "rejected"
    assert (rejected["result"]["median_bp"], rejected["result"]["base_median_bp"]) == (8899, 9000)
    assert rejected["base_round"] == 1 and opened["base_round"] == 1


def test_a_drop_within_tolerance_is_accepted(setup: Setup, task_id: str) -> None:
    _decrypt(setup, task_id, 1, [9000, 9000, 9000])
    _closed_round(setup, task_id, 2)

    accepted = _decrypt(setup, task_id, 2, [8900, 8900, 9900], HASH_B)["round"]
    opened = json.loads(setup.coordinator.submit("OpenRound", task_id, "3"))

    assert accepted["status"] == "accepted" and accepted["result"]["median_bp"] == 8900
    assert opened["base_round"] == 2


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
