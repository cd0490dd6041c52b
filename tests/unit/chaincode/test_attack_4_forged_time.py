"""Attack 4: clients that forge the timestamp they sign, to move a round's deadlines.

A proposal's timestamp is chosen by its client; the peers refuse one further than their time
window (60 s here, as the local network sets it) from their own clock, which the in-memory
ledger does as a peer would (``InMemoryContract.skewed``). What remains is bounded: only the
task's participants and proposer may close a round early or fail one, a round lasts at least
five windows, and nothing may be stamped before a time the round has already accepted (its
high-water mark). The tests try each attack as its attacker would.
"""

from __future__ import annotations

import json

import pytest
from cc_helpers import reject
from training_helpers import Setup, pid, round_view, stored_round, task_json

from fedledger.errors import GatewayError
from fedledger.ledger.memory import ManualClock

WINDOW = 60


def _now(clock: ManualClock) -> int:
    return clock() // 10**9


def _move_to(clock: ManualClock, second: int) -> None:
    clock.advance(seconds=second - _now(clock))


def _opened(setup: Setup) -> tuple[str, int]:
    task = setup.active_task()
    record = json.loads(setup.coordinator.submit("OpenRound", task, "1"))
    return task, int(record["deadline"])


def test_the_peers_refuse_a_timestamp_beyond_their_time_window(setup: Setup) -> None:
    task, _ = _opened(setup)
    before = setup.ledger.snapshot()

    with pytest.raises(GatewayError, match=r"peer\.authentication\.timewindow 60s"):
        setup.trainers[0].skewed(601).submit("FailRound", task, "1")

    assert setup.ledger.snapshot() == before


def test_an_outsider_cannot_fail_a_round_right_after_it_opens(setup: Setup) -> None:
    task, _ = _opened(setup)
    outsider = setup.outsider.skewed(WINDOW)

    message = reject(setup.ledger, outsider, "FailRound", task, "1")

    assert message == (
        f"only the participants and the proposer of {task} may fail a round; "
        f"{pid(setup.outsider.identity)} is neither"
    )


def test_a_participant_cannot_fail_an_open_round_a_window_before_its_deadline(
    setup: Setup, clock: ManualClock
) -> None:
    task, deadline = _opened(setup)
    _move_to(clock, deadline - WINDOW - 1)

    message = reject(setup.ledger, setup.trainers[0].skewed(WINDOW), "FailRound", task, "1")

    assert message == f"round 1 of {task} cannot fail: its deadline {deadline} has not passed"


def test_nobody_can_fail_a_closed_round_while_shares_are_still_due(
    setup: Setup, clock: ManualClock
) -> None:
    task, deadline = _opened(setup)
    for contract in setup.participants:
        setup.submit_update(contract, task)
    setup.trainers[0].submit("CloseRound", task, "1")
    share = setup.share(setup.trainers[1], task)
    setup.trainers[1].submit("SubmitDecryptionShare", task, "1", share)
    due = deadline + 600
    _move_to(clock, due - WINDOW - 1)

    by_participant = reject(setup.ledger, setup.trainers[0].skewed(WINDOW), "FailRound", task, "1")
    by_outsider = reject(setup.ledger, setup.outsider.skewed(WINDOW), "FailRound", task, "1")

    assert by_participant.startswith(
        f"round 1 of {task} cannot fail before its decision deadline {due}"
    )
    assert by_outsider.startswith("only the participants and the proposer")
    assert round_view(setup.outsider, task)["status"] == "closed"


def test_a_quorum_round_cannot_be_closed_early_to_exclude_a_participant(
    setup: Setup, clock: ManualClock
) -> None:
    task, deadline = _opened(setup)
    for contract in setup.trainers:
        setup.submit_update(contract, task)
    _move_to(clock, deadline - WINDOW - 1)

    by_outsider = reject(setup.ledger, setup.outsider.skewed(WINDOW), "CloseRound", task, "1")
    by_participant = reject(setup.ledger, setup.trainers[0].skewed(WINDOW), "CloseRound", task, "1")
    # Within the window a participant gains at most the window itself, never more.
    _move_to(clock, deadline - WINDOW + 1)
    closed = json.loads(setup.trainers[0].skewed(WINDOW).submit("CloseRound", task, "1"))

    assert by_outsider.startswith("only the participants and the proposer")
    assert by_participant == (
        f"round 1 of {task} cannot close yet: 2 of 3 participants submitted and the deadline "
        f"{deadline} has not passed"
    )
    assert closed["closed_at"] == deadline + 1 and _now(clock) == deadline - WINDOW + 1


def test_a_late_update_cannot_be_backdated_into_a_round_that_moved_on(
    setup: Setup, clock: ManualClock
) -> None:
    task, deadline = _opened(setup)
    for contract in setup.trainers:
        setup.submit_update(contract, task)
    _move_to(clock, deadline + 5)
    setup.trainers[0].submit("CloseRound", task, "1")
    late = setup.coordinator.skewed(-30)

    update = reject(setup.ledger, late, "SubmitUpdate", task, "1", setup.update(late, task))
    share = setup.share(setup.trainers[1], task)
    backdated_share = reject(
        setup.ledger, setup.trainers[1].skewed(-30), "SubmitDecryptionShare", task, "1", share
    )

    assert update == f"round 1 of {task} is closed; updates are accepted only while it is open"
    assert backdated_share == (
        f"the transaction timestamp {deadline - 25} is before the high-water mark {deadline + 5} "
        f"of round 1 of {task}: a later time was already accepted for it"
    )


def test_the_next_round_cannot_be_opened_with_a_backdated_deadline(
    setup: Setup, clock: ManualClock
) -> None:
    task, deadline = _opened(setup)
    _move_to(clock, deadline + 10)
    setup.trainers[0].submit("FailRound", task, "1")
    second = stored_round(setup.outsider, task, 2)

    message = reject(setup.ledger, setup.coordinator.skewed(-20), "OpenRound", task, "2")

    # Round 2 opened in the failing transaction, at its time: nobody chooses an earlier start.
    assert (second["opened_at"], second["deadline"]) == (deadline + 10, deadline + 10 + 600)
    assert message == f"round 2 of {task} was already opened"


def test_a_task_cannot_ask_for_rounds_shorter_than_five_windows(setup: Setup) -> None:
    message = reject(
        setup.ledger, setup.coordinator, "ProposeTask", task_json(setup.ids, round_seconds=299)
    )

    assert message == (
        "round_seconds must be at least 300 (five times the peers' time window), got 299"
    )
