"""Attack 6: a participant skips clipping and submits values far beyond the encoding's bound.

The proof of plaintext knowledge does not bound the plaintexts, so such an update is accepted.
At four times the clip bound the aggregate no longer decodes: every participant used to stop with
an unhandled EncodingError. Now each participant reports the decoding failure, a majority of such
reports fails the round on the ledger with the reason, and the next round starts from the last
accepted weights; no participant raises. (Below the decoding limit an out-of-range update is not
detected by the ledger: the README's security section says so.)
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
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.popk import ProofContext
from fedledger.protocol.round_records import RoundRecord
from fedledger.roles.metering import PhaseTimer
from fedledger.roles.training.participant import Pacing, Participant, RoundReport, TaskState


class Unclipped(Participant):
    """A participant that puts four times the clip bound in every slot of its update."""

    def _submit_update(
        self, state: TaskState, record: RoundRecord, report: RoundReport, timer: PhaseTimer
    ) -> bool:
        public, spec, task = keypair()[0], state.task.spec, state.task
        digit = 4 * spec.clip_units
        plaintexts = [sum(digit << (spec.slot_bits * j) for j in range(spec.slots))]
        plaintexts *= task.ciphertext_count
        ciphertexts, exponents = paillier.encrypt_with_exponents(
            public, plaintexts, RandomnessPool(public)
        )
        width = (public.nsquare.bit_length() + 7) // 8
        vector = CipherVector(public.fingerprint, spec, task.value_count, width, tuple(ciphertexts))
        context = ProofContext(task.id, record.round, self.party_id, public.fingerprint)
        proof = prove_plaintext_knowledge(public, vector, plaintexts, exponents, context)
        request = {
            "vector": vector.to_base64(),
            "samples": task.samples_of(self.party_id),
            "proof": proof.to_base64(),
        }
        self.contract.submit("SubmitUpdate", task.id, str(record.round), json.dumps(request))
        return True


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        attacker = made.members[2]
        role = attacker.role
        attacker.role = Unclipped(
            role.contract, role.party_id, attacker.kx_key, role.data, policy=role.policy,
            training=role.training, decryptors=role.decryptors,
            pacing=Pacing(fallback_seconds=0.2, clock=made.now),
        )  # fmt: skip
        yield made


def test_an_undecodable_aggregate_fails_the_round_and_training_goes_on(
    consortium: Consortium,
) -> None:
    task = consortium.propose()
    states = [m.role.join(task, timeout=1) for m in consortium.members]

    first, reports = consortium.play_round(task, states, 1)
    second, _ = consortium.play_round(task, states, 2)

    assert first.status == "failed"
    assert first.view.round.reason is not None
    assert first.view.round.reason.startswith(
        "the aggregate does not decode, as 2 of 3 contributors reported: plaintext 0 is not a "
        "packing of 3 summand(s)"
    )
    assert [r.status for r in reports] == ["failed", "failed", "failed"]
    # the third may see the round failed before it combines: then it derives nothing
    assert [r.weights_hash for r in reports].count("undecodable") >= 2
    assert second.view.round.base_round == 0  # round 2 started from the initial weights
    assert all(sorted(state.models) == [0] for state in states)


def test_an_honest_encoder_clips_such_values_to_the_bound(consortium: Consortium) -> None:
    task = consortium.propose()
    state = consortium.members[0].role.join(task, timeout=1)
    params = EncodingParams.from_spec(state.task.spec)
    context = ProofContext(task, 1, consortium.members[0].party["id"], state.public_key.fingerprint)

    vector, _ = encrypt_update(
        [4 * params.clip, -4 * params.clip], state.public_key, params,
        RandomnessPool(state.public_key), context,
    )  # fmt: skip

    assert decrypt_vector(keypair()[1], vector) == [params.clip, -params.clip]
