"""The participant's failure paths, each named: missed, failed, diverged, stalled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
from support.consortium import PLAN, Consortium

from fedledger.ledger.events import EventFeed
from fedledger.roles.ledger_io import WaitTimeout, Watch, get_round, get_task, task_events
from fedledger.roles.training.participant import DivergedFromMajority


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def _until_status(consortium: Consortium, task: str, number: int, status: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        view = get_round(consortium.coordinator_contract, task, number)
        if view is not None and view.round.status == status:
            return
        assert time.monotonic() < deadline, f"round {number} never became {status}"
        time.sleep(0.01)


def test_a_participant_that_misses_the_deadline_still_adopts_the_accepted_model(
    consortium: Consortium,
) -> None:
    task = consortium.propose(replace(PLAN, quorum=2))
    states = [m.role.join(task, timeout=1) for m in consortium.members]
    record = get_task(consortium.coordinator_contract, task)
    with (
        ThreadPoolExecutor(max_workers=4) as pool,
        EventFeed(consortium.coordinator_contract, accept=task_events(task)) as feed,
    ):
        outcome = pool.submit(
            consortium.coordinator.run_round, record, 1, Watch(feed, fallback_seconds=0.1)
        )
        _until_status(consortium, task, 1, "open")
        for member, state in zip(consortium.members[:2], states[:2], strict=True):
            consortium.submit_update(member, state, 1, 0.001)
        consortium.clock.advance(PLAN.round_seconds + 2)
        _until_status(consortium, task, 1, "closed")
        reports = [
            pool.submit(m.role.run_round, s, 1)
            for m, s in zip(consortium.members, states, strict=True)
        ]
        decided = outcome.result(timeout=60)
        late = reports[2].result(timeout=60)

    assert decided.status == "accepted"
    assert late.status == "missed" and not late.contributed
    assert np.array_equal(states[2].models[1], states[0].models[1])


def test_a_participant_of_a_failed_round_reports_it_and_goes_on(consortium: Consortium) -> None:
    task = consortium.propose()
    state = consortium.members[0].role.join(task, timeout=1)
    for member in consortium.members[1:]:
        member.role.join(task, timeout=1)
    record = get_task(consortium.coordinator_contract, task)
    with (
        ThreadPoolExecutor(max_workers=2) as pool,
        EventFeed(consortium.coordinator_contract, accept=task_events(task)) as feed,
    ):
        outcome = pool.submit(
            consortium.coordinator.run_round, record, 1, Watch(feed, fallback_seconds=0.1)
        )
        report = pool.submit(consortium.members[0].role.run_round, state, 1)
        _until_status(consortium, task, 1, "open")
        time.sleep(0.5)  # the lone participant trains and submits; the others never do
        consortium.clock.advance(PLAN.round_seconds + 2)
        failed = outcome.result(timeout=60)

        assert failed.status == "failed"
        assert report.result(timeout=60).status == "failed"
    assert sorted(state.models) == [0]


def test_a_participant_that_derives_other_weights_than_the_majority_says_so(
    consortium: Consortium,
) -> None:
    task = consortium.propose()
    states = [m.role.join(task, timeout=1) for m in consortium.members]
    states[2].models[0] = states[2].models[0] + 1.0  # its idea of the initial model is wrong

    with pytest.raises(DivergedFromMajority) as diverged:
        consortium.play_round(task, states, 1)

    assert "was accepted with weights" in str(diverged.value)
    assert "but this participant derived" in str(diverged.value)


def test_a_participant_waits_for_a_round_only_so_long(consortium: Consortium) -> None:
    task = consortium.propose()
    member = consortium.members[0]
    state = member.role.join(task, timeout=1)
    member.role.step_timeout = 0.5

    with pytest.raises(WaitTimeout, match="waiting for round 1 to open"):
        member.role.run_round(state, 1)
