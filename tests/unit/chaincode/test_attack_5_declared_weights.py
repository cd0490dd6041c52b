"""Attack 5: a participant declares its own sample count to weigh its update differently.

Each update used to declare a sample count, which drives every client's FedAvg rescale:
declaring 1 amplified the global update, declaring 2^62 crashed every client. The count that
weighs an update is now the one the task declares (and every participant approved); a
submission that declares another is refused, naming both, and changes nothing.
"""

from __future__ import annotations

import json

import pytest
from cc_helpers import reject
from training_helpers import Setup, proven_update, round_view


@pytest.mark.parametrize("declared", [1, 199, 201, 2**62, 2**63 - 1])
def test_an_update_declaring_another_sample_count_is_refused(setup: Setup, declared: int) -> None:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    trainer = setup.trainers[0]
    _, honest = proven_update(task, 1, setup.ids[1], setup.samples(trainer))
    lying = json.dumps({**json.loads(honest), "samples": declared})

    message = reject(setup.ledger, trainer, "SubmitUpdate", task, "1", lying)

    assert message == (
        f"samples {declared} differs from the 200 that {task} declares for party "
        f"{setup.ids[1]}; an update is weighted by the task's count"
    )
    assert round_view(setup.outsider, task)["submissions"] == []
    accepted = json.loads(trainer.submit("SubmitUpdate", task, "1", honest))
    assert accepted["samples"] == 200


def test_the_aggregate_counts_the_declared_samples_of_its_contributors(setup: Setup) -> None:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    for contract in setup.participants:
        setup.submit_update(contract, task)

    closed = json.loads(setup.outsider.submit("CloseRound", task, "1"))

    assert closed["aggregate"]["total_samples"] == 100 + 200 + 300
