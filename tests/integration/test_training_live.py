"""Federated training over the real network: 3 participants, 2 rounds, every rule enforced.

One module-scoped run drives the coordinator and the three participants step by step (each with
its own org identity and Gateway connection) and records what it saw; the tests below assert on
that record. A small model (784-8-10) keeps threshold decryption quick.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.quorum import decrypt_aggregate
from fedledger.errors import ContractError, CryptoError
from fedledger.learning import models
from fedledger.learning.fedavg import scale_update
from fedledger.learning.models import ModelSpec, initial_weights
from fedledger.learning.training import train_local
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.protocol.ciphervec import CipherVector
from fedledger.roles.coordinator import Coordinator, TaskPlan
from fedledger.roles.dataplan import DataPlan, participant_data
from fedledger.roles.ledger_io import get_round, query, register_party
from fedledger.roles.model_io import weights_hash
from fedledger.roles.participant import Participant, RoundMetrics, TaskState
from fedledger.roles.task_policy import TaskPolicy

pytestmark = [pytest.mark.fabric, pytest.mark.slow]

MODEL = "mlp8"
ROUNDS = 2
STEP_TIMEOUT = 300.0


@dataclass
class Run:
    """What the run did and saw."""

    task_id: str = ""
    coordinator: GatewayContract | None = None
    states: list[TaskState] = field(default_factory=list)
    expected_sum: dict[int, np.ndarray] = field(default_factory=dict)
    derived: dict[int, np.ndarray] = field(default_factory=dict)
    derived_hashes: dict[int, set[str]] = field(default_factory=dict)
    bases: dict[int, np.ndarray] = field(default_factory=dict)
    decided: dict[int, dict[str, Any]] = field(default_factory=dict)
    rejections: dict[str, tuple[str, bool]] = field(default_factory=dict)
    too_few_shares: str = ""


def _rejected(contract: GatewayContract, task_id: str, number: int, *call: str) -> tuple[str, bool]:
    """Submit a call that must fail; return its message and whether the round is unchanged."""
    before = get_round(contract, task_id, number)
    with pytest.raises(ContractError) as caught:
        contract.submit(*call)
    return caught.value.message, get_round(contract, task_id, number) == before


def _tampered(vector: CipherVector, ciphertexts: tuple[int, ...]) -> str:
    return CipherVector(
        vector.key_fingerprint,
        vector.spec,
        vector.value_count,
        vector.ciphertext_width,
        ciphertexts,
    ).to_base64()


@pytest.fixture(scope="module")
def run(fabric_profile: Path) -> Iterator[Run]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(models.MODELS, MODEL, ModelSpec(MODEL, hidden=8))
        contracts = [connect(fabric_profile, org=f"Org{i}", user="User2") for i in (1, 2, 3)]
        coordinator_contract = connect(fabric_profile, org="Org1", user="Admin")
        try:
            yield _train(coordinator_contract, contracts)
        finally:
            for contract in [*contracts, coordinator_contract]:
                contract.close()


def _train(coordinator_contract: GatewayContract, contracts: list[GatewayContract]) -> Run:
    result = Run(coordinator=coordinator_contract)
    kx_keys = [generate_private_key() for _ in contracts]

    def b64_public(key: bytes) -> str:
        return base64.b64encode(public_key_bytes(key)).decode()

    coordinator_party = register_party(
        coordinator_contract, ["coordinator"], b64_public(generate_private_key())
    )
    policy = TaskPolicy.trusting([coordinator_party["id"]])
    plan = DataPlan(participants=3, seed=0)
    participants, records = [], []
    for index, (contract, key) in enumerate(zip(contracts, kx_keys, strict=True), start=1):
        party = register_party(contract, ["trainer"], b64_public(key))
        data = participant_data(plan, index)
        participants.append(
            Participant(
                contract, party["id"], key, data.train, data.validation, policy=policy, seed=index
            )
        )
        records.append({**party, "samples": len(data.train)})
    coordinator = Coordinator(coordinator_contract)
    task_plan = TaskPlan(model=MODEL, rounds=ROUNDS, threshold=2, tolerance_bp=300)
    result.task_id = task_id = coordinator.propose_task(
        task_plan, records, initial_weights(MODEL, seed=0)
    )
    result.states = [p.join(task_id) for p in participants]
    coordinator.wait_active(task_id, STEP_TIMEOUT)
    for number in range(1, ROUNDS + 1):
        _round(result, coordinator, participants, number)
    return result


def _round(
    result: Run, coordinator: Coordinator, participants: list[Participant], number: int
) -> None:
    task_id, states = result.task_id, result.states
    record = coordinator.open_round(task_id, number)
    base = states[0].models[record["base_round"]]
    result.bases[number] = base
    total = sum(p["samples"] for p in states[0].task["participants"])
    expected = np.zeros_like(base)
    for index, (participant, state) in enumerate(zip(participants, states, strict=True)):
        if number == 2 and index == 2:
            _try_bad_vectors(result, participant, state, record)
        participant.submit_update(state, record)
        # The same seeded training again gives the very update that was encrypted.
        again = train_local(
            MODEL,
            base,
            participant.train,
            participant.config,
            seed=participant.seed * 1000 + number,
        )
        expected += scale_update(again.update, len(participant.train), total)
    result.expected_sum[number] = expected
    if number == 2:
        _try_bad_submissions(result, participants, states)
    closed = coordinator.close_when_submitted(task_id, number, STEP_TIMEOUT)
    if number == 1:
        first = participants[0]
        result.rejections["closed round"] = _rejected(
            first.contract,
            task_id,
            1,
            "SubmitUpdate",
            task_id,
            "1",
            json.dumps({"vector": "AAAA", "samples": 1, "proof": "AAAA"}),
        )
    aggregates = [
        p.submit_share(s, number, _metrics(number))
        for p, s in zip(participants, states, strict=True)
    ]
    if number == 1:
        _try_one_share(result, participants[0], states[0], aggregates[0])
    derived = [
        p.decrypt_and_report(s, closed, aggregates[0], _metrics(number), STEP_TIMEOUT)
        for p, s in zip(participants, states, strict=True)
    ]
    assert all(weights is not None for weights in derived)
    result.derived[number] = derived[0]  # type: ignore[assignment]
    result.derived_hashes[number] = {weights_hash(w) for w in derived if w is not None}
    decided = coordinator.wait_decided(task_id, number, STEP_TIMEOUT)
    result.decided[number] = decided
    if decided["status"] == "accepted":
        for state, weights in zip(states, derived, strict=True):
            state.models[number] = weights


def _metrics(number: int) -> RoundMetrics:
    return RoundMetrics(round=number)


def _try_bad_vectors(
    result: Run, participant: Participant, state: TaskState, record: dict[str, Any]
) -> None:
    """Before participant 3 submits round 2: a wrong-length vector and a ciphertext ≥ n²."""
    task_id, number = result.task_id, record["round"]
    other = query(
        participant.contract,
        "GetUpdate",
        task_id,
        str(number),
        state.task["participants"][0]["party"],
    )
    vector = CipherVector.from_base64(other["vector"])
    n_square = state.public_key.n**2
    short = CipherVector(
        vector.key_fingerprint,
        vector.spec,
        vector.value_count - vector.spec.slots,
        vector.ciphertext_width,
        vector.ciphertexts[:-1],
    )
    too_big = _tampered(vector, (n_square + 1, *vector.ciphertexts[1:]))
    for label, payload in (("wrong length", short.to_base64()), ("ciphertext >= n^2", too_big)):
        result.rejections[label] = _rejected(
            participant.contract,
            task_id,
            number,
            "SubmitUpdate",
            task_id,
            str(number),
            json.dumps({"vector": payload, "samples": len(participant.train), "proof": "AAAA"}),
        )


def _try_bad_submissions(
    result: Run, participants: list[Participant], states: list[TaskState]
) -> None:
    task_id = result.task_id
    own = query(participants[0].contract, "GetUpdate", task_id, "2", participants[0].party_id)
    request = json.dumps(
        {"vector": own["vector"], "samples": len(participants[0].train), "proof": own["proof"]}
    )
    result.rejections["second submission"] = _rejected(
        participants[0].contract, task_id, 2, "SubmitUpdate", task_id, "2", request
    )
    assert result.coordinator is not None
    result.rejections["non-participant"] = _rejected(
        result.coordinator, task_id, 2, "SubmitUpdate", task_id, "2", request
    )


def _try_one_share(
    result: Run, participant: Participant, state: TaskState, aggregate: CipherVector
) -> None:
    """Fewer than t shares must not decrypt."""
    summaries = query(participant.contract, "GetDecryptionShares", result.task_id, "1")
    first = summaries[0]["party"]
    share = query(participant.contract, "GetDecryptionShare", result.task_id, "1", first)
    with pytest.raises(CryptoError) as caught:
        decrypt_aggregate(
            state.tkey, aggregate, [(first, share["share"])], indices=state.indices, summands=3
        )
    result.too_few_shares = str(caught.value)


# ---------------------------------------------------------------------------------- the tests
def test_the_decrypted_aggregate_is_the_plaintext_weighted_sum_of_the_same_updates(
    run: Run,
) -> None:
    for number in range(1, ROUNDS + 1):
        decrypted = run.derived[number] - run.bases[number]
        # quantisation (3 summands x 2^-17) plus float32 rounding of the weights
        assert np.max(np.abs(decrypted - run.expected_sum[number])) < 1e-4
        assert np.max(np.abs(run.expected_sum[number])) > 1e-3  # the update is not trivially 0


def test_every_participant_derives_the_same_global_weights_and_a_majority_decides(
    run: Run,
) -> None:
    for number in range(1, ROUNDS + 1):
        result = run.decided[number]["result"]
        assert run.derived_hashes[number] == {result["weights_hash"]}
        assert len(result["accuracies"]) >= 2 and result["dissent"] == {}
        assert run.decided[number]["status"] == "accepted"


def test_accuracy_after_round_two_is_not_below_round_one_beyond_tolerance(run: Run) -> None:
    first = run.decided[1]["result"]["median_bp"]
    second = run.decided[2]["result"]["median_bp"]
    assert first > 2000  # far above chance (10 classes)
    assert second >= first - 300


def test_the_task_finishes_after_its_last_round(run: Run) -> None:
    assert run.coordinator is not None
    assert query(run.coordinator, "GetTask", run.task_id)["status"] == "finished"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("second submission", "already submitted an update for round 2 of"),
        ("non-participant", "is not a participant of"),
        ("closed round", "is closed; updates are accepted only while it is open"),
        ("wrong length", "vector is invalid: expected"),
        ("ciphertext >= n^2", "is not in Z*(n^2)"),
    ],
)
def test_bad_submissions_are_rejected_with_their_message_and_change_nothing(
    run: Run, case: str, expected: str
) -> None:
    message, unchanged = run.rejections[case]
    assert expected in message
    assert unchanged


def test_fewer_than_t_shares_cannot_decrypt(run: Run) -> None:
    assert "share" in run.too_few_shares


def test_round_events_reach_clients_through_the_gateway(run: Run) -> None:
    assert run.coordinator is not None
    seen: list[tuple[str, int]] = []
    for event in run.coordinator.events(start_block=0, timeout=30):
        payload = json.loads(event.payload)
        if payload.get("task_id") != run.task_id or "round" not in payload:
            continue
        seen.append((event.name, payload["round"]))
        if (event.name, payload["round"]) == ("RoundDecrypted", ROUNDS):
            break

    for number in range(1, ROUNDS + 1):
        assert ("RoundOpened", number) in seen
        assert ("RoundClosed", number) in seen
        assert ("SharesReady", number) in seen
        assert ("RoundDecrypted", number) in seen
    assert seen.index(("RoundOpened", 1)) < seen.index(("RoundClosed", 1))
    assert seen.index(("RoundClosed", 1)) < seen.index(("RoundDecrypted", 1))
