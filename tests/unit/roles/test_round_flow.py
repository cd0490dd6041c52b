"""The round flow in-process: a whole task by the real roles on the in-memory ledger.

The coordinator runs in the test's thread and each participant in a thread of its own, all over
one in-memory ledger with the real contract, real 2048-bit threshold Paillier (the shared test
key), real proofs and real (tiny-model) training; they wait on the ledger's events.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from support.consortium import Consortium, run_whole_task

from fedledger.roles.training.decryptors import DecryptorPolicy, chosen_decryptors


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def test_a_whole_task_runs_with_exactly_t_decryptors_and_everyone_adopts_the_same_model(
    consortium: Consortium,
) -> None:
    task = consortium.propose()

    outcomes, reports, states = run_whole_task(consortium, task)

    assert [o.round for o in outcomes] == [1, 2]
    assert all(o.status in ("accepted", "rejected") for o in outcomes)
    for number, outcome in enumerate(outcomes, start=1):
        decryptors = {
            m.party["id"]
            for m, per_round in zip(consortium.members, reports, strict=True)
            if per_round[number - 1].decrypted
        }
        contributors = outcome.view.round.aggregate.contributors  # type: ignore[union-attr]
        assert decryptors == set(chosen_decryptors(contributors, number, 2))
        assert len(outcome.view.shares) == 2
        if outcome.status == "accepted":
            derived = {per_round[number - 1].weights_hash for per_round in reports}
            assert derived == {outcome.view.round.result.weights_hash}  # type: ignore[union-attr]
    assert chosen_decryptors(("a", "b", "c"), 1, 2) != chosen_decryptors(("a", "b", "c"), 2, 2)
    finals = [state.latest for state in states]
    assert all(np.array_equal(finals[0], other) for other in finals[1:])


def test_with_everyone_decrypting_each_contributor_publishes_a_share() -> None:
    with Consortium(DecryptorPolicy(everyone=True)) as consortium:
        task = consortium.propose()
        states = [m.role.join(task, timeout=1) for m in consortium.members]

        outcome, reports = consortium.play_round(task, states, 1)

    assert all(r.decrypted for r in reports)
    assert outcome.status in ("accepted", "rejected")


def test_rounds_report_their_phases_and_ledger_use(consortium: Consortium) -> None:
    task = consortium.propose()
    states = [m.role.join(task, timeout=1) for m in consortium.members]

    outcome, reports = consortium.play_round(task, states, 1)

    for report in reports:
        assert report.contributed and report.update_bytes > 0
        assert {"wall", "train", "encrypt", "combine", "ledger"} <= set(report.seconds)
        assert report.ledger_calls > 0 and report.ledger_bytes > report.update_bytes
    assert outcome.ledger.submits >= 2  # open and close
    assert outcome.seconds > 0
