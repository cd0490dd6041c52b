"""A participant that restarts during a task rejoins it: restored models, replayed rounds, same end.

The first life of the participant plays round 1; a new Participant object with the same identity,
key and data (what `fedledger participant run` builds after a crash) joins the task again and
plays on with the others until the task finishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from support.consortium import Consortium, Member

from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.participant import Pacing, Participant, TaskState


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def _restarted(consortium: Consortium, member: Member, store: ModelStore | None) -> Participant:
    first = member.role
    return Participant(
        member.contract,
        member.party["id"],
        member.kx_key,
        first.data,
        policy=first.policy,
        training=first.training,
        decryptors=first.decryptors,
        pacing=Pacing(fallback_seconds=0.2, clock=consortium.now),
        checkpoints=store,
    )


def _finish(
    consortium: Consortium, task: str, roles: list[Participant], states: list[TaskState]
) -> None:
    consortium.run_task(task, states, roles)


def _first_round(consortium: Consortium, store: ModelStore | None) -> tuple[str, list[TaskState]]:
    consortium.members[0].role.checkpoints = store
    task = consortium.propose()
    states = [m.role.join(task, timeout=1) for m in consortium.members]
    outcome, _ = consortium.play_round(task, states, 1)
    assert outcome.status == "accepted"
    return task, states


def test_a_restarted_participant_restores_its_checkpoint_and_finishes_the_task(
    consortium: Consortium, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    task, states = _first_round(consortium, store)
    again = _restarted(consortium, consortium.members[0], store)

    rejoined = again.join(task, timeout=1)
    _finish(consortium, task, [again, *(m.role for m in consortium.members[1:])],
            [rejoined, *states[1:]])  # fmt: skip

    assert np.array_equal(rejoined.models[1], states[0].models[1])
    assert store.rounds(task) == [1, 2]
    assert np.array_equal(rejoined.latest, states[1].latest)


def test_without_a_checkpoint_the_decided_round_is_replayed_from_the_ledger(
    consortium: Consortium,
) -> None:
    task, states = _first_round(consortium, None)
    again = _restarted(consortium, consortium.members[0], None)

    rejoined = again.join(task, timeout=1)
    assert sorted(rejoined.models) == [0]
    _finish(consortium, task, [again, *(m.role for m in consortium.members[1:])],
            [rejoined, *states[1:]])  # fmt: skip

    assert np.array_equal(rejoined.models[1], states[1].models[1])
    assert np.array_equal(rejoined.latest, states[1].latest)


def test_a_checkpoint_the_ledger_does_not_confirm_is_not_restored(
    consortium: Consortium, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    task, states = _first_round(consortium, store)
    forged = states[0].models[1] + np.float32(0.5)
    store.save(task, 1, forged)  # a consistent file, but not the weights the ledger accepted
    again = _restarted(consortium, consortium.members[0], store)

    rejoined = again.join(task, timeout=1)

    assert sorted(rejoined.models) == [0]


def test_a_corrupt_checkpoint_is_skipped_and_its_round_replayed(
    consortium: Consortium, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    task, states = _first_round(consortium, store)
    (path,) = (tmp_path / "models" / task).iterdir()
    path.write_bytes(b"not a model")
    again = _restarted(consortium, consortium.members[0], store)

    rejoined = again.join(task, timeout=1)
    _finish(consortium, task, [again, *(m.role for m in consortium.members[1:])],
            [rejoined, *states[1:]])  # fmt: skip

    assert np.array_equal(rejoined.models[1], states[1].models[1])
