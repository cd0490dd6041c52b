"""A participant: joins a task, trains locally, submits encrypted updates, decrypts the aggregate.

Per round: take the global weights of the round's base, train for the task's local epochs,
scale the update by this party's share of the declared samples (n_i / N, so the encrypted sum is
the FedAvg average), encrypt it with randomness prepared before training, and submit it. After
the round closes: publish a verifiable decryption share; once t shares are on the ledger, combine
them, apply the decrypted average to the base weights, evaluate, and report accuracy and the
weights' digest. Every participant derives the same new global weights.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fedledger.crypto.ceremony import open_key_share, share_indices
from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import PublicKey
from fedledger.crypto.quorum import decrypt_aggregate
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import KeyShare, ThresholdKey
from fedledger.crypto.vectors import encrypt_vector, partial_decrypt_vector
from fedledger.crypto.wire import decryption_share_to_base64, threshold_key_from_base64
from fedledger.errors import FedLedgerError
from fedledger.learning.datasets import Dataset
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.fedavg import rescale_partial_sum, scale_update
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig, train_local
from fedledger.ledger.interface import Contract
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec
from fedledger.roles.coordinator import key_share_context
from fedledger.roles.ledger_io import (
    DECIDED,
    RoundFailed,
    get_round,
    query,
    query_or_none,
    wait_for,
)
from fedledger.roles.model_io import (
    FloatVector,
    canonical_weights,
    model_hash,
    weights_from_bytes,
    weights_hash,
)


@dataclass
class RoundMetrics:
    """What one participant measured in one round (seconds and bytes)."""

    round: int
    train_s: float = 0.0
    encrypt_offline_s: float = 0.0
    encrypt_online_s: float = 0.0
    ledger_s: float = 0.0
    decrypt_s: float = 0.0
    update_bytes: int = 0
    share_bytes: int = 0
    clipped_values: int = 0
    local_accuracy: float = 0.0
    status: str = ""
    weights_hash: str = ""


@dataclass
class TaskState:
    """What a participant knows of a task it has joined."""

    task: dict[str, Any]
    public_key: PublicKey
    tkey: ThresholdKey
    share: KeyShare
    encoding: EncodingParams
    indices: dict[str, int]
    models: dict[int, FloatVector] = field(default_factory=dict)  # accepted round -> weights


class Participant:
    """One organisation's participant process, over a ``Contract`` bound to its identity."""

    def __init__(
        self,
        contract: Contract,
        party_id: str,
        kx_private_key: bytes,
        train: Dataset,
        validation: Dataset,
        *,
        config: TrainingConfig = DEFAULT_TRAINING,
        seed: int = 0,
    ) -> None:
        self.contract = contract
        self.party_id = party_id
        self._kx_private_key = kx_private_key
        self.train = train
        self.validation = validation
        self.config = config
        self.seed = seed

    # ------------------------------------------------------------------ joining
    def join(self, task_id: str, timeout: float = 300.0) -> TaskState:
        """Approve the task, open this party's key share, fetch and check the initial weights.

        Waits up to ``timeout`` seconds for the coordinator to publish the sealed key share and
        the initial weights. Raises FedLedgerError subclasses when the task does not list this
        party, the envelope cannot be opened, or the initial weights do not match the digest.
        """
        task = query(self.contract, "GetTask", task_id)
        if self.party_id not in [p["party"] for p in task["participants"]]:
            raise FedLedgerError(f"{task_id} does not list {self.party_id} as a participant")
        if task["model_hash"] != model_hash(task["model"]):
            raise FedLedgerError(f"{task_id} names model {task['model']} with another architecture")
        if self.party_id not in task["approvals"] and task["status"] == "proposed":
            self.contract.submit("ApproveTask", task_id)
        tkey = threshold_key_from_base64(task["threshold_public"])
        if tkey.public_key.n != int(task["public_key"]["n"]):
            raise FedLedgerError(f"{task_id}'s threshold data is for another key than its own")
        envelope = wait_for(
            lambda: query_or_none(self.contract, "GetKeyEnvelope", task_id, self.party_id),
            lambda found: found is not None,
            what=f"this party's key share of {task_id}",
            timeout=timeout,
        )
        share = open_key_share(
            base64.b64decode(envelope["envelope"]),
            self._kx_private_key,
            associated_data=key_share_context(task["public_key"]["fingerprint"]),
            party_id=self.party_id,
            threshold_key=tkey,
        )
        weights = wait_for(
            lambda: query_or_none(self.contract, "GetModelWeights", task_id),
            lambda found: found is not None,
            what=f"the initial weights of {task_id}",
            timeout=timeout,
        )
        initial = weights_from_bytes(base64.b64decode(weights["weights"]))
        if weights_hash(initial) != task["initial_weights_hash"]:
            raise FedLedgerError(f"the initial weights of {task_id} do not match its digest")
        spec = EncodingSpec.from_dict(task["encoding"])
        return TaskState(
            task=task,
            public_key=tkey.public_key,
            tkey=tkey,
            share=share,
            encoding=EncodingParams.from_spec(spec),
            indices=share_indices([p["party"] for p in task["participants"]]),
            models={0: initial},
        )

    def _samples(self, state: TaskState) -> tuple[int, int]:
        declared = {p["party"]: p["samples"] for p in state.task["participants"]}
        return declared[self.party_id], sum(declared.values())

    # ------------------------------------------------------------------ one round
    def submit_update(self, state: TaskState, record: dict[str, Any]) -> RoundMetrics:
        """Train from the round's base weights, encrypt the weighted update, submit it."""
        number = record["round"]
        metrics = RoundMetrics(round=number)
        base = state.models[record["base_round"]]
        own, total = self._samples(state)
        expected_ciphertexts = state.task["ciphertext_count"]

        started = time.perf_counter()
        pool = RandomnessPool(state.public_key)  # offline: before the update exists
        pool.fill(expected_ciphertexts)
        metrics.encrypt_offline_s = time.perf_counter() - started

        started = time.perf_counter()
        result = train_local(
            state.task["model"], base, self.train, self.config, seed=self.seed * 1000 + number
        )
        metrics.train_s = time.perf_counter() - started

        started = time.perf_counter()
        scaled = scale_update(result.update, own, total)
        metrics.clipped_values = int(np.count_nonzero(np.abs(scaled) > state.encoding.clip))
        vector = encrypt_vector(scaled.tolist(), state.public_key, state.encoding, pool)
        payload = vector.to_base64()
        metrics.encrypt_online_s = time.perf_counter() - started
        metrics.update_bytes = len(payload)

        started = time.perf_counter()
        request = {"vector": payload, "samples": own}
        self.contract.submit("SubmitUpdate", state.task["id"], str(number), json.dumps(request))
        metrics.ledger_s += time.perf_counter() - started
        return metrics

    def submit_share(self, state: TaskState, number: int, metrics: RoundMetrics) -> CipherVector:
        """Publish this party's verifiable decryption share of the round's aggregate."""
        started = time.perf_counter()
        aggregate = query(self.contract, "GetAggregate", state.task["id"], str(number))
        vector = CipherVector.from_base64(aggregate["vector"])
        metrics.ledger_s += time.perf_counter() - started

        started = time.perf_counter()
        dshare = partial_decrypt_vector(state.tkey, state.share, vector)
        encoded = decryption_share_to_base64(state.tkey, dshare)
        metrics.decrypt_s += time.perf_counter() - started
        metrics.share_bytes = len(encoded)

        started = time.perf_counter()
        self.contract.submit("SubmitDecryptionShare", state.task["id"], str(number), encoded)
        metrics.ledger_s += time.perf_counter() - started
        return vector

    def decrypt_and_report(
        self,
        state: TaskState,
        record: dict[str, Any],
        aggregate: CipherVector,
        metrics: RoundMetrics,
        timeout: float,
        *,
        report: bool = True,
    ) -> FloatVector:
        """Combine t shares into the new global weights, evaluate them, report; return them.

        Only contributors report (``report``); anyone holding the shares can decrypt.
        """
        task_id, number = state.task["id"], record["round"]
        threshold = state.task["threshold"]
        started = time.perf_counter()
        ready = wait_for(
            lambda: get_round(self.contract, task_id, number),
            lambda r: r is not None and (len(r["shares"]) >= threshold or r["status"] == "failed"),
            what=f"{threshold} decryption shares of round {number}",
            timeout=timeout,
        )
        if ready["status"] == "failed":
            raise RoundFailed(f"round {number} of {task_id} failed: {ready['reason']}")
        shares = query(self.contract, "GetDecryptionShares", task_id, str(number))
        metrics.ledger_s += time.perf_counter() - started

        started = time.perf_counter()
        contributors = record["aggregate"]["contributors"]
        decrypted = decrypt_aggregate(
            state.tkey,
            aggregate,
            [(s["party"], s["share"]) for s in shares],
            indices=state.indices,
            summands=len(contributors),
        )
        _, total = self._samples(state)
        average = rescale_partial_sum(
            np.asarray(decrypted.values), total, record["aggregate"]["total_samples"]
        )
        new_weights = canonical_weights(state.models[record["base_round"]] + average)
        metrics.decrypt_s += time.perf_counter() - started

        accuracy = evaluate_accuracy(state.task["model"], new_weights, self.validation)
        metrics.local_accuracy = accuracy
        metrics.weights_hash = weights_hash(new_weights)
        if report:
            result = {"weights_hash": metrics.weights_hash, "accuracy_bp": round(accuracy * 10000)}
            started = time.perf_counter()
            self.contract.submit("ReportResult", task_id, str(number), json.dumps(result))
            metrics.ledger_s += time.perf_counter() - started
        return new_weights

    def run_round(self, state: TaskState, number: int, timeout: float) -> RoundMetrics:
        """Take part in round ``number`` from its opening to its decision; return the metrics.

        Raises WaitTimeout when the round does not progress within ``timeout`` seconds per step.
        """
        task_id = state.task["id"]
        record = wait_for(
            lambda: get_round(self.contract, task_id, number),
            lambda r: r is not None,
            what=f"round {number} to open",
            timeout=timeout,
        )
        metrics = RoundMetrics(round=number)
        if record["status"] == "open" and self.party_id not in [
            s["party"] for s in record["submissions"]
        ]:
            metrics = self.submit_update(state, record)
        closed = wait_for(
            lambda: get_round(self.contract, task_id, number),
            lambda r: r is not None and r["status"] != "open",
            what=f"round {number} to close",
            timeout=timeout,
        )
        if closed["status"] == "failed":
            metrics.status = "failed"
            return metrics
        contributor = self.party_id in closed["aggregate"]["contributors"]
        try:
            aggregate = self.submit_share(state, number, metrics)
            new_weights = self.decrypt_and_report(
                state, closed, aggregate, metrics, timeout, report=contributor
            )
        except RoundFailed:
            metrics.status = "failed"
            return metrics
        decided = wait_for(
            lambda: get_round(self.contract, task_id, number),
            lambda r: r is not None and r["status"] in DECIDED,
            what=f"the decision on round {number}",
            timeout=timeout,
        )
        metrics.status = decided["status"]
        if decided["status"] == "accepted":
            if decided["result"]["weights_hash"] != metrics.weights_hash:
                raise FedLedgerError(
                    f"round {number} was accepted with weights {decided['result']['weights_hash']}"
                    f" but this participant derived {metrics.weights_hash}"
                )
            state.models[number] = new_weights
        return metrics


def find_task_for(contract: Contract, party_id: str, timeout: float) -> str:
    """Wait for a proposed task listing ``party_id`` that it has not approved; return its id.

    Tasks already active or finished are someone else's business (or an earlier run's), so only
    a task still waiting for this party's approval is picked; the newest if there are several.
    """

    def listing(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            t
            for t in tasks
            if t["status"] == "proposed"
            and party_id not in t["approvals"]
            and party_id in [p["party"] for p in t["participants"]]
        ]

    tasks = wait_for(
        lambda: query(contract, "ListTasks"),
        lambda ts: bool(listing(ts)),
        what=f"a training task listing {party_id}",
        timeout=timeout,
    )
    newest = max(listing(tasks), key=lambda t: (t["proposed_at"], t["id"]))
    return str(newest["id"])
