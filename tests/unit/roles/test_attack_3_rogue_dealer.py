"""Attack 3: a rogue dealer proposes a task under a key it keeps, to decrypt every update.

Any registered party can generate a key, deal it, seal the shares to the participants'
registered X25519 keys and propose a task listing them; participants that joined the newest task
listing them (and approved before checking it) would then encrypt their updates under a key the
rogue can decrypt alone. A participant now joins only tasks proposed by a coordinator it was told
to trust, and checks the whole task before it approves anything; tasks that let one key holder
decrypt (t = 1) or an "aggregate" be one update (quorum 1) are refused by the contract itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from support.consortium import PLAN, Consortium

from fedledger.errors import ContractError
from fedledger.protocol.task_records import PublicKeyInfo
from fedledger.roles.ledger_io import WaitTimeout, get_task
from fedledger.roles.training.task_policy import TaskRefused, check_task, find_task_for


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def test_a_participant_refuses_a_task_dealt_by_a_party_it_does_not_trust(
    consortium: Consortium,
) -> None:
    rogue_task = consortium.propose(by=consortium.stranger)
    member = consortium.members[0]
    before = consortium.ledger.snapshot()

    with pytest.raises(TaskRefused) as refused:
        member.role.join(rogue_task, timeout=1)

    stranger = json.loads(consortium.stranger.evaluate("GetTask", rogue_task))["proposer"]
    assert str(refused.value) == (
        f"{rogue_task} was proposed by {stranger}, who is not a coordinator this participant trusts"
    )
    assert consortium.ledger.snapshot() == before  # nothing approved, nothing submitted


def test_discovery_skips_the_rogue_task_and_finds_the_trusted_one(
    consortium: Consortium,
) -> None:
    consortium.propose(by=consortium.stranger)
    member = consortium.members[0]

    with pytest.raises(WaitTimeout):
        find_task_for(member.contract, member.party["id"], member.role.policy, timeout=0.5)
    trusted = consortium.propose()

    assert find_task_for(member.contract, member.party["id"], member.role.policy, 1) == trusted
    state = member.role.join(trusted, timeout=1)
    assert state.task.id == trusted


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            replace(PLAN, threshold=1, quorum=1),
            "threshold must be at least 2, got 1: with one share a single key holder could "
            "decrypt every participant's update",
        ),
        (
            replace(PLAN, quorum=1),
            "quorum must be between the threshold 2 and the 3 participants, got 1",
        ),
    ],
)
def test_the_contract_refuses_tasks_one_party_could_decrypt(
    consortium: Consortium, plan: object, message: str
) -> None:
    before = consortium.ledger.snapshot()

    with pytest.raises(ContractError) as refused:
        consortium.propose(plan=plan, by=consortium.stranger)  # type: ignore[arg-type]

    assert refused.value.message == message
    assert consortium.ledger.snapshot() == before


def test_a_participant_checks_what_a_lying_peer_might_answer_for_a_trusted_task(
    consortium: Consortium,
) -> None:
    trusted = consortium.propose()
    member = consortium.members[0]
    task = get_task(member.contract, trusted)
    cases = {
        "quorum 2 is below 3 (the threshold 2 and this participant's minimum 3)": (
            replace(task, quorum=2),
            replace(member.role.policy, min_quorum=3),
        ),
        "threshold 1 lets fewer than two key holders decrypt": (replace(task, threshold=1), None),
        "rounds of 120 s are shorter than this participant's minimum of 300 s": (
            replace(task, round_seconds=120),
            None,
        ),
        f"{trusted} declares 40 samples for this participant, which holds 41": (
            task,
            replace(member.role.policy, expected_samples=41),
        ),
        "the task's threshold data deals 2 of 3 shares, the task says 3 of 3": (
            replace(task, threshold=3, quorum=3),
            None,
        ),
        "the task's key fingerprint is not the fingerprint of its modulus": (
            replace(task, public_key=PublicKeyInfo(task.public_key.n, 2048, "0" * 64)),
            None,
        ),
        "the task names model 'mlp-x', whose architecture this code lacks": (
            replace(task, model="mlp-x"),
            None,
        ),
    }
    for message, (changed, policy) in cases.items():
        with pytest.raises(TaskRefused) as refused:
            check_task(changed, member.party["id"], policy or member.role.policy)
        assert str(refused.value) == message
