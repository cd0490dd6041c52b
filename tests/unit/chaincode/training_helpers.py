"""Helpers for the training-transaction tests: fixed moduli, cipher vectors, tasks and a set-up.

Ciphertexts are random elements of Z*(n²) under a fixed 2048-bit modulus: the chaincode never
decrypts, so these exercise every check and the aggregation without the crypto package. The
moduli come from the shared test keys (support.keys) that the crypto tests use too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from math import gcd
from typing import Any

from cc_helpers import party_json
from support.keys import OTHER_2048_P, OTHER_2048_Q, SAFE_2048_P, SAFE_2048_Q

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger
from fedledger.protocol.assets import party_id
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec, key_fingerprint

N = SAFE_2048_P * SAFE_2048_Q
OTHER_N = OTHER_2048_P * OTHER_2048_Q
NSQUARE = N * N
WIDTH = (NSQUARE.bit_length() + 7) // 8
SPEC = EncodingSpec(frac_bits=16, clip_units=2**20, max_summands=3, slot_bits=32, slots=63)
VALUE_COUNT = 200
CIPHERTEXTS = SPEC.ciphertext_count(VALUE_COUNT)
WEIGHTS = bytes(range(256)) * 3 + bytes(32)  # 800 bytes: 200 float32 values
WEIGHTS_HASH = hashlib.sha256(WEIGHTS).hexdigest()
THRESHOLD_PUBLIC = base64.b64encode(b"threshold verification data").decode("ascii")


def unit(n: int = N) -> int:
    """Return a random element of Z*(n²)."""
    while True:
        c = secrets.randbelow(n * n)
        if c and gcd(c, n) == 1:
            return c


def vector(
    ciphertexts: list[int] | None = None,
    *,
    n: int = N,
    spec: EncodingSpec = SPEC,
    value_count: int = VALUE_COUNT,
) -> CipherVector:
    """Return a cipher vector under ``n`` (random ciphertexts unless given)."""
    count = spec.ciphertext_count(value_count)
    values = ciphertexts if ciphertexts is not None else [unit(n) for _ in range(count)]
    width = ((n * n).bit_length() + 7) // 8
    return CipherVector(key_fingerprint(n), spec, value_count, width, tuple(values))


def update_json(vec: CipherVector | str, samples: int = 100) -> str:
    text = vec if isinstance(vec, str) else vec.to_base64()
    return json.dumps({"vector": text, "samples": samples})


def pid(identity: Identity) -> str:
    return party_id(identity.msp_id, identity.certificate_pem)


def task_fields(party_ids: list[str], **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "model": "mlp32",
        "model_hash": "ab" * 32,
        "initial_weights_hash": WEIGHTS_HASH,
        "value_count": VALUE_COUNT,
        "encoding": SPEC.to_dict(),
        "public_key": {"n": str(N)},
        "threshold_public": THRESHOLD_PUBLIC,
        "threshold": 2,
        "participants": [{"party": p, "samples": 100 * (i + 1)} for i, p in enumerate(party_ids)],
        "quorum": 2,
        "rounds": 3,
        "round_seconds": 600,
        "tolerance_bp": 100,
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def task_json(party_ids: list[str], **overrides: Any) -> str:
    return json.dumps(task_fields(party_ids, **overrides))


def round_view(contract: InMemoryContract, task_id: str, number: int = 1) -> dict[str, Any]:
    """Return round ``number`` of ``task_id`` as GetRound shows it to ``contract``'s caller."""
    view: dict[str, Any] = json.loads(contract.evaluate("GetRound", task_id, str(number)))
    return view


@dataclass
class Setup:
    """A registered consortium: the proposer (also a participant), two trainers and an outsider."""

    ledger: InMemoryLedger
    coordinator: InMemoryContract
    trainers: list[InMemoryContract]
    outsider: InMemoryContract

    @property
    def participants(self) -> list[InMemoryContract]:
        return [self.coordinator, *self.trainers]

    @property
    def ids(self) -> list[str]:
        return [pid(c.identity) for c in self.participants]

    def propose(self, **overrides: Any) -> dict[str, Any]:
        task: dict[str, Any] = json.loads(
            self.coordinator.submit("ProposeTask", task_json(self.ids, **overrides))
        )
        return task

    def active_task(self, **overrides: Any) -> str:
        """Propose, store the initial weights and approve by everyone; return the task id."""
        task_id = str(self.propose(**overrides)["id"])
        self.coordinator.submit("PutModelWeights", task_id, base64.b64encode(WEIGHTS).decode())
        for contract in self.participants:
            contract.submit("ApproveTask", task_id)
        return task_id


def make_setup(
    ledger: InMemoryLedger, org1: Identity, org2: Identity, org3: Identity, outsider: Identity
) -> Setup:
    coordinator = ledger.contract(org1)
    coordinator.submit("RegisterParty", party_json(["coordinator", "trainer"], seed=1))
    trainers = [ledger.contract(org2), ledger.contract(org3)]
    for seed, contract in enumerate(trainers, start=2):
        contract.submit("RegisterParty", party_json(["trainer"], seed=seed))
    other = ledger.contract(outsider)
    other.submit("RegisterParty", party_json(["trainer"], seed=9))
    return Setup(ledger, coordinator, trainers, other)
