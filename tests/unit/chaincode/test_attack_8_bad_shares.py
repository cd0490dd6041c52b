"""Attack 8: a participant posts a bad decryption share early to knock honest ones out.

A well-formed share of another vector (its proof valid, but for other ciphertexts), a share made
with another party's index, or a copy of another party's share used to be stored, and an honest
participant that combined the first t shares failed and left the task. The chaincode now
verifies every share against the stored aggregate and the task's verification keys before it
lands: each is refused with its reason, nothing changes, and the honest shares on the ledger
decrypt the aggregate exactly.
"""

from __future__ import annotations

import json

import pytest
from cc_helpers import reject
from training_helpers import SPEC, Setup, dealing, round_view, unit

from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.quorum import decrypt_aggregate
from fedledger.crypto.threshold import partial_decrypt
from fedledger.crypto.wire import decryption_share_to_base64
from fedledger.protocol.ciphervec import CipherVector


@pytest.fixture
def task(setup: Setup) -> str:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    for contract in setup.participants:
        vector = setup.update(contract, task, values=[0.5] * 200)
        contract.submit("SubmitUpdate", task, "1", vector)
    setup.outsider.submit("CloseRound", task, "1")
    return task


def test_a_valid_share_of_another_vector_is_refused(setup: Setup, task: str) -> None:
    tkey, shares = dealing()
    other = [unit() for _ in range(4)]
    forged = decryption_share_to_base64(tkey, partial_decrypt(tkey, shares[0], other))

    message = reject(setup.ledger, setup.coordinator, "SubmitDecryptionShare", task, "1", forged)

    assert message == "share is invalid: the proof of correct decryption does not verify"
    assert round_view(setup.outsider, task)["shares"] == []


def test_a_share_under_another_partys_index_or_a_copied_share_is_refused(
    setup: Setup, task: str
) -> None:
    bobs = setup.share(setup.trainers[0], task)

    copied = reject(setup.ledger, setup.coordinator, "SubmitDecryptionShare", task, "1", bobs)

    assert copied == (
        f"share is invalid: it claims share index 2, party {setup.ids[0]} was dealt index 1"
    )


def test_after_the_attempts_the_honest_shares_decrypt_the_aggregate_exactly(
    setup: Setup, task: str
) -> None:
    tkey, shares = dealing()
    forged = decryption_share_to_base64(
        tkey, partial_decrypt(tkey, shares[0], [unit() for _ in range(4)])
    )
    reject(setup.ledger, setup.coordinator, "SubmitDecryptionShare", task, "1", forged)
    for contract in setup.trainers:
        contract.submit("SubmitDecryptionShare", task, "1", setup.share(contract, task))

    stored = json.loads(setup.outsider.evaluate("GetAggregate", task, "1"))
    aggregate = CipherVector.from_base64(stored["vector"])
    on_ledger = [
        (p, json.loads(setup.outsider.evaluate("GetDecryptionShare", task, "1", p))["share"])
        for p in setup.ids[1:]
    ]
    indices = {party: index for index, party in enumerate(setup.ids, start=1)}
    result = decrypt_aggregate(tkey, aggregate, on_ledger, indices=indices, summands=3)

    resolution = EncodingParams.from_spec(SPEC).resolution
    assert max(abs(v - 1.5) for v in result.values) <= 3 * resolution
    assert result.rejected == {}
