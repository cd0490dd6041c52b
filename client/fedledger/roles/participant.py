"""A participant: joins a task, trains locally, submits encrypted updates, decrypts the aggregate.

Joining: a participant checks the whole task against its policy (:mod:`task_policy`: a trusted
proposer, t ≥ 2, the quorum, the key and its threshold data, the encoding, the sizes) before it
approves it, and joins nothing else.

Per round: take the global weights of the round's base, train for the task's local epochs,
scale the update by this party's share of the declared samples (n_i / N, so the encrypted sum is
the FedAvg average), encrypt it with randomness prepared before training, prove knowledge of its
plaintexts, and submit it. After the round closes: publish a verifiable decryption share; once t
shares are on the ledger (the chaincode verified each), combine them, apply the decrypted average
to the base weights, evaluate, and report accuracy and the weights' digest — or, when the
aggregate does not decode (someone submitted values beyond the encoding's bounds), report that,
so a majority fails the round and training goes on. Every honest participant derives the same
new global weights.
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
from fedledger.crypto.vectors import encrypt_update, partial_decrypt_vector
from fedledger.crypto.wire import decryption_share_to_base64
from fedledger.errors import ContractError, EncodingError, FedLedgerError
from fedledger.learning.datasets import Dataset
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.fedavg import rescale_partial_sum, scale_update
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig, train_local
from fedledger.ledger.interface import Contract
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec
from fedledger.protocol.popk import ProofContext
from fedledger.protocol.rounds import MAX_DECODE_ERROR_CHARS
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
    weights_from_bytes,
    weights_hash,
)
from fedledger.roles.task_policy import TaskPolicy, check_task


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
        policy: TaskPolicy,
        config: TrainingConfig = DEFAULT_TRAINING,
        seed: int = 0,
    ) -> None:
        self.contract = contract
        self.party_id = party_id
        self.policy = policy
        self._kx_private_key = kx_private_key
        self.train = train
        self.validation = validation
        self.config = config
        self.seed = seed

    # ------------------------------------------------------------------ joining
    def join(self, task_id: str, timeout: float = 300.0) -> TaskState:
        """Check the task against this party's policy, approve it, open this party's key share,
        fetch and check the initial weights.

        Waits up to ``timeout`` seconds for the coordinator to publish the sealed key share and
        the initial weights. Raises TaskRefused (before anything is submitted) when the task
        breaks the policy, FedLedgerError subclasses when the envelope cannot be opened or the
        initial weights do not match the digest.
        """
        task = query(self.contract, "GetTask", task_id)
        tkey = check_task(task, self.party_id, self.policy)
        if self.party_id not in task["approvals"] and task["status"] == "proposed":
            self.contract.submit("ApproveTask", task_id)
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
        context = ProofContext(
            state.task["id"], number, self.party_id, state.public_key.fingerprint
        )
        vector, proof = encrypt_update(
            scaled.tolist(), state.public_key, state.encoding, pool, context
        )
        payload = vector.to_base64()
        metrics.encrypt_online_s = time.perf_counter() - started
        metrics.update_bytes = len(payload)

        started = time.perf_counter()
        request = {"vector": payload, "samples": own, "proof": proof.to_base64()}
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
        try:
            self.contract.submit("SubmitDecryptionShare", state.task["id"], str(number), encoded)
        except ContractError as exc:
            # A majority may have decided the round with the shares already in: this one is
            # then not needed. Any other refusal is an error.
            if "decryption shares are accepted only while it is closed" not in exc.message:
                raise
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
    ) -> FloatVector | None:
        """Combine t shares into the new global weights, evaluate them, report; return them.

        Returns None when the aggregate does not decode (then that is what is reported). Only
        contributors report (``report``); anyone holding the shares can decrypt. A report that
        comes after a majority already decided the round is not needed and not an error.
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
        shares = [
            (
                party,
                query(self.contract, "GetDecryptionShare", task_id, str(number), party)["share"],
            )
            for party in ready["shares"][:threshold]
        ]
        metrics.ledger_s += time.perf_counter() - started

        started = time.perf_counter()
        contributors = record["aggregate"]["contributors"]
        declared = {p["party"]: p["samples"] for p in state.task["participants"]}
        try:
            decrypted = decrypt_aggregate(
                state.tkey, aggregate, shares, indices=state.indices, summands=len(contributors)
            )
        except EncodingError as exc:
            metrics.decrypt_s += time.perf_counter() - started
            metrics.status = "undecodable"
            if report:
                reason = str(exc)[:MAX_DECODE_ERROR_CHARS]
                self._report(task_id, number, {"decode_error": reason}, metrics)
            return None
        average = rescale_partial_sum(
            np.asarray(decrypted.values),
            sum(declared.values()),
            sum(declared[party] for party in contributors),
        )
        new_weights = canonical_weights(state.models[record["base_round"]] + average)
        metrics.decrypt_s += time.perf_counter() - started

        accuracy = evaluate_accuracy(state.task["model"], new_weights, self.validation)
        metrics.local_accuracy = accuracy
        metrics.weights_hash = weights_hash(new_weights)
        if report:
            result = {"weights_hash": metrics.weights_hash, "accuracy_bp": round(accuracy * 10000)}
            self._report(task_id, number, result, metrics)
        return new_weights

    def _report(
        self, task_id: str, number: int, result: dict[str, Any], metrics: RoundMetrics
    ) -> None:
        started = time.perf_counter()
        try:
            self.contract.submit("ReportResult", task_id, str(number), json.dumps(result))
        except ContractError as exc:
            # A majority may have decided the round while this participant computed: its
            # report is then no longer needed. Any other refusal is an error.
            if "results are accepted only while it is closed" not in exc.message:
                raise
        metrics.ledger_s += time.perf_counter() - started

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
            if new_weights is None:
                raise FedLedgerError(
                    f"round {number} was accepted with weights {decided['result']['weights_hash']}"
                    " but this participant could not decode its aggregate"
                )
            if decided["result"]["weights_hash"] != metrics.weights_hash:
                raise FedLedgerError(
                    f"round {number} was accepted with weights {decided['result']['weights_hash']}"
                    f" but this participant derived {metrics.weights_hash}"
                )
            state.models[number] = new_weights
        return metrics


def find_task_for(contract: Contract, party_id: str, policy: TaskPolicy, timeout: float) -> str:
    """Wait for a proposed task listing ``party_id``, by a coordinator it trusts, that it has
    not approved yet; return its id (the newest if there are several).

    Tasks already active or finished are someone else's business (or an earlier run's); tasks
    by anybody else are never joined, whatever they promise. The listing reads this party's own
    index (ListTasks filtered by participant), page by page.
    """

    def candidates() -> list[dict[str, Any]]:
        found, bookmark = [], None
        while True:
            query_json = {"participant": party_id, **({"bookmark": bookmark} if bookmark else {})}
            page = query(contract, "ListTasks", json.dumps(query_json))
            found += [
                t
                for t in page["tasks"]
                if t["status"] == "proposed"
                and party_id not in t["approvals"]
                and t["proposer"] in policy.trusted_coordinators
            ]
            bookmark = page["bookmark"]
            if bookmark is None:
                return found

    tasks = wait_for(
        candidates,
        bool,
        what=f"a training task listing {party_id} by a trusted coordinator",
        timeout=timeout,
    )
    newest = max(tasks, key=lambda t: (t["proposed_at"], t["id"]))
    return str(newest["id"])
