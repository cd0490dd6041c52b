"""Attack 7: one contributor vetoes a round by reporting a bogus result first, or none at all.

The first report's weights digest used to bind every later one, so a spoiler that reported first
(or withheld its report) blocked the round. Now every report is stored and the outcome reported
by a strict majority of contributors decides; the spoiler is named as a dissenter.
"""

from __future__ import annotations

import json

import pytest
from training_helpers import Setup, stored_round

HONEST = "a1" * 32
BOGUS = "f0" * 32


def _result(weights_hash: str, accuracy: int = 9000) -> str:
    return json.dumps(
        {"weights_hash": weights_hash, "accuracy_bp": accuracy, "base_accuracy_bp": 0}
    )


@pytest.fixture
def task(setup: Setup) -> str:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    for contract in setup.participants:
        setup.submit_update(contract, task)
    setup.outsider.submit("CloseRound", task, "1")
    for contract in setup.participants[:2]:
        contract.submit("SubmitDecryptionShare", task, "1", setup.share(contract, task))
    return task


def test_a_spoiler_reporting_a_bogus_digest_first_is_outvoted_and_named(
    setup: Setup, task: str
) -> None:
    spoiler, *honest = setup.participants

    spoiler.submit("ReportResult", task, "1", _result(BOGUS, 10_000))
    for contract in honest:
        answer = json.loads(contract.submit("ReportResult", task, "1", _result(HONEST)))

    decided = answer["round"]
    assert decided["status"] == "accepted"
    assert decided["result"]["weights_hash"] == HONEST
    assert decided["dissent"] == {setup.ids[0]: BOGUS}
    assert setup.ids[0] not in decided["result"]["accuracies"]  # its 10000 does not count


def test_a_spoiler_withholding_its_report_does_not_block_the_round(setup: Setup, task: str) -> None:
    for contract in setup.trainers:
        answer = json.loads(contract.submit("ReportResult", task, "1", _result(HONEST)))

    assert answer["round"]["status"] == "accepted"
    assert stored_round(setup.outsider, task, 2)["base_round"] == 1
