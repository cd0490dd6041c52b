"""Training tasks: proposal checks, approval by all participants, initial weights, key envelopes."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cc_helpers import party_json, reject
from support.keys import SAFE_2048_P
from training_helpers import (
    CIPHERTEXTS,
    SPEC,
    THRESHOLD_PUBLIC,
    WEIGHTS,
    WEIGHTS_HASH,
    N,
    Setup,
    listed,
    pid,
    task_json,
    threshold_public,
)

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.ciphervec import key_fingerprint
from fedledger.protocol.task_records import TaskRecord


def _weights_b64(data: bytes = WEIGHTS) -> str:
    return base64.b64encode(data).decode("ascii")


def test_propose_task_stores_the_validated_task_with_its_key_fingerprint(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.propose()

    assert task["id"].startswith("task-") and len(task["id"]) == 37
    assert task["proposer"] == setup.ids[0]
    assert task["status"] == "proposed" and task["approvals"] == []
    assert task["public_key"] == {"n": str(N), "bits": 2048, "fingerprint": key_fingerprint(N)}
    assert task["ciphertext_count"] == CIPHERTEXTS == 4
    assert task["encoding"] == SPEC.to_dict()
    assert [p["party"] for p in task["participants"]] == setup.ids
    assert task["max_update_bytes"] == 4 * 1024 * 1024
    assert task["proposed_at"] == clock() // 10**9
    assert task["threshold_public"] == THRESHOLD_PUBLIC
    stored = json.loads(setup.outsider.evaluate("GetTask", task["id"]))
    assert stored == task
    assert listed(setup.outsider) == [TaskRecord.from_dict(task).summary().to_dict()]
    event = setup.ledger.event_log()[-1]
    assert event.name == "TaskProposed"
    assert json.loads(event.payload) == {
        "task_id": task["id"],
        "proposer": setup.ids[0],
        "participants": setup.ids,
    }


def test_task_activates_when_the_last_participant_approves(setup: Setup) -> None:
    task_id = setup.propose()["id"]

    first = json.loads(setup.trainers[1].submit("ApproveTask", task_id))
    second = json.loads(setup.coordinator.submit("ApproveTask", task_id))
    last = json.loads(setup.trainers[0].submit("ApproveTask", task_id))

    assert (first["status"], first["approvals"]) == ("proposed", [setup.ids[2]])
    assert second["approvals"] == sorted([setup.ids[0], setup.ids[2]])
    assert last["status"] == "active" and last["approvals"] == sorted(setup.ids)
    assert last["activated_at"] is not None
    names = [e.name for e in setup.ledger.event_log()[-3:]]
    assert names == ["TaskApproved", "TaskApproved", "TaskActivated"]
    assert json.loads(setup.ledger.event_log()[-1].payload) == {
        "task_id": task_id,
        "party": setup.ids[1],
        "approved": 3,
        "participants": 3,
    }


def test_approvals_are_checked(setup: Setup) -> None:
    task_id = setup.propose()["id"]
    setup.trainers[0].submit("ApproveTask", task_id)
    before = setup.outsider.evaluate("GetTask", task_id)
    outsider, trainer = pid(setup.outsider.identity), setup.ids[1]

    twice = reject(setup.ledger, setup.trainers[0], "ApproveTask", task_id)
    stranger = reject(setup.ledger, setup.outsider, "ApproveTask", task_id)
    absent = reject(setup.ledger, setup.outsider, "ApproveTask", "task-" + "0" * 32)
    malformed = reject(setup.ledger, setup.outsider, "ApproveTask", "task-1")

    assert twice == f"party {trainer} already approved {task_id}"
    assert stranger == f"party {outsider} is not a participant of {task_id}"
    assert absent == f"task task-{'0' * 32} does not exist"
    assert malformed == 'task id must look like task-<32 hex digits>, got "task-1"'
    assert setup.outsider.evaluate("GetTask", task_id) == before


def test_an_active_task_cannot_be_approved_again(setup: Setup) -> None:
    task_id = setup.active_task()
    before = setup.outsider.evaluate("GetTask", task_id)

    message = reject(setup.ledger, setup.coordinator, "ApproveTask", task_id)

    assert message == f"{task_id} is active; only a proposed task can be approved"
    assert setup.outsider.evaluate("GetTask", task_id) == before


def _fields_with(**changes: Any) -> dict[str, Any]:
    return changes


SMALL_N = SAFE_2048_P * 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (_fields_with(value_count=0), "value_count must be a positive integer, got 0"),
        (_fields_with(value_count="5"), 'task.value_count must be an integer, got "5"'),
        (
            _fields_with(model_hash="AB12"),
            'model_hash must be 64 lowercase hex digits (SHA-256), got "AB12"',
        ),
        (_fields_with(model=""), "model must not be empty"),
        (_fields_with(public_key={"n": 15}), "task.public_key.n must be a string, got 15"),
        (
            _fields_with(public_key={"n": "0x1f"}),
            'public_key.n must be a decimal string, got "0x1f"',
        ),
        (
            _fields_with(public_key={"n": str(SMALL_N)}),
            "public_key.n must be at least 2048 bits, got 1026",
        ),
        (
            _fields_with(public_key={"n": str(N + 1)}),
            "public_key.n must be odd (a product of two odd primes)",
        ),
        (
            _fields_with(public_key={"n": str(N), "g": "1"}),
            "task.public_key has unknown field 'g'",
        ),
        (
            _fields_with(encoding={**SPEC.to_dict(), "slots": 64}),
            "encoding packs 2048 bits per plaintext (64 slots of 32 bits), more than the 2047 a "
            "2048-bit modulus allows",
        ),
        (
            _fields_with(encoding={**SPEC.to_dict(), "max_summands": 2}),
            "encoding.max_summands is 2 but the task has 3 participants: the encrypted sum could "
            "overflow a slot",
        ),
        (
            _fields_with(encoding={**SPEC.to_dict(), "max_summands": 3000}),
            "encoding is invalid: slot overflow: 3000 summands * 1048576 exceeds the 32-bit slot "
            "capacity 2147483647",
        ),
        (
            _fields_with(encoding={"slots": 3}),
            "encoding is invalid: an encoding spec needs exactly the keys ['clip_units', "
            "'frac_bits', 'max_summands', 'slot_bits', 'slots']",
        ),
        (_fields_with(threshold=0), "threshold must be a positive integer, got 0"),
        (
            _fields_with(threshold=1, quorum=1),
            "threshold must be at least 2, got 1: with one share a single key holder could "
            "decrypt every participant's update",
        ),
        (_fields_with(threshold=4), "threshold must be at most the 3 participants, got 4"),
        (
            _fields_with(quorum=1),
            "quorum must be between the threshold 2 and the 3 participants, got 1",
        ),
        (
            _fields_with(quorum=4),
            "quorum must be between the threshold 2 and the 3 participants, got 4",
        ),
        (_fields_with(rounds=0), "rounds must be a positive integer, got 0"),
        (_fields_with(round_seconds=1.5), "task.round_seconds must be an integer, got 1.5"),
        (
            _fields_with(round_seconds=299),
            "round_seconds must be at least 300 (five times the peers' time window), got 299",
        ),
        (
            _fields_with(threshold_public=threshold_public(3, other_key=True)),
            "threshold_public is for another modulus than public_key.n",
        ),
        (
            _fields_with(threshold=3, quorum=3),
            "threshold_public has threshold 2, the task says 3",
        ),
        (
            _fields_with(threshold_public=threshold_public(4)),
            "threshold_public has shares for 4 parties, the task has 3 participants",
        ),
        (
            _fields_with(threshold_public=base64.b64encode(b"FLTP\x01").decode()),
            "threshold_public is invalid: threshold public key truncated: 5 bytes, the header "
            "alone is 7",
        ),

        (_fields_with(tolerance_bp=10_001), "tolerance_bp must be at most 10000, got 10001"),
        (_fields_with(tolerance_bp=-1), "tolerance_bp must be a non-negative integer, got -1"),
        (_fields_with(threshold_public=""), "threshold_public must not be empty"),
        (_fields_with(threshold_public="abc"), "threshold_public is not valid base64"),
        (
            _fields_with(threshold_public="A" * (256 * 1024 + 4)),
            "threshold_public is 262148 base64 characters, more than the limit of 262144",
        ),
        (
            _fields_with(max_update_bytes=16 * 1024 * 1024 + 1),
            "max_update_bytes must be at most 16777216, got 16777217",
        ),
        (
            _fields_with(max_update_bytes=2000),
            "an update of 200 values needs 4 ciphertexts, 2820 base64 characters, more than "
            "max_update_bytes 2000",
        ),
        (_fields_with(rounds=None), "task is missing field 'rounds'"),
        (_fields_with(learning_rate=1), "task has unknown field 'learning_rate'"),
    ],
)
def test_malformed_tasks_are_rejected_with_exact_messages(
    setup: Setup, overrides: dict[str, Any], message: str
) -> None:
    assert (
        reject(setup.ledger, setup.coordinator, "ProposeTask", task_json(setup.ids, **overrides))
        == message
    )
    assert listed(setup.outsider) == []


def test_participant_lists_are_checked(setup: Setup) -> None:
    ids, outsider = setup.ids, pid(setup.outsider.identity)
    unregistered = "Org9MSP/" + "e" * 64
    cases = {
        "participants must list 2 to 256 parties, got 1": [{"party": ids[0], "samples": 1}],
        f"participant {ids[1]} is listed twice": [
            {"party": ids[1], "samples": 1},
            {"party": ids[1], "samples": 2},
        ],
        "participants[1].samples must be a positive integer, got 0": [
            {"party": ids[0], "samples": 1},
            {"party": ids[1], "samples": 0},
        ],
        'party id must look like <MSP id>/<64 hex digits>, got "Org1MSP"': [
            {"party": "Org1MSP", "samples": 1},
            {"party": ids[1], "samples": 1},
        ],
        f"participant {unregistered} is not a registered party": [
            {"party": ids[0], "samples": 1},
            {"party": unregistered, "samples": 1},
        ],
        "task.participants[0] has unknown field 'weight'": [
            {"party": ids[0], "samples": 1, "weight": 2},
            {"party": ids[1], "samples": 1},
        ],
    }
    for message, participants in cases.items():
        text = task_json(
            ids, participants=participants, threshold_public=threshold_public(2), quorum=2
        )
        assert reject(setup.ledger, setup.coordinator, "ProposeTask", text) == message
    assert listed(setup.outsider) == []
    assert outsider not in ids


def test_every_participant_needs_the_trainer_role(
    setup: Setup, ledger: InMemoryLedger, org1_other_user: Identity
) -> None:
    consumer = ledger.contract(Identity("Org4MSP", setup.outsider.identity.certificate_pem))
    consumer.submit("RegisterParty", party_json(["consumer"]))
    participants = [setup.ids[0], pid(consumer.identity)]

    text = task_json(participants, threshold_public=threshold_public(2), quorum=2)
    message = reject(ledger, setup.coordinator, "ProposeTask", text)

    assert message == f"participant {participants[1]} does not have the trainer role"
    assert listed(setup.outsider) == []


def test_malformed_json_and_unregistered_proposers_are_rejected(
    setup: Setup, ledger: InMemoryLedger
) -> None:
    stranger = ledger.contract(Identity("Org5MSP", setup.coordinator.identity.certificate_pem))

    bad_json = reject(ledger, setup.coordinator, "ProposeTask", '{"model": "mlp32",}')
    array = reject(ledger, setup.coordinator, "ProposeTask", "[]")
    unregistered = reject(ledger, stranger, "ProposeTask", task_json(setup.ids))

    assert bad_json.startswith("argument 1 must be a JSON object: Expecting property name")
    assert array == "argument 1 must be a JSON object, got an array"
    assert unregistered == (
        f"caller {pid(stranger.identity)} is not a registered party; call RegisterParty first"
    )
    assert listed(setup.outsider) == []


def test_initial_weights_are_stored_once_by_the_proposer_and_checked(setup: Setup) -> None:
    task_id = setup.propose()["id"]
    ledger = setup.ledger

    wrong_caller = reject(ledger, setup.trainers[0], "PutModelWeights", task_id, _weights_b64())
    short = reject(
        ledger, setup.coordinator, "PutModelWeights", task_id, _weights_b64(WEIGHTS[:-4])
    )
    altered = bytes([WEIGHTS[0] ^ 1]) + WEIGHTS[1:]
    wrong_hash = reject(
        ledger, setup.coordinator, "PutModelWeights", task_id, _weights_b64(altered)
    )
    too_long = reject(
        ledger, setup.coordinator, "PutModelWeights", task_id, _weights_b64(WEIGHTS * 2)
    )
    missing = reject(ledger, setup.coordinator, "GetModelWeights", task_id)
    summary = json.loads(setup.coordinator.submit("PutModelWeights", task_id, _weights_b64()))
    again = reject(ledger, setup.coordinator, "PutModelWeights", task_id, _weights_b64())

    assert (
        wrong_caller
        == f"only the proposer {setup.ids[0]} of {task_id} may store its initial weights"
    )
    assert short == "weights must be 800 bytes (200 float32 values), got 796"
    digest = hashlib.sha256(altered).hexdigest()
    assert (
        wrong_hash == f"weights hash to {digest}, the task's initial_weights_hash is {WEIGHTS_HASH}"
    )
    assert too_long == "weights is 2136 base64 characters, more than the limit of 1068"
    assert missing == f"the initial weights of {task_id} are not stored yet"
    assert again == f"the initial weights of {task_id} are already stored"
    assert summary["weights_hash"] == WEIGHTS_HASH and summary["size"] == 800
    stored = json.loads(setup.outsider.evaluate("GetModelWeights", task_id))
    assert base64.b64decode(stored["weights"]) == WEIGHTS
    assert setup.ledger.event_log()[-1].name == "ModelWeightsStored"


def test_key_envelopes_are_stored_once_per_participant_by_the_proposer(setup: Setup) -> None:
    task_id = setup.propose()["id"]
    ledger, recipient, outsider = setup.ledger, setup.ids[1], pid(setup.outsider.identity)
    sealed = base64.b64encode(b"sealed key share").decode("ascii")

    stored = json.loads(setup.coordinator.submit("PutKeyEnvelope", task_id, recipient, sealed))
    again = reject(ledger, setup.coordinator, "PutKeyEnvelope", task_id, recipient, sealed)
    wrong_caller = reject(
        ledger, setup.trainers[0], "PutKeyEnvelope", task_id, setup.ids[2], sealed
    )
    stranger = reject(ledger, setup.coordinator, "PutKeyEnvelope", task_id, outsider, sealed)
    big = "A" * (64 * 1024 + 4)
    oversized = reject(ledger, setup.coordinator, "PutKeyEnvelope", task_id, setup.ids[2], big)
    empty = reject(ledger, setup.coordinator, "PutKeyEnvelope", task_id, setup.ids[2], "")
    absent = reject(ledger, setup.coordinator, "GetKeyEnvelope", task_id, setup.ids[2])

    assert stored["recipient"] == recipient and stored["size"] == 16
    assert again == f"the key envelope of {recipient} for {task_id} is already stored"
    assert (
        wrong_caller == f"only the proposer {setup.ids[0]} of {task_id} may store its key envelopes"
    )
    assert stranger == f"party {outsider} is not a participant of {task_id}"
    assert oversized == "envelope is 65540 base64 characters, more than the limit of 65536"
    assert empty == "envelope must not be empty"
    assert absent == f"no key envelope for {setup.ids[2]} in {task_id}"
    fetched = json.loads(setup.outsider.evaluate("GetKeyEnvelope", task_id, recipient))
    assert fetched["envelope"] == sealed
    assert setup.ledger.event_log()[-1].name == "KeyEnvelopeStored"


def test_get_task_of_an_unknown_task_is_rejected(setup: Setup) -> None:
    with pytest.raises(ContractError) as query:
        setup.outsider.evaluate("GetTask", "task-" + "f" * 32)

    assert query.value.message == f"task task-{'f' * 32} does not exist"
