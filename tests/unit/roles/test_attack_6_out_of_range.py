"""Attack 6: a participant skips clipping and submits values far beyond the encoding's bound.

The proof of plaintext knowledge does not bound the plaintexts, so such an update is accepted.
At four times the clip bound the aggregate no longer decodes: every participant used to stop with
an unhandled EncodingError. Now each honest participant reports the decoding failure, a majority
of such reports fails the round on the ledger with the reason, and the next round starts from the
last accepted weights; no participant raises. (Below the decoding limit an out-of-range update
is not detected by the ledger: the README's security section says so.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support.consortium import Consortium, keypair

from fedledger.crypto import paillier
from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.popk import prove_plaintext_knowledge
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.vectors import decrypt_vector, encrypt_update
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec
from fedledger.protocol.popk import ProofContext
from fedledger.roles.ledger_io import query
from fedledger.roles.participant import RoundMetrics, TaskState


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def _honest_update(state: TaskState, party: str, number: int) -> str:
    context = ProofContext(state.task["id"], number, party, state.public_key.fingerprint)
    values = [0.01] * state.task["value_count"]
    vector, proof = encrypt_update(
        values, state.public_key, state.encoding, RandomnessPool(state.public_key), context
    )
    samples = {p["party"]: p["samples"] for p in state.task["participants"]}[party]
    return json.dumps(
        {"vector": vector.to_base64(), "samples": samples, "proof": proof.to_base64()}
    )


def _unclipped_update(state: TaskState, party: str, number: int, times: int) -> str:
    """What an attacker sends: every slot ``times`` the clip bound, proven, never clipped."""
    public = keypair()[0]
    spec = EncodingSpec.from_dict(state.task["encoding"])
    count = spec.ciphertext_count(state.task["value_count"])
    digit = times * spec.clip_units
    plaintext = sum(digit << (spec.slot_bits * j) for j in range(spec.slots))
    plaintexts = [plaintext] * count
    ciphertexts, exponents = paillier.encrypt_with_exponents(
        public, plaintexts, RandomnessPool(public)
    )
    width = (public.nsquare.bit_length() + 7) // 8
    vector = CipherVector(
        public.fingerprint, spec, state.task["value_count"], width, tuple(ciphertexts)
    )
    context = ProofContext(state.task["id"], number, party, public.fingerprint)
    proof = prove_plaintext_knowledge(public, vector, plaintexts, exponents, context)
    samples = {p["party"]: p["samples"] for p in state.task["participants"]}[party]
    return json.dumps(
        {"vector": vector.to_base64(), "samples": samples, "proof": proof.to_base64()}
    )


def test_an_undecodable_aggregate_fails_the_round_and_nobody_crashes(
    consortium: Consortium,
) -> None:
    task = consortium.propose()
    states = [m.role.join(task, timeout=1) for m in consortium.members]
    consortium.coordinator.open_round(task, 1)
    honest, attacker = consortium.members[:2], consortium.members[2]
    for member, state in zip(honest, states[:2], strict=True):
        member.contract.submit(
            "SubmitUpdate", task, "1", _honest_update(state, member.party["id"], 1)
        )
    attack = _unclipped_update(states[2], attacker.party["id"], 1, times=4)
    attacker.contract.submit("SubmitUpdate", task, "1", attack)  # accepted: ranges are unproven
    closed = consortium.coordinator.close_when_submitted(task, 1, timeout=1)

    results = []
    for member, state in zip(honest, states[:2], strict=True):
        aggregate = member.role.submit_share(state, 1, RoundMetrics(round=1))
    for member, state in zip(honest, states[:2], strict=True):
        metrics = RoundMetrics(round=1)
        results.append(member.role.decrypt_and_report(state, closed, aggregate, metrics, 1))
        assert metrics.status == "undecodable"

    record = query(consortium.coordinator_contract, "GetRound", task, "1")
    assert results == [None, None]
    assert record["status"] == "failed"
    assert record["reason"].startswith(
        "the aggregate does not decode, as 2 of 3 contributors reported: plaintext 0 is not a "
        "packing of 3 summand(s)"
    )
    second = consortium.coordinator.open_round(task, 2)
    assert second["base_round"] == 0
    assert all(sorted(state.models) == [0] for state in states)


def test_an_honest_encoder_clips_such_values_to_the_bound(consortium: Consortium) -> None:
    task = consortium.propose()
    state = consortium.members[0].role.join(task, timeout=1)
    params = EncodingParams.from_spec(EncodingSpec.from_dict(state.task["encoding"]))
    context = ProofContext(task, 1, consortium.members[0].party["id"], state.public_key.fingerprint)

    vector, _ = encrypt_update(
        [4 * params.clip, -4 * params.clip], state.public_key, params,
        RandomnessPool(state.public_key), context,
    )  # fmt: skip

    assert decrypt_vector(keypair()[1], vector) == [params.clip, -params.clip]
