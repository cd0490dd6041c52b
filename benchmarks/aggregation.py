"""Benchmark: the chaincode's share of a round — validating updates and aggregating them.

Runs the real contract on the in-memory ledger (the same code the chaincode server runs, without
the peer's gRPC hops) for 101,770-parameter updates (784-128-10 MLP) under a 2048-bit key, with
3, 5 and 8 participants: each SubmitUpdate parses and validates a packed ciphertext vector (every
ciphertext in Z*(n^2)) and verifies its proof of plaintext knowledge, and CloseRound lists the
round's submissions by composite-key range, reads each vector and multiplies them. The task key is
a fresh safe-prime key dealt t-of-n, so the contract sees real threshold data. Progress lines go
to stdout; with ``--json`` the last line is one JSON object.

Usage: python benchmarks/aggregation.py [--json] [--participants 3,5,8]
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import time
from typing import Any

import numpy as np
from _common import benchmark_parser, print_json

from fedledger.contract import parties, training
from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import PrivateKey, PublicKey, generate_keypair
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import deal
from fedledger.crypto.vectors import encrypt_update
from fedledger.crypto.wire import threshold_key_to_base64
from fedledger.ledger.identity import self_signed_identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger
from fedledger.protocol.asset_requests import PartyRequest
from fedledger.protocol.popk import ProofContext
from fedledger.protocol.round_requests import UpdateRequest
from fedledger.protocol.task_records import TaskParticipant
from fedledger.protocol.task_requests import ModulusArgument, TaskProposal

PARAMS = 784 * 128 + 128 + 128 * 10 + 10
KEY_BITS = 2048


def _setup(
    ledger: InMemoryLedger, count: int, private: PrivateKey, params: EncodingParams
) -> tuple[InMemoryContract, list[tuple[InMemoryContract, str]], str]:
    coordinator = ledger.contract(self_signed_identity("Org0MSP", "coordinator"))
    members = [ledger.contract(self_signed_identity(f"Org{i}MSP", "user")) for i in range(count)]
    kx = base64.b64encode(bytes(32)).decode()
    parties.register_party(coordinator, PartyRequest(("coordinator",), kx))
    ids = [parties.register_party(m, PartyRequest(("trainer",), kx)).id for m in members]
    weights = np.zeros(PARAMS, dtype="<f4").tobytes()
    proposal = TaskProposal(
        model="mlp128",
        model_hash="00" * 32,
        initial_weights_hash=hashlib.sha256(weights).hexdigest(),
        value_count=PARAMS,
        encoding=params.to_spec().to_dict(),
        public_key=ModulusArgument(str(private.public_key.n)),
        threshold_public=threshold_key_to_base64(deal(private, threshold=2, parties=count)[0]),
        threshold=2,
        participants=tuple(TaskParticipant(p, 1000) for p in ids),
        quorum=count,
        rounds=1,
        round_seconds=3600,
        tolerance_bp=0,
    )
    task = training.propose_task(coordinator, proposal)
    training.put_model_weights(coordinator, task.id, weights)
    for member in members:
        training.approve_task(member, task.id)
    training.open_round(coordinator, task.id, 1)
    return coordinator, list(zip(members, ids, strict=True)), task.id


def measure(count: int, private: PrivateKey, rng: np.random.Generator) -> dict[str, Any]:
    public: PublicKey = private.public_key
    params = EncodingParams.create(
        frac_bits=16, clip=0.5, max_summands=count, modulus_bits=KEY_BITS
    )
    ledger = InMemoryLedger()
    coordinator, members, task_id = _setup(ledger, count, private, params)
    submit_s, size = [], 0
    for member, party in members:
        pool = RandomnessPool(public)
        values = rng.uniform(-0.5, 0.5, PARAMS).tolist()
        context = ProofContext(task_id, 1, party, public.fingerprint)
        vector, proof = encrypt_update(values, public, params, pool, context)
        payload = vector.to_base64()
        size = len(payload)
        request = UpdateRequest(payload, 1000, proof.to_base64())
        start = time.perf_counter()
        training.submit_update(member, task_id, 1, request)
        submit_s.append(time.perf_counter() - start)
    start = time.perf_counter()
    training.close_round(coordinator, task_id, 1)
    close_s = time.perf_counter() - start
    row = {
        "participants": count,
        "ciphertexts": params.to_spec().ciphertext_count(PARAMS),
        "update_base64_bytes": size,
        "submit_update_ms_median": round(statistics.median(submit_s) * 1000, 1),
        "close_round_ms": round(close_s * 1000, 1),
        "close_round_ms_per_participant": round(close_s * 1000 / count, 1),
    }
    print(
        f"  {count} participants: SubmitUpdate {row['submit_update_ms_median']} ms (median),"
        f" CloseRound {row['close_round_ms']} ms",
        flush=True,
    )
    return row


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--participants", default="3,5,8")
    args = parser.parse_args()
    counts = [int(c) for c in args.participants.split(",")]
    print(f"chaincode aggregation, {PARAMS} parameters, {KEY_BITS}-bit key (in-memory ledger)")
    _, private = generate_keypair(KEY_BITS, processes=2)
    rng = np.random.default_rng(0)
    rows = [measure(count, private, rng) for count in counts]
    print_json(
        args.json, {"params": PARAMS, "key_bits": KEY_BITS, "ledger": "in-memory", "rounds": rows}
    )


if __name__ == "__main__":
    main()
