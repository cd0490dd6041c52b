"""FailRound: a round that can no longer succeed fails, the task moves on; nothing else fails."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cc_helpers import reject
from training_helpers import Setup, pid, round_view, stored_round

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock

HASH = "a1" * 32
OTHER_HASH = "b2" * 32
ROUND_SECONDS = 600  # the task's round_seconds in training_helpers.task_fields


def _result(accuracy: int, weights_hash: str = HASH, base: int = 0) -> str:
    return json.dumps(
        {"weights_hash": weights_hash, "accuracy_bp": accuracy, "base_accuracy_bp": base}
    )


def _open(setup: Setup, task_id: str, number: int) -> dict[str, Any]:
    """Open round 1 (OpenRound), or return round ``number`` opened when its predecessor ended."""
    if number > 1:
        return stored_round(setup.outsider, task_id, number)
    record: dict[str, Any] = json.loads(setup.coordinator.submit("OpenRound", task_id, "1"))
    return record


def _close(setup: Setup, task_id: str, number: int) -> dict[str, Any]:
    """Open round ``number``, collect every update and close it; return the open record."""
    opened = _open(setup, task_id, number)
    for contract in setup.participants:
        setup.submit_update(contract, task_id, number)
    setup.outsider.submit("CloseRound", task_id, str(number))
    return opened


def _shares(setup: Setup, task_id: str, number: int, contracts: list[Any]) -> None:
    for contract in contracts:
        share = setup.share(contract, task_id, number)
        contract.submit("SubmitDecryptionShare", task_id, str(number), share)


def _decide(setup: Setup, task_id: str, number: int, accuracy: int, base: int = 0) -> None:
    """Two shares and the two agreeing reports that make a majority of three."""
    _shares(setup, task_id, number, setup.participants[:2])
    for contract in setup.participants[:2]:
        contract.submit("ReportResult", task_id, str(number), _result(accuracy, base=base))


def _seconds(clock: ManualClock) -> int:
    return clock() // 10**9


def _move_to(clock: ManualClock, second: int) -> None:
    """Move the clock to the start of ``second`` (the transaction timestamp's seconds)."""
    clock.advance(seconds=second - _seconds(clock))


def _fail(setup: Setup, task_id: str, number: int) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(setup.trainers[1].submit("FailRound", task_id, str(number)))
    return record


def test_an_open_round_late_and_below_quorum_fails_and_emits_round_failed(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    opened = _open(setup, task, 1)
    setup.submit_update(setup.trainers[0], task)
    deadline = opened["deadline"]
    _move_to(clock, deadline + 1)

    failed = _fail(setup, task, 1)

    reason = (
        f"the deadline {deadline} passed with 1 of 3 participants submitted, fewer than the "
        f"quorum 2"
    )
    event = setup.ledger.event_log()[-1]
    assert failed == {
        **opened,
        "status": "failed",
        "failed_at": deadline + 1,
        "failed_tx": event.tx_id,
        "reason": reason,
        "high_water": deadline + 1,
    }
    assert event.name == "RoundFailed"
    assert json.loads(event.payload) == {
        "task_id": task,
        "round": 1,
        "reason": reason,
        "task_status": "active",
        "next_round": 2,
    }
    view = round_view(setup.outsider, task)
    assert (view["status"], view["reason"], len(view["submissions"])) == ("failed", reason, 1)
    assert json.loads(setup.outsider.evaluate("GetTask", task))["status"] == "active"
    key = json.dumps([task, "000001"])
    history = json.loads(setup.outsider.evaluate("GetHistory", "Round", key))
    assert [h["value"]["status"] for h in history] == ["failed", "open"]


def test_a_closed_round_missing_shares_fails_after_its_decision_deadline(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    opened = _close(setup, task, 1)
    _shares(setup, task, 1, [setup.trainers[1]])
    due = opened["deadline"] + ROUND_SECONDS
    _move_to(clock, due)
    clock.advance(nanos=1)

    failed = _fail(setup, task, 1)

    reason = f"the decision deadline {due} passed with 1 of the 2 decryption shares it needs"
    assert (failed["status"], failed["reason"], failed["failed_at"]) == ("failed", reason, due)
    assert failed["aggregate"] is not None and failed["result"] is None
    assert json.loads(setup.ledger.event_log()[-1].payload)["reason"] == reason
    late_share = base64.b64encode(b"a late share").decode()
    late = reject(setup.ledger, setup.coordinator, "SubmitDecryptionShare", task, "1", late_share)
    assert late == (
        f"round 1 of {task} is failed; decryption shares are accepted only while it is closed"
    )
    assert round_view(setup.outsider, task)["shares"] == [setup.ids[2]]


def test_a_closed_round_without_a_majority_fails_after_its_decision_deadline(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    opened = _close(setup, task, 1)
    _shares(setup, task, 1, setup.participants[:2])
    setup.coordinator.submit("ReportResult", task, "1", _result(9000))
    setup.trainers[0].submit("ReportResult", task, "1", _result(9000, OTHER_HASH))
    due = opened["deadline"] + ROUND_SECONDS
    _move_to(clock, due + 1)

    failed = _fail(setup, task, 1)

    reason = (
        f"the decision deadline {due} passed with no outcome reported by a majority of the 3 "
        f"contributors (2 reported; a1a1a1a1a1a1…: 1, b2b2b2b2b2b2…: 1)"
    )
    assert (failed["status"], failed["reason"]) == ("failed", reason)
    late = reject(setup.ledger, setup.trainers[1], "ReportResult", task, "1", _result(9000))
    assert late == f"round 1 of {task} is failed; results are accepted only while it is closed"
    view = round_view(setup.outsider, task)
    assert (view["status"], len(view["reports"])) == ("failed", 2)


def test_the_round_after_a_failed_first_round_starts_from_the_initial_weights(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    opened = _open(setup, task, 1)
    _move_to(clock, opened["deadline"] + 1)
    _fail(setup, task, 1)

    second = _open(setup, task, 2)

    assert (second["status"], second["base_round"]) == ("open", 0)
    assert (second["opened_at"], second["opened_tx"]) == (
        opened["deadline"] + 1,
        setup.ledger.event_log()[-1].tx_id,
    )


def test_after_a_failed_round_the_next_builds_on_the_last_accepted_round(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    _close(setup, task, 1)
    _decide(setup, task, 1, 9000)
    opened = _open(setup, task, 2)
    _move_to(clock, opened["deadline"] + 1)

    failed = _fail(setup, task, 2)
    third = _open(setup, task, 3)

    assert (failed["status"], failed["base_round"]) == ("failed", 1)
    assert third["base_round"] == 1
    assert [r["status"] for r in json.loads(setup.outsider.evaluate("ListRounds", task))] == [
        "accepted",
        "failed",
        "open",
    ]


def test_failing_the_last_round_finishes_the_task(setup: Setup, clock: ManualClock) -> None:
    task = setup.active_task(rounds=1)
    opened = _close(setup, task, 1)
    _move_to(clock, opened["deadline"] + ROUND_SECONDS + 1)

    _fail(setup, task, 1)

    stored = json.loads(setup.outsider.evaluate("GetTask", task))
    assert (stored["status"], stored["finished_at"]) == ("finished", _seconds(clock))
    assert json.loads(setup.ledger.event_log()[-1].payload)["task_status"] == "finished"
    again = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")
    assert again == f"round 1 of {task} is failed; only an undecided round can fail"
    next_round = reject(setup.ledger, setup.coordinator, "OpenRound", task, "2")
    assert next_round == f"{task} is finished, not active"
    assert round_view(setup.outsider, task)["status"] == "failed"


def test_an_open_round_cannot_fail_until_its_deadline_has_passed(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    deadline = _open(setup, task, 1)["deadline"]

    early = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")
    _move_to(clock, deadline)
    at_deadline = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")

    expected = f"round 1 of {task} cannot fail: its deadline {deadline} has not passed"
    assert early == expected and at_deadline == expected
    assert round_view(setup.outsider, task)["status"] == "open"


def test_a_late_open_round_with_the_quorum_cannot_fail_and_closes_instead(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    opened = _open(setup, task, 1)
    for contract in setup.trainers:
        setup.submit_update(contract, task)
    _move_to(clock, opened["deadline"] + 1)

    message = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")

    assert message == (
        f"round 1 of {task} cannot fail: 2 of 3 participants submitted, at least the quorum 2; "
        f"close it instead"
    )
    assert round_view(setup.outsider, task)["status"] == "open"
    closed = json.loads(setup.trainers[1].submit("CloseRound", task, "1"))
    assert closed["status"] == "closed"


def test_a_closed_round_cannot_fail_until_its_decision_deadline_has_passed(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()
    deadline = _close(setup, task, 1)["deadline"]

    early = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")
    _move_to(clock, deadline + 1)
    after_deadline = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")
    _move_to(clock, deadline + ROUND_SECONDS)
    at_due = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")

    expected = (
        f"round 1 of {task} cannot fail before its decision deadline {deadline + ROUND_SECONDS} "
        f"(its deadline {deadline} plus the task's round_seconds {ROUND_SECONDS})"
    )
    assert early == expected and after_deadline == expected and at_due == expected
    assert round_view(setup.outsider, task)["status"] == "closed"


def test_decided_rounds_cannot_fail(setup: Setup, clock: ManualClock) -> None:
    task = setup.active_task()
    _close(setup, task, 1)
    _decide(setup, task, 1, 9000)
    _close(setup, task, 2)
    _decide(setup, task, 2, 10, base=9000)  # far below the base model: rejected
    _move_to(clock, _seconds(clock) + 3 * ROUND_SECONDS)

    accepted = reject(setup.ledger, setup.trainers[1], "FailRound", task, "1")
    rejected = reject(setup.ledger, setup.trainers[0], "FailRound", task, "2")

    assert accepted == f"round 1 of {task} is accepted; only an undecided round can fail"
    assert rejected == f"round 2 of {task} is rejected; only an undecided round can fail"
    statuses = [r["status"] for r in json.loads(setup.outsider.evaluate("ListRounds", task))]
    assert statuses == ["accepted", "rejected", "open"]


@pytest.mark.parametrize(
    ("round_text", "message"),
    [
        ("2", "round 2 of {task} has not been opened"),
        ("4", "{task} has 3 rounds, got round 4"),
        ("0", 'round must be a positive integer of at most 999999, got "0"'),
    ],
)
def test_fail_round_names_rounds_that_do_not_exist(
    setup: Setup, clock: ManualClock, round_text: str, message: str
) -> None:
    task = setup.active_task()
    _move_to(clock, _open(setup, task, 1)["deadline"] + 1)

    answer = reject(setup.ledger, setup.trainers[1], "FailRound", task, round_text)

    assert answer == message.format(task=task)
    assert [r["status"] for r in json.loads(setup.outsider.evaluate("ListRounds", task))] == [
        "open"
    ]


def test_outsiders_unregistered_callers_and_unknown_tasks_cannot_fail_rounds(
    setup: Setup, clock: ManualClock, ledger: InMemoryLedger
) -> None:
    task = setup.active_task()
    _move_to(clock, _open(setup, task, 1)["deadline"] + 1)
    stranger = ledger.contract(Identity("Org7MSP", setup.outsider.identity.certificate_pem))
    unknown = "task-" + "0" * 32

    unregistered = reject(ledger, stranger, "FailRound", task, "1")
    missing = reject(ledger, setup.outsider, "FailRound", unknown, "1")
    outsider = reject(ledger, setup.outsider, "FailRound", task, "1")

    assert unregistered.endswith("is not a registered party; call RegisterParty first")
    assert missing == f"task {unknown} does not exist"
    assert outsider == (
        f"only the participants and the proposer of {task} may fail a round; "
        f"{pid(setup.outsider.identity)} is neither"
    )
    assert round_view(setup.outsider, task)["status"] == "open"
