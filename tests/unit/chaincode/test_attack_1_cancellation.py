"""Attack 1: a participant cancels, copies or re-randomises another's update from the ledger.

Bob (a participant) reads Alice's update with GetUpdate. Submitting its element-wise inverse
would make the round's aggregate decrypt to Carol's update alone; submitting a copy (as is, or
multiplied by an encryption of zero) would let Bob free-ride and count Alice twice. Every variant
must be refused by SubmitUpdate's proof of plaintext knowledge, naming Bob, and change nothing;
Bob's own honest update is still accepted afterwards.
"""

from __future__ import annotations

import json

import pytest
from cc_helpers import reject
from training_helpers import NSQUARE, N, Setup, pid, pool, update_json

from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.popk import PlaintextProof


@pytest.fixture
def alices_update(setup: Setup) -> tuple[str, dict[str, object]]:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    setup.submit_update(setup.coordinator, task)  # Alice
    stored = json.loads(setup.trainers[0].evaluate("GetUpdate", task, "1", setup.ids[0]))
    return task, stored


def _with(vector: CipherVector, ciphertexts: list[int]) -> str:
    return CipherVector(
        vector.key_fingerprint,
        vector.spec,
        vector.value_count,
        vector.ciphertext_width,
        tuple(ciphertexts),
    ).to_base64()


def _refused_for_bob(setup: Setup, task: str, vector: str, proof: str) -> str:
    bob = setup.trainers[0]
    request = update_json(vector, samples=setup.samples(bob), proof=proof)
    return reject(setup.ledger, bob, "SubmitUpdate", task, "1", request)


def _expected(setup: Setup, task: str) -> str:
    bob = pid(setup.trainers[0].identity)
    return (
        f"the proof of plaintext knowledge does not verify for party {bob}"
        f" in round 1 of {task}: the submitter does not know the plaintexts it submitted, or the "
        "proof was made for another party, round or task"
    )


def test_bob_cannot_submit_the_inverse_of_alices_update(
    setup: Setup, alices_update: tuple[str, dict[str, object]]
) -> None:
    task, stored = alices_update
    vector = CipherVector.from_base64(str(stored["vector"]))
    inverse = _with(vector, [pow(c, -1, NSQUARE) for c in vector.ciphertexts])
    proof = PlaintextProof.from_base64(str(stored["proof"]), N)
    negated = PlaintextProof(proof.n, proof.challenge, (-proof.z) % proof.n, proof.w)

    with_her_proof = _refused_for_bob(setup, task, inverse, str(stored["proof"]))
    with_a_forged_proof = _refused_for_bob(setup, task, inverse, negated.to_base64())

    assert with_her_proof == with_a_forged_proof == _expected(setup, task)


def test_bob_cannot_copy_alices_update_byte_for_byte(
    setup: Setup, alices_update: tuple[str, dict[str, object]]
) -> None:
    task, stored = alices_update

    message = _refused_for_bob(setup, task, str(stored["vector"]), str(stored["proof"]))

    assert message == _expected(setup, task)


def test_bob_cannot_submit_alices_update_rerandomised_by_an_encryption_of_zero(
    setup: Setup, alices_update: tuple[str, dict[str, object]]
) -> None:
    task, stored = alices_update
    vector = CipherVector.from_base64(str(stored["vector"]))
    zeros = pool().take(len(vector.ciphertexts))  # r^n mod n²: encryptions of 0
    copy = _with(
        vector, [int(c * r % NSQUARE) for c, r in zip(vector.ciphertexts, zeros, strict=True)]
    )

    message = _refused_for_bob(setup, task, copy, str(stored["proof"]))

    assert message == _expected(setup, task)


def test_after_the_attempts_bobs_honest_update_is_accepted(
    setup: Setup, alices_update: tuple[str, dict[str, object]]
) -> None:
    task, stored = alices_update
    _refused_for_bob(setup, task, str(stored["vector"]), str(stored["proof"]))

    summary = setup.submit_update(setup.trainers[0], task)

    assert summary["party"] == setup.ids[1]
