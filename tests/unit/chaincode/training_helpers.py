"""Helpers for the training-transaction tests: fixed keys, cipher vectors, tasks and a set-up.

The task key is the shared 2048-bit safe-prime test key (support.keys), dealt once 2-of-3 so the
chaincode sees real threshold data. Valid updates are real encryptions with their proof of
plaintext knowledge and valid shares real partial decryptions of the stored aggregate
(:meth:`Setup.update`, :meth:`Setup.share`); random elements of Z*(n²) (:func:`vector`) exercise
the checks that come before the proof.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from functools import cache
from math import gcd
from typing import Any

from cc_helpers import party_json
from support.keys import OTHER_2048_P, OTHER_2048_Q, SAFE_2048_P, SAFE_2048_Q

from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import KeyShare, ThresholdKey, deal, partial_decrypt
from fedledger.crypto.vectors import encrypt_update
from fedledger.crypto.wire import decryption_share_to_base64, threshold_key_to_base64
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger
from fedledger.protocol.assets import party_id
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec, key_fingerprint
from fedledger.protocol.popk import ProofContext
from fedledger.protocol.round_records import RoundView

N = SAFE_2048_P * SAFE_2048_Q
OTHER_N = OTHER_2048_P * OTHER_2048_Q
NSQUARE = N * N
WIDTH = (NSQUARE.bit_length() + 7) // 8
SPEC = EncodingSpec(frac_bits=16, clip_units=2**20, max_summands=3, slot_bits=32, slots=63)
VALUE_COUNT = 200
CIPHERTEXTS = SPEC.ciphertext_count(VALUE_COUNT)
WEIGHTS = bytes(range(256)) * 3 + bytes(32)  # 800 bytes: 200 float32 values
WEIGHTS_HASH = hashlib.sha256(WEIGHTS).hexdigest()
PUBLIC_KEY = PublicKey(N)


@cache
def dealing() -> tuple[ThresholdKey, tuple[KeyShare, ...]]:
    """The task key dealt 2-of-3 (once per test session)."""
    tkey, shares = deal(PrivateKey(PUBLIC_KEY, SAFE_2048_P, SAFE_2048_Q), threshold=2, parties=3)
    return tkey, tuple(shares)


@cache
def pool() -> RandomnessPool:
    return RandomnessPool(PUBLIC_KEY)


THRESHOLD_PUBLIC = threshold_key_to_base64(dealing()[0])


@cache
def threshold_public(parties: int, threshold: int = 2, *, other_key: bool = False) -> str:
    """Threshold data of a fresh dealing of the test key (or the other test key) for a task."""
    p, q = (OTHER_2048_P, OTHER_2048_Q) if other_key else (SAFE_2048_P, SAFE_2048_Q)
    tkey, _ = deal(PrivateKey(PublicKey(p * q), p, q), threshold=threshold, parties=parties)
    return threshold_key_to_base64(tkey)


def listed(contract: InMemoryContract, **query: Any) -> list[dict[str, Any]]:
    """The task summaries of one ListTasks page."""
    page: dict[str, Any] = json.loads(contract.evaluate("ListTasks", json.dumps(query)))
    tasks: list[dict[str, Any]] = page["tasks"]
    return tasks


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


def update_json(vec: CipherVector | str, samples: int = 100, proof: str = "AAAA") -> str:
    """An update request; the default proof is a placeholder for tests that fail before it."""
    text = vec if isinstance(vec, str) else vec.to_base64()
    return json.dumps({"vector": text, "samples": samples, "proof": proof})


def proven_update(
    task_id: str, number: int, party: str, samples: int, values: list[float] | None = None
) -> tuple[CipherVector, str]:
    """A real encrypted update of ``values`` (random by default) for ``party``, and its request."""
    values = (
        values
        if values is not None
        else [secrets.randbelow(2001) / 1000 - 1 for _ in range(VALUE_COUNT)]
    )
    context = ProofContext(task_id, number, party, PUBLIC_KEY.fingerprint)
    params = EncodingParams.from_spec(SPEC)
    vec, proof = encrypt_update(values, PUBLIC_KEY, params, pool(), context)
    return vec, update_json(vec, samples, proof.to_base64())


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


def stored_round(contract: InMemoryContract, task_id: str, number: int) -> dict[str, Any]:
    """Return the stored record of round ``number`` of ``task_id`` (as OpenRound returns it)."""
    return RoundView.from_bytes(contract.evaluate("GetRound", task_id, str(number))).round.to_dict()


def round_view(contract: InMemoryContract, task_id: str, number: int = 1) -> dict[str, Any]:
    """Return round ``number`` of ``task_id`` as GetRound shows it, flattened for assertions:
    the round record's fields, ``submissions`` and ``reports`` as stored, and ``shares`` as the
    list of parties whose shares are in."""
    view = RoundView.from_bytes(contract.evaluate("GetRound", task_id, str(number)))
    return {
        **view.round.to_dict(),
        "submissions": [s.to_dict() for s in view.submissions],
        "shares": list(view.share_parties),
        "reports": [r.to_dict() for r in view.reports],
    }


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

    def samples(self, contract: InMemoryContract) -> int:
        """The sample count task_fields declares for ``contract``'s party."""
        return 100 * (self.ids.index(pid(contract.identity)) + 1)

    def update(
        self,
        contract: InMemoryContract,
        task_id: str,
        number: int = 1,
        values: list[float] | None = None,
    ) -> str:
        """A valid SubmitUpdate argument for ``contract``'s party."""
        party = pid(contract.identity)
        return proven_update(task_id, number, party, self.samples(contract), values)[1]

    def submit_update(
        self, contract: InMemoryContract, task_id: str, number: int = 1
    ) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(
            contract.submit(
                "SubmitUpdate", task_id, str(number), self.update(contract, task_id, number)
            )
        )
        return answer

    def share(self, contract: InMemoryContract, task_id: str, number: int = 1) -> str:
        """A valid decryption share of the round's stored aggregate by ``contract``'s party."""
        tkey, shares = dealing()
        stored = json.loads(self.outsider.evaluate("GetAggregate", task_id, str(number)))
        aggregate = CipherVector.from_base64(stored["vector"])
        key_share = shares[self.ids.index(pid(contract.identity))]
        return decryption_share_to_base64(
            tkey, partial_decrypt(tkey, key_share, aggregate.ciphertexts)
        )

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
