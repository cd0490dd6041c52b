"""A task with one accepted round, driven transaction by transaction over any contracts.

For tests that need a trained task on the real network without running the training roles: a
task over the shared 2048-bit test key with 200 values (4 ciphertexts), real encrypted updates
with their proofs, two real decryption shares of the stored aggregate, and reports naming the
given weights digest with the given accuracies. The chaincode checks everything it checks in a
real round; only the decryption and evaluation that the reports claim are skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np

from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import deal, partial_decrypt
from fedledger.crypto.vectors import encrypt_update
from fedledger.crypto.wire import decryption_share_to_base64, threshold_key_to_base64
from fedledger.ledger.interface import Contract
from fedledger.protocol.assets import party_id
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec
from fedledger.protocol.popk import ProofContext
from support.keys import SAFE_2048_P, SAFE_2048_Q

VALUE_COUNT = 200
SPEC = EncodingSpec(frac_bits=16, clip_units=2**20, max_summands=3, slot_bits=32, slots=63)
PUBLIC_KEY = PublicKey(SAFE_2048_P * SAFE_2048_Q)


def _pid(contract: Contract) -> str:
    return party_id(contract.identity.msp_id, contract.identity.certificate_pem)


def accepted_task(
    participants: Sequence[Contract],
    weights: np.ndarray,
    accuracies: Sequence[int],
    samples: Sequence[int] = (100, 200, 300),
) -> str:
    """Propose a task (the first participant coordinates), run round 1 to acceptance with the
    reports ``accuracies`` for the digest of ``weights`` (float32); return the task id."""
    coordinator = participants[0]
    ids = [_pid(c) for c in participants]
    tkey, shares = deal(PrivateKey(PUBLIC_KEY, SAFE_2048_P, SAFE_2048_Q), threshold=2, parties=3)
    initial = np.zeros(VALUE_COUNT, dtype="<f4").tobytes()
    request: dict[str, Any] = {
        "model": "mlp32",
        "model_hash": "ab" * 32,
        "initial_weights_hash": hashlib.sha256(initial).hexdigest(),
        "value_count": VALUE_COUNT,
        "encoding": SPEC.to_dict(),
        "public_key": {"n": str(PUBLIC_KEY.n)},
        "threshold_public": threshold_key_to_base64(tkey),
        "threshold": 2,
        "participants": [{"party": p, "samples": s} for p, s in zip(ids, samples, strict=True)],
        "quorum": 2,
        "rounds": 2,
        "round_seconds": 600,
        "tolerance_bp": 100,
    }
    task = json.loads(coordinator.submit("ProposeTask", json.dumps(request)))["id"]
    coordinator.submit("PutModelWeights", task, base64.b64encode(initial).decode())
    for contract in participants:
        contract.submit("ApproveTask", task)
    coordinator.submit("OpenRound", task, "1")
    pool = RandomnessPool(PUBLIC_KEY)
    params = EncodingParams.from_spec(SPEC)
    for contract, party, count in zip(participants, ids, samples, strict=True):
        values = [secrets.randbelow(2001) / 1000 - 1 for _ in range(VALUE_COUNT)]
        context = ProofContext(task, 1, party, PUBLIC_KEY.fingerprint)
        vector, proof = encrypt_update(values, PUBLIC_KEY, params, pool, context)
        update = {"vector": vector.to_base64(), "samples": count, "proof": proof.to_base64()}
        contract.submit("SubmitUpdate", task, "1", json.dumps(update))
    coordinator.submit("CloseRound", task, "1")
    aggregate = CipherVector.from_base64(
        json.loads(coordinator.evaluate("GetAggregate", task, "1"))["vector"]
    )
    for index, contract in enumerate(participants[:2]):
        share = partial_decrypt(tkey, shares[index], aggregate.ciphertexts)
        contract.submit("SubmitDecryptionShare", task, "1", decryption_share_to_base64(tkey, share))
    digest = hashlib.sha256(np.asarray(weights, dtype="<f4").tobytes()).hexdigest()
    for contract, accuracy in zip(participants, accuracies, strict=True):
        report = {"weights_hash": digest, "accuracy_bp": accuracy, "base_accuracy_bp": 0}
        answer = json.loads(contract.submit("ReportResult", task, "1", json.dumps(report)))
        if answer["round"]["status"] != "closed":
            break
    return str(task)
