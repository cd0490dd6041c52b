"""The typed client reads every record of a played round (in-memory consortium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.consortium import Consortium

from fedledger.contract import training


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def test_a_decided_round_reads_back_as_records(consortium: Consortium) -> None:
    # Prepare: one accepted round
    task = consortium.propose()
    states = [m.role.join(task, timeout=1) for m in consortium.members]
    outcome, _ = consortium.play_round(task, states, 1)
    assert outcome.status == "accepted"
    reader = consortium.members[0].contract
    party = consortium.members[1].role.party_id

    # Execute
    view = training.get_round(reader, task, 1)
    rounds = training.list_rounds(reader, task)
    update = training.get_update(reader, task, 1, party)
    aggregate = training.get_aggregate(reader, task, 1)
    shares = training.get_decryption_shares(reader, task, 1)
    current = training.get_current_model(reader, task)

    # Assert
    # the accepted round opens the next one
    assert [r.round for r in rounds] == [1, 2] and rounds[0] == view.round
    assert update.party == party and update.digest in {s.digest for s in view.submissions}
    assert aggregate.contributors == view.round.aggregate.contributors  # type: ignore[union-attr]
    assert [s.party for s in shares] == list(view.share_parties)
    assert training.get_decryption_share(reader, task, 1, shares[0].party).share
    assert (current.source, current.round) == ("round", 1)
    assert current.weights_hash == view.round.result.weights_hash  # type: ignore[union-attr]
    assert training.get_model_weights(reader, task).task_id == task
    assert training.get_key_envelope(reader, task, party).recipient == party
    later = consortium.propose()  # a task whose first round is not open yet
    assert training.find_round(reader, later, 1) is None
    assert [t.id for t in training.list_tasks(reader, party)] == sorted([task, later])
