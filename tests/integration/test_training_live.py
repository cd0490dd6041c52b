"""Federated training over the real network, driven by the roles themselves.

One module-scoped run: the coordinator (Org1's Admin) runs the task in the test's thread and the
three participants (User2 of Org1-3, each with its own Gateway connection) run it in threads of
their own, waiting on chaincode events as separate processes would. A small model (784-8-10)
keeps threshold decryption quick. The tests below assert on what the run produced and on the
ledger; a second task exercises the refusals on an open round.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from support.keys import SAFE_2048_P, SAFE_2048_Q

from fedledger.consortium import runner
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.quorum import decrypt_aggregate
from fedledger.crypto.vectors import encrypt_update
from fedledger.errors import AssetNotFound, ContractError, CryptoError
from fedledger.learning import models
from fedledger.learning.fedavg import scale_update
from fedledger.learning.models import ModelSpec, initial_weights
from fedledger.learning.training import train_local
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.popk import ProofContext
from fedledger.roles.ledger_io import get_aggregate, get_round, get_share
from fedledger.roles.training.coordinator import Coordinator, RoundOutcome, TaskPlan
from fedledger.roles.training.dataplan import DataPlan, participant_data
from fedledger.roles.training.participant import Participant, RoundReport, TaskState

pytestmark = [pytest.mark.fabric, pytest.mark.slow]

MODEL = "mlp8"
ROUNDS = 2


def _keypair() -> tuple[PublicKey, PrivateKey]:
    public = PublicKey(SAFE_2048_P * SAFE_2048_Q)
    return public, PrivateKey(public, SAFE_2048_P, SAFE_2048_Q)


@dataclass
class Consortium:
    """The live consortium: the library's runner over Gateway connections, its coordinator,
    contracts, participants (with their data) and party records."""

    runner: runner.Consortium
    coordinator: Coordinator
    coordinator_contract: GatewayContract
    contracts: list[GatewayContract]
    participants: list[Participant]
    records: list[dict[str, object]]

    def propose(self, rounds: int = ROUNDS) -> str:
        plan = TaskPlan(model=MODEL, rounds=rounds, threshold=2, tolerance_bp=300)
        return self.coordinator.propose_task(
            plan, self.records, initial_weights(MODEL, seed=0), _keypair()
        )


@dataclass
class Run:
    """What one whole task by the roles produced."""

    task_id: str
    outcomes: list[RoundOutcome]
    reports: list[list[RoundReport]]
    states: list[TaskState]


@pytest.fixture(scope="module")
def consortium(fabric_profile: Path) -> Iterator[Consortium]:
    opened: list[GatewayContract] = []

    def contract_for(name: str) -> GatewayContract:
        org, user = ("Org1", "Admin") if name == "coordinator" else (name, "User2")
        opened.append(connect(fabric_profile, org=org, user=user))
        return opened[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(models.MODELS, MODEL, ModelSpec(MODEL, hidden=8))
        plan = DataPlan(participants=3, seed=0)
        data = [participant_data(plan, index) for index in (1, 2, 3)]
        try:
            made = runner.Consortium(contract_for, data)
            yield Consortium(
                made, made.coordinator, opened[0], opened[1:], [m.role for m in made.members],
                made.parties,
            )  # fmt: skip
        finally:
            for contract in opened:
                contract.close()


@pytest.fixture(scope="module")
def run(consortium: Consortium) -> Run:
    task_id = consortium.propose()
    states = consortium.runner.join(task_id)
    consortium.coordinator.wait_active(task_id, 120)
    done = consortium.runner.run_task(task_id, states, timeout=600)
    return Run(task_id, done.outcomes, done.reports, states)


def test_every_round_is_decided_and_the_task_finishes(run: Run, consortium: Consortium) -> None:
    assert [o.round for o in run.outcomes] == [1, 2]
    assert all(o.status == "accepted" for o in run.outcomes)
    task = json.loads(consortium.coordinator_contract.evaluate("GetTask", run.task_id))
    assert task["status"] == "finished"


def test_the_decrypted_aggregate_is_the_plaintext_weighted_sum_of_the_same_updates(
    run: Run, consortium: Consortium
) -> None:
    total = sum(int(r["samples"]) for r in consortium.records)  # type: ignore[call-overload]
    for outcome in run.outcomes:
        number, base_round = outcome.round, outcome.view.round.base_round
        base = run.states[0].models[base_round]
        expected = np.zeros_like(base)
        for participant in consortium.participants:
            # The same seeded training again gives the very update that was encrypted.
            again = train_local(
                MODEL, base, participant.train, participant.config,
                seed=participant.seed * 1000 + number,
            )  # fmt: skip
            expected += scale_update(again.update, len(participant.train), total)
        derived = run.states[0].models[number] - base
        # quantisation (3 summands x 2^-17) plus float32 rounding of the weights
        assert np.max(np.abs(derived - expected)) < 1e-4
        assert np.max(np.abs(expected)) > 1e-3  # the update is not trivially 0


def test_exactly_t_chosen_participants_decrypt_and_all_adopt_the_same_weights(run: Run) -> None:
    for index, outcome in enumerate(run.outcomes):
        decrypted = [per_round[index].decrypted for per_round in run.reports]
        assert sum(decrypted) == 2
        result = outcome.view.round.result
        assert result is not None and outcome.view.round.dissent == {}
        assert {per_round[index].weights_hash for per_round in run.reports} == {result.weights_hash}
    finals = [state.latest for state in run.states]
    assert all(np.array_equal(finals[0], other) for other in finals[1:])


def test_accuracy_after_round_two_is_not_below_round_one_beyond_tolerance(run: Run) -> None:
    medians = [o.view.round.result.median_bp for o in run.outcomes if o.view.round.result]
    assert medians[0] > 2000  # far above chance (10 classes)
    assert medians[1] >= medians[0] - 300


def test_fewer_than_t_shares_cannot_decrypt(run: Run, consortium: Consortium) -> None:
    contract, state = consortium.contracts[0], run.states[0]
    view = get_round(contract, run.task_id, 1)
    assert view is not None
    first = view.share_parties[0]
    share = get_share(contract, run.task_id, 1, first)
    aggregate = get_aggregate(contract, run.task_id, 1)

    with pytest.raises(CryptoError, match="need decryption shares from 2 parties, got 1"):
        decrypt_aggregate(
            state.tkey, aggregate, [(first, share)], indices=state.indices, summands=3
        )


def test_a_missing_asset_is_told_apart_by_its_status_through_the_gateway(
    run: Run, consortium: Consortium
) -> None:
    contract = consortium.contracts[1]
    with pytest.raises(AssetNotFound) as missing:
        contract.evaluate("GetTask", "task-" + "0" * 32)
    with pytest.raises(ContractError) as refused:
        contract.evaluate("GetRound", run.task_id, "3")

    assert missing.value.status == 404
    assert missing.value.message == f"task task-{'0' * 32} does not exist"
    assert not isinstance(refused.value, AssetNotFound) and refused.value.status == 500
    assert refused.value.message == f"{run.task_id} has 2 rounds, got round 3"


def test_the_roles_waited_on_round_events_that_reached_them_through_the_gateway(
    run: Run, consortium: Consortium
) -> None:
    seen: list[tuple[str, int]] = []
    opened_by: dict[int, str] = {}  # round -> the event of the transaction that opened it
    for event in consortium.coordinator_contract.events(start_block=0, timeout=30):
        payload = json.loads(event.payload)
        if payload.get("task_id") != run.task_id or "round" not in payload:
            continue
        seen.append((event.name, payload["round"]))
        if event.name == "RoundOpened":
            opened_by[payload["round"]] = "RoundOpened"
        elif payload.get("next_round"):
            opened_by[payload["next_round"]] = event.name
        if (event.name, payload["round"]) == ("RoundDecrypted", ROUNDS):
            break

    # Round 1 opens by OpenRound; each later round in the transaction that decided the one before.
    assert opened_by == {1: "RoundOpened", **{n: "RoundDecrypted" for n in range(2, ROUNDS + 1)}}
    for number in range(1, ROUNDS + 1):
        for name in ("UpdateSubmitted", "RoundClosed", "SharesReady"):
            assert (name, number) in seen
        assert ("RoundDecrypted", number) in seen
    assert seen.index(("RoundOpened", 1)) < seen.index(("RoundClosed", 1))
    assert seen.index(("RoundClosed", 1)) < seen.index(("RoundDecrypted", 1))


# ------------------------------------------------------------------ refusals on an open round
@pytest.fixture(scope="module")
def open_round(consortium: Consortium, run: Run) -> tuple[str, TaskState, CipherVector, str]:
    """A second task whose round 1 is open, with the first participant's update in."""
    task_id = consortium.propose(rounds=1)
    states = [p.join(task_id) for p in consortium.participants]
    consortium.coordinator.wait_active(task_id, 120)
    consortium.coordinator_contract.submit("OpenRound", task_id, "1")
    first, state = consortium.participants[0], states[0]
    context = ProofContext(task_id, 1, first.party_id, state.public_key.fingerprint)
    values = [0.001] * state.task.value_count
    vector, proof = encrypt_update(values, state.public_key, state.encoding, state.pool, context)
    request = json.dumps(
        {"vector": vector.to_base64(), "samples": len(first.train), "proof": proof.to_base64()}
    )
    first.contract.submit("SubmitUpdate", task_id, "1", request)
    return task_id, state, vector, request


def _refused(contract: GatewayContract, task_id: str, *call: str) -> str:
    """Submit a call that must fail; check the round did not change; return the message."""
    before = get_round(contract, task_id, 1)
    with pytest.raises(ContractError) as caught:
        contract.submit(*call)
    assert get_round(contract, task_id, 1) == before
    return caught.value.message


def _tampered(vector: CipherVector, ciphertexts: tuple[int, ...], value_count: int) -> str:
    return CipherVector(
        vector.key_fingerprint, vector.spec, value_count, vector.ciphertext_width, ciphertexts
    ).to_base64()


def test_bad_submissions_are_refused_by_the_real_network_and_change_nothing(
    consortium: Consortium, open_round: tuple[str, TaskState, CipherVector, str]
) -> None:
    task_id, state, vector, request = open_round
    second, stranger = consortium.participants[1], consortium.coordinator_contract
    samples = len(second.train)
    short = _tampered(vector, vector.ciphertexts[:-1], vector.value_count - vector.spec.slots)
    too_big = _tampered(
        vector, (state.public_key.nsquare + 1, *vector.ciphertexts[1:]), vector.value_count
    )

    def update(payload: str) -> str:
        return json.dumps({"vector": payload, "samples": samples, "proof": "AAAA"})

    messages = {
        "second": _refused(
            consortium.participants[0].contract, task_id, "SubmitUpdate", task_id, "1", request
        ),
        "stranger": _refused(stranger, task_id, "SubmitUpdate", task_id, "1", request),
        "copy": _refused(second.contract, task_id, "SubmitUpdate", task_id, "1", json.dumps(
            {**json.loads(request), "samples": samples}
        )),
        "short": _refused(second.contract, task_id, "SubmitUpdate", task_id, "1", update(short)),
        "too big": _refused(
            second.contract, task_id, "SubmitUpdate", task_id, "1", update(too_big)
        ),
    }  # fmt: skip

    first = consortium.participants[0].party_id
    assert (
        messages["second"] == f"party {first} already submitted an update for round 1 of {task_id}"
    )
    assert messages["stranger"].endswith(f"is not a participant of {task_id}")
    assert messages["copy"].startswith(
        f"the proof of plaintext knowledge does not verify for party {second.party_id}"
    )
    assert messages["short"].startswith("vector is invalid: expected")
    assert messages["too big"] == "vector is invalid: ciphertext 0 is not in Z*(n^2)"
