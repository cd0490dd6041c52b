"""Rounds: opening in order, encrypted-update checks, and closing with the homomorphic product."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cc_helpers import reject
from support.keys import SAFE_2048_P
from training_helpers import (
    CIPHERTEXTS,
    NSQUARE,
    OTHER_N,
    SPEC,
    N,
    Setup,
    pid,
    proven_update,
    round_view,
    unit,
    update_json,
    vector,
)

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger, ManualClock
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec, key_fingerprint
from fedledger.protocol.training import update_base64_chars


@pytest.fixture
def task_id(setup: Setup) -> str:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    return task


def test_open_round_records_deadline_and_base_and_emits_round_opened(
    setup: Setup, clock: ManualClock
) -> None:
    task = setup.active_task()

    record = json.loads(setup.coordinator.submit("OpenRound", task, "1"))

    now = clock() // 10**9
    assert record["status"] == "open" and record["base_round"] == 0
    assert (record["opened_at"], record["deadline"]) == (now, now + 600)
    assert record["aggregate"] is None and record["result"] is None
    event = setup.ledger.event_log()[-1]
    assert event.name == "RoundOpened"
    assert json.loads(event.payload) == {
        "task_id": task,
        "round": 1,
        "deadline": now + 600,
        "base_round": 0,
    }
    view = round_view(setup.outsider, task)
    assert (view["submissions"], view["shares"], view["reports"]) == ([], [], [])


def test_rounds_open_in_order_only_by_the_proposer_of_an_active_task(setup: Setup) -> None:
    proposed = setup.propose()["id"]
    task = setup.active_task()
    ledger, coordinator = setup.ledger, setup.coordinator

    inactive = reject(ledger, coordinator, "OpenRound", proposed, "1")
    not_proposer = reject(ledger, setup.trainers[0], "OpenRound", task, "1")
    skipped = reject(ledger, coordinator, "OpenRound", task, "2")
    beyond = reject(ledger, coordinator, "OpenRound", task, "4")
    zero = reject(ledger, coordinator, "OpenRound", task, "0")
    padded = reject(ledger, coordinator, "OpenRound", task, "01")
    coordinator.submit("OpenRound", task, "1")
    again = reject(ledger, coordinator, "OpenRound", task, "1")
    early = reject(ledger, coordinator, "OpenRound", task, "2")

    assert inactive == f"{proposed} is proposed, not active"
    assert not_proposer == f"only the proposer {setup.ids[0]} of {task} may open rounds"
    assert skipped == (
        f"round 2 of {task} opens by itself when round 1 is decided or fails; OpenRound opens "
        f"round 1 only"
    )
    assert beyond == f"{task} has 3 rounds, got round 4"
    assert zero == 'round must be a positive integer of at most 999999, got "0"'
    assert padded == 'round must be a positive integer of at most 999999, got "01"'
    assert again == f"round 1 of {task} was already opened"
    assert early == skipped
    assert [r["round"] for r in json.loads(setup.outsider.evaluate("ListRounds", task))] == [1]


def test_round_one_needs_the_initial_weights(setup: Setup) -> None:
    task = setup.propose()["id"]
    for contract in setup.participants:
        contract.submit("ApproveTask", task)

    message = reject(setup.ledger, setup.coordinator, "OpenRound", task, "1")

    assert message == (
        f"round 1 of {task} cannot open before the initial weights are stored (PutModelWeights)"
    )
    assert setup.outsider.evaluate("ListRounds", task) == b"[]"


def test_submit_update_stores_the_vector_under_the_party_and_returns_metadata(
    setup: Setup, task_id: str, clock: ManualClock
) -> None:
    vec, request = proven_update(task_id, 1, setup.ids[1], 200)
    raw = vec.to_bytes()

    summary = json.loads(setup.trainers[0].submit("SubmitUpdate", task_id, "1", request))

    assert summary == {
        "task_id": task_id,
        "round": 1,
        "party": setup.ids[1],
        "samples": 200,
        "size": len(raw),
        "digest": hashlib.sha256(raw).hexdigest(),
        "submitted_at": clock() // 10**9,
        "submitted_tx": setup.ledger.event_log()[-1].tx_id,
    }
    assert setup.ledger.event_log()[-1].name == "UpdateSubmitted"
    stored = json.loads(setup.outsider.evaluate("GetUpdate", task_id, "1", setup.ids[1]))
    assert stored == {**summary, "vector": vec.to_base64(), "proof": json.loads(request)["proof"]}
    submissions = round_view(setup.outsider, task_id)["submissions"]
    assert submissions == [summary]


def test_the_announced_update_size_is_the_size_of_a_real_vector() -> None:
    assert update_base64_chars(CIPHERTEXTS, N) == len(vector().to_base64())


def _bad_vectors() -> list[tuple[str, str]]:
    good = [unit() for _ in range(CIPHERTEXTS)]
    other_spec = EncodingSpec(
        frac_bits=12, clip_units=2**20, max_summands=3, slot_bits=32, slots=63
    )
    return [
        (
            vector([*good[:3], NSQUARE]).to_base64(),
            "vector is invalid: ciphertext 3 is not in Z*(n^2)",
        ),
        (vector([0, *good[1:]]).to_base64(), "vector is invalid: ciphertext 0 is not in Z*(n^2)"),
        (
            vector([good[0], SAFE_2048_P * 7, *good[2:]]).to_base64(),
            "vector is invalid: ciphertext 1 is not in Z*(n^2)",
        ),
        (
            vector(value_count=300).to_base64(),
            "vector is invalid: expected 4 ciphertexts, got 5",
        ),
        (
            vector(value_count=190).to_base64(),
            "vector is invalid: it packs 190 values, the task's model has 200",
        ),
        (
            vector(n=OTHER_N).to_base64(),
            f"vector is invalid: cipher vector is under key {key_fingerprint(OTHER_N)[:16]}…, "
            f"the task's key is {key_fingerprint(N)[:16]}…",
        ),
        (
            vector(spec=other_spec).to_base64(),
            f"vector is invalid: encoding {other_spec.to_dict()} differs from the task's",
        ),
        (
            base64.b64encode(vector().to_bytes()[:-1]).decode(),
            "vector is invalid: cipher vector length mismatch: header announces 4 ciphertexts of "
            "512 bytes (2115 bytes in all), got 2114 bytes",
        ),
        (
            base64.b64encode(b"XXXX" + vector().to_bytes()[4:]).decode(),
            "vector is invalid: not a cipher vector: bad magic bytes",
        ),
        ("not base64!", "vector is not valid base64"),
        ("", "vector must not be empty"),
    ]


@pytest.mark.parametrize(("text", "message"), _bad_vectors())
def test_invalid_vectors_are_rejected_with_exact_messages(
    setup: Setup, task_id: str, text: str, message: str
) -> None:
    update = update_json(text, samples=200)
    assert reject(setup.ledger, setup.trainers[0], "SubmitUpdate", task_id, "1", update) == message
    assert round_view(setup.outsider, task_id)["submissions"] == []


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (
            '{"vector": "AAAA", "samples": 1',
            "argument 3 must be a JSON object: Expecting ',' delimiter: line 1 column 32 (char 31)",
        ),
        ('{"vector": 12, "samples": 1, "proof": "AAAA"}', "update.vector must be a string, got 12"),
        ('{"vector": "AAAA", "samples": 1, "proof": 7}', "update.proof must be a string, got 7"),
        (
            '{"vector": "AAAA", "samples": 0, "proof": "AAAA"}',
            "samples must be a positive integer, got 0",
        ),
        (
            '{"vector": "AAAA", "samples": "3", "proof": "AAAA"}',
            'update.samples must be an integer, got "3"',
        ),
        ('{"vector": "AAAA", "samples": 1}', "update is missing field 'proof'"),
        (
            '{"vector": "AAAA", "samples": 1, "proof": "AAAA", "round": 1}',
            "update has unknown field 'round'",
        ),
        (
            '{"vector": "AAAA", "vector": "AAAA", "samples": 1}',
            "argument 3 must be a JSON object: duplicate key 'vector'",
        ),
    ],
)
def test_malformed_update_json_is_rejected(
    setup: Setup, task_id: str, update: str, message: str
) -> None:
    assert reject(setup.ledger, setup.trainers[0], "SubmitUpdate", task_id, "1", update) == message
    assert round_view(setup.outsider, task_id)["submissions"] == []


def test_an_update_over_the_size_limit_is_rejected_before_parsing(setup: Setup) -> None:
    task = setup.active_task(max_update_bytes=3000)
    setup.coordinator.submit("OpenRound", task, "1")
    big = "A" * 3004

    update = update_json(big, samples=200)
    message = reject(setup.ledger, setup.trainers[0], "SubmitUpdate", task, "1", update)

    assert message == "vector is 3004 base64 characters, more than the limit of 3000"
    assert round_view(setup.outsider, task)["submissions"] == []


def test_second_submissions_strangers_and_wrong_rounds_are_rejected(
    setup: Setup, task_id: str
) -> None:
    ledger, trainer = setup.ledger, setup.trainers[0]
    first = trainer.submit("SubmitUpdate", task_id, "1", setup.update(trainer, task_id))
    outsider = pid(setup.outsider.identity)

    second = reject(ledger, trainer, "SubmitUpdate", task_id, "1", setup.update(trainer, task_id))
    stranger = reject(ledger, setup.outsider, "SubmitUpdate", task_id, "1", update_json(vector()))
    not_open = reject(ledger, trainer, "SubmitUpdate", task_id, "2", update_json(vector()))
    beyond = reject(ledger, trainer, "SubmitUpdate", task_id, "9", update_json(vector()))
    garbage = reject(ledger, trainer, "SubmitUpdate", task_id, "one", update_json(vector()))

    assert second == f"party {setup.ids[1]} already submitted an update for round 1 of {task_id}"
    assert stranger == f"party {outsider} is not a participant of {task_id}"
    assert not_open == f"round 2 of {task_id} has not been opened"
    assert beyond == f"{task_id} has 3 rounds, got round 9"
    assert garbage == 'round must be a positive integer of at most 999999, got "one"'
    stored = json.loads(setup.outsider.evaluate("GetUpdate", task_id, "1", setup.ids[1]))
    assert {k: stored[k] for k in json.loads(first)} == json.loads(first)


def test_updates_after_the_deadline_are_rejected(
    setup: Setup, task_id: str, clock: ManualClock
) -> None:
    deadline = round_view(setup.outsider, task_id)["deadline"]
    clock.advance(seconds=600)
    on_time = setup.trainers[0].submit(
        "SubmitUpdate", task_id, "1", setup.update(setup.trainers[0], task_id)
    )
    clock.advance(nanos=1)

    late = reject(
        setup.ledger,
        setup.trainers[1],
        "SubmitUpdate",
        task_id,
        "1",
        setup.update(setup.trainers[1], task_id),
    )

    assert json.loads(on_time)["submitted_at"] == deadline
    assert late == (
        f"round 1 of {task_id} stopped accepting updates at its deadline {deadline}; the "
        f"transaction timestamp is {deadline}"
    )
    submissions = round_view(setup.outsider, task_id)["submissions"]
    assert [s["party"] for s in submissions] == [setup.ids[1]]


def _submit_all(
    setup: Setup, task_id: str, contracts: list[InMemoryContract]
) -> list[CipherVector]:
    vectors = []
    for contract in contracts:
        party = pid(contract.identity)
        vec, request = proven_update(task_id, 1, party, setup.samples(contract))
        contract.submit("SubmitUpdate", task_id, "1", request)
        vectors.append(vec)
    return vectors


def test_close_round_when_everyone_submitted_stores_the_slot_wise_product(
    setup: Setup, task_id: str
) -> None:
    vectors = _submit_all(setup, task_id, setup.participants)

    closed = json.loads(setup.outsider.submit("CloseRound", task_id, "1"))

    expected = [1] * CIPHERTEXTS
    for vec in vectors:
        expected = [a * b % NSQUARE for a, b in zip(expected, vec.ciphertexts, strict=True)]
    aggregate = json.loads(setup.outsider.evaluate("GetAggregate", task_id, "1"))
    product = CipherVector.from_base64(aggregate["vector"])
    assert list(product.ciphertexts) == expected
    assert (product.spec, product.value_count) == (SPEC, 200)
    raw = product.to_bytes()
    assert closed["status"] == "closed"
    assert closed["aggregate"] == {
        "digest": hashlib.sha256(raw).hexdigest(),
        "size": len(raw),
        "contributors": sorted(setup.ids),
        "total_samples": 600,
    }
    assert aggregate["digest"] == closed["aggregate"]["digest"]
    event = setup.ledger.event_log()[-1]
    assert event.name == "RoundClosed"
    assert json.loads(event.payload) == {"task_id": task_id, "round": 1, **closed["aggregate"]}


def test_closing_too_early_is_rejected_with_the_count(setup: Setup, task_id: str) -> None:
    _submit_all(setup, task_id, setup.trainers)
    deadline = round_view(setup.outsider, task_id)["deadline"]

    message = reject(setup.ledger, setup.trainers[0], "CloseRound", task_id, "1")
    outsider = reject(setup.ledger, setup.outsider, "CloseRound", task_id, "1")

    assert message == (
        f"round 1 of {task_id} cannot close yet: 2 of 3 participants submitted and the deadline "
        f"{deadline} has not passed"
    )
    assert outsider == (
        f"only the participants and the proposer of {task_id} may close a round before every "
        f"participant submitted; {pid(setup.outsider.identity)} is neither"
    )
    assert round_view(setup.outsider, task_id)["status"] == "open"
    with pytest.raises(ContractError) as query:
        setup.outsider.evaluate("GetAggregate", task_id, "1")
    assert query.value.message == f"round 1 of {task_id} has no aggregate yet; it is open"


def test_after_the_deadline_a_quorum_closes_the_round(
    setup: Setup, task_id: str, clock: ManualClock
) -> None:
    _submit_all(setup, task_id, setup.trainers)
    clock.advance(seconds=601)

    closed = json.loads(setup.trainers[0].submit("CloseRound", task_id, "1"))

    assert closed["aggregate"]["contributors"] == sorted(setup.ids[1:])
    assert closed["aggregate"]["total_samples"] == 500
    late = reject(
        setup.ledger,
        setup.coordinator,
        "SubmitUpdate",
        task_id,
        "1",
        setup.update(setup.coordinator, task_id),
    )
    again = reject(setup.ledger, setup.coordinator, "CloseRound", task_id, "1")
    assert late == f"round 1 of {task_id} is closed; updates are accepted only while it is open"
    assert again == f"round 1 of {task_id} is closed, not open"


def test_after_the_deadline_fewer_than_the_quorum_cannot_close(
    setup: Setup, task_id: str, clock: ManualClock
) -> None:
    _submit_all(setup, task_id, setup.trainers[:1])
    deadline = round_view(setup.outsider, task_id)["deadline"]
    clock.advance(seconds=601)

    message = reject(setup.ledger, setup.trainers[0], "CloseRound", task_id, "1")

    assert message == (
        f"round 1 of {task_id} cannot close: the deadline {deadline} has passed with 1 of 3 "
        f"participants submitted, fewer than the quorum 2"
    )
    assert round_view(setup.outsider, task_id)["status"] == "open"


def test_unregistered_callers_cannot_close(
    setup: Setup, task_id: str, ledger: InMemoryLedger
) -> None:
    _submit_all(setup, task_id, setup.participants)
    stranger = ledger.contract(Identity("Org7MSP", setup.outsider.identity.certificate_pem))

    message = reject(ledger, stranger, "CloseRound", task_id, "1")

    assert message.endswith("is not a registered party; call RegisterParty first")
    assert round_view(setup.outsider, task_id)["status"] == "open"
