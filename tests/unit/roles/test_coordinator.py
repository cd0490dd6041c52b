"""The coordinator's round handling on the in-memory ledger, with the ledger's clock in hand.

The coordinator runs its round in a thread, waiting on the ledger's events, while the test plays
the participants (or their absence) and moves the ledger's clock past deadlines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from support.consortium import PLAN, Consortium

from fedledger.ledger.events import EventFeed
from fedledger.protocol.training import DEFAULT_MAX_UPDATE_BYTES, MAX_ROUND_BYTES
from fedledger.roles.ledger_io import Watch, get_round, get_task, task_events
from fedledger.roles.training.coordinator import RoundOutcome, max_update_bytes_for
from fedledger.roles.training.participant import TaskState


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def _joined(consortium: Consortium, **plan: object) -> tuple[str, list[TaskState]]:
    task = consortium.propose(replace(PLAN, **plan))  # type: ignore[arg-type]
    return task, [m.role.join(task, timeout=1) for m in consortium.members]


def _wait_status(consortium: Consortium, task: str, number: int, statuses: set[str]) -> None:
    deadline = time.monotonic() + 10
    while True:
        view = get_round(consortium.coordinator_contract, task, number)
        if view is not None and view.round.status in statuses:
            return
        assert time.monotonic() < deadline, f"round {number} never reached {statuses}"
        time.sleep(0.01)


def _drive(
    consortium: Consortium, task_id: str, number: int, act: Callable[[], None]
) -> RoundOutcome:
    """Run the coordinator's round in a thread; once it opened the round, run ``act``."""
    task = get_task(consortium.coordinator_contract, task_id)
    with (
        ThreadPoolExecutor(max_workers=1) as pool,
        EventFeed(consortium.coordinator_contract, accept=task_events(task_id)) as feed,
    ):
        watch = Watch(feed, fallback_seconds=0.1)
        future = pool.submit(consortium.coordinator.run_round, task, number, watch)
        _wait_status(consortium, task_id, number, {"open"})
        act()
        return future.result(timeout=60)


def test_a_round_without_the_quorum_at_its_deadline_is_failed_not_closed(
    consortium: Consortium,
) -> None:
    task, _ = _joined(consortium)

    outcome = _drive(consortium, task, 1, lambda: consortium.clock.advance(PLAN.round_seconds + 2))

    assert outcome.status == "failed"
    assert "fewer than the quorum 3" in (outcome.view.round.reason or "")
    # The task goes on: round 2 may open, from the initial weights.
    second = _drive(consortium, task, 2, lambda: consortium.clock.advance(PLAN.round_seconds + 2))
    assert second.view.round.base_round == 0


def test_a_round_with_the_quorum_at_its_deadline_is_closed(consortium: Consortium) -> None:
    task, states = _joined(consortium, quorum=2)

    def two_submit_then_the_deadline_passes() -> None:
        for member, state in zip(consortium.members[:2], states[:2], strict=True):
            consortium.submit_update(member, state, 1, 0.01)
        consortium.clock.advance(PLAN.round_seconds + 2)
        _wait_status(consortium, task, 1, {"closed"})
        consortium.clock.advance(PLAN.round_seconds + 2)  # and nobody decrypts

    outcome = _drive(consortium, task, 1, two_submit_then_the_deadline_passes)

    assert outcome.view.round.aggregate is not None
    assert len(outcome.view.round.aggregate.contributors) == 2
    assert outcome.status == "failed"
    assert "decryption shares" in (outcome.view.round.reason or "")


def test_a_round_everyone_submitted_to_closes_before_its_deadline(
    consortium: Consortium,
) -> None:
    task, states = _joined(consortium)

    def everyone_submits_then_waits() -> None:
        for member, state in zip(consortium.members, states, strict=True):
            consortium.submit_update(member, state, 1, 0.01)
        _wait_status(consortium, task, 1, {"closed"})
        consortium.clock.advance(2 * PLAN.round_seconds + 2)

    outcome = _drive(consortium, task, 1, everyone_submits_then_waits)

    assert outcome.view.round.closed_at is not None
    assert outcome.view.round.closed_at < outcome.view.round.deadline
    assert outcome.view.round.aggregate is not None
    assert outcome.view.round.aggregate.total_samples == 40 + 60 + 80


def test_a_restarted_coordinator_picks_up_an_open_round_and_skips_decided_ones(
    consortium: Consortium,
) -> None:
    task, _ = _joined(consortium, rounds=1)
    consortium.coordinator_contract.submit("OpenRound", task, "1")  # then the coordinator died
    consortium.clock.advance(PLAN.round_seconds + 2)

    outcomes = consortium.coordinator.run_task(task, timeout=30)
    again = consortium.coordinator.run_task(task, timeout=30)

    assert [(o.round, o.status) for o in outcomes] == [(1, "failed")]
    assert again == []
    assert get_task(consortium.coordinator_contract, task).status == "finished"


@pytest.mark.parametrize(
    ("participants", "limit"),
    [(3, DEFAULT_MAX_UPDATE_BYTES), (16, DEFAULT_MAX_UPDATE_BYTES), (50, MAX_ROUND_BYTES // 50)],
)
def test_a_task_limits_updates_so_that_a_round_of_all_of_them_fits_one_chaincode_message(
    participants: int, limit: int
) -> None:
    chosen = max_update_bytes_for(PLAN, participants)

    assert chosen == limit
    assert participants * chosen <= MAX_ROUND_BYTES
    assert max_update_bytes_for(replace(PLAN, max_update_bytes=1000), participants) == 1000
