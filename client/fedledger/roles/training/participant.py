"""A participant's side of a task, start to finish: join, then per round train, encrypt, submit,
decrypt, combine, evaluate, report and adopt the new global model.

Joining: the participant checks the whole task against its policy (:mod:`task_policy`: a trusted
proposer, t ≥ 2, its quorum, the key and its threshold data, the encoding, the sizes) before it
approves it, opens its sealed key share and checks the initial weights against their digest.

One round (:meth:`Participant.run_round`), waiting on the task's chaincode events throughout:

1. when the round opens, train from the round's base weights, scale the update by this party's
   share n_i/N of the declared samples (so the encrypted sum is the FedAvg average), encrypt it
   with randomness prepared ahead, prove knowledge of its plaintexts and submit it;
2. when it closes, decrypt: the t contributors :func:`~decryptors.chosen_decryptors` names
   publish their shares at once, the others stand by and publish only if t shares are not in
   after a while;
3. once t (chaincode-verified) shares are in, combine them, let the task's strategy turn the
   average into the new global weights, evaluate them on local validation data and report their
   digest — or that the aggregate does not decode, so a majority fails the round;
4. prepare the next round's randomness and train the next round's update from the weights just
   derived (they are the next base if the round is accepted, the usual case; otherwise the
   update is thrown away and training starts again from the real base), wait for the decision
   and adopt the new model if the round was accepted (its digest must be the one this
   participant derived).

Failure paths, each a named outcome or error: the round fails (status "failed"); this party
missed the deadline ("missed": it still decrypts and adopts the model); the aggregate does not
decode (reported, the round fails); the majority accepted weights this party did not derive
(:class:`DivergedFromMajority`); the ledger stops answering (``WaitTimeout``); the task breaks
the policy (``TaskRefused``, before anything is submitted).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
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
from fedledger.learning.strategy import Strategy, StrategyState, strategy_for
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig, train_local
from fedledger.ledger.events import EventFeed
from fedledger.ledger.interface import Contract
from fedledger.protocol.popk import ProofContext
from fedledger.protocol.round_records import RoundRecord, RoundView
from fedledger.protocol.rounds import (
    FINAL_STATUSES,
    MAX_DECODE_ERROR_CHARS,
    ROUND_ACCEPTED,
    ROUND_CLOSED,
    ROUND_FAILED,
    ROUND_OPEN,
)
from fedledger.protocol.task_records import TaskRecord
from fedledger.roles.ledger_io import (
    WaitTimeout,
    Watch,
    get_aggregate,
    get_round,
    get_share,
    get_task,
    query_or_none,
    task_events,
)
from fedledger.roles.metering import MeteredContract, PhaseTimer
from fedledger.roles.model_io import (
    FloatVector,
    canonical_weights,
    weights_from_bytes,
    weights_hash,
)
from fedledger.roles.training.checkpoints import CheckpointError, ModelStore
from fedledger.roles.training.coordinator import key_share_context
from fedledger.roles.training.decryptors import DecryptorPolicy, chosen_decryptors
from fedledger.roles.training.task_policy import TaskPolicy, check_task

__all__ = ["DivergedFromMajority", "Participant", "RoundReport", "TaskState", "round_seed"]

LOG = logging.getLogger("fedledger.participant")

MISSED = "missed"  # this party's update did not make it into the round
UNDECODABLE = "undecodable"


def round_seed(seed: int, number: int) -> int:
    """The training seed of round ``number`` for a participant seeded ``seed`` (the same inputs,
    the same update: a plaintext twin of the round trains with it too)."""
    return seed * 1000 + number


def _still(record: RoundRecord, status: str, now: float) -> bool:
    """True while ``record`` is in ``status`` (an open round past its deadline is over)."""
    if record.status != status:
        return False
    return status != ROUND_OPEN or now <= record.deadline


class DivergedFromMajority(FedLedgerError):
    """A majority accepted global weights other than those this participant derived."""


@dataclass(frozen=True)
class Derived:
    """What a participant derived from a round's shares: the new weights and strategy state,
    or (``weights`` None) why the aggregate did not decode."""

    weights: FloatVector | None
    strategy_state: StrategyState = None
    decode_error: str = ""


@dataclass
class RoundReport:
    """What one participant did and measured in one round (seconds per phase, bytes)."""

    round: int
    status: str = ""
    contributed: bool = False
    decrypted: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    ledger_calls: int = 0
    ledger_bytes: int = 0
    update_bytes: int = 0
    share_bytes: int = 0
    clipped_values: int = 0
    local_accuracy: float | None = None
    base_accuracy: float | None = None  # the round's base model on the same validation data
    weights_hash: str = ""
    trained_ahead: bool = False
    ahead_seconds: float = 0.0  # training done ahead, outside the round (the "train" phase waits)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return asdict(self)


@dataclass(frozen=True)
class TrainedAhead:
    """Round ``number``'s update, being trained in the background from the weights this party
    derived in round ``base_round``: the update and the seconds the training took."""

    number: int
    base_round: int
    result: Future[tuple[FloatVector, float]]


@dataclass
class TaskState:
    """What a participant knows of a task it has joined: keys, strategy, the accepted models."""

    task: TaskRecord
    tkey: ThresholdKey
    share: KeyShare
    encoding: EncodingParams
    strategy: Strategy
    pool: RandomnessPool
    models: dict[int, FloatVector] = field(default_factory=dict)  # accepted round -> weights
    strategy_states: dict[int, StrategyState] = field(default_factory=dict)
    base_accuracies: dict[int, float] = field(default_factory=dict)  # accepted round -> accuracy
    ahead: TrainedAhead | None = None

    @property
    def public_key(self) -> PublicKey:
        """The task's Paillier key."""
        return self.tkey.public_key

    @property
    def indices(self) -> dict[str, int]:
        """Share index of every participant."""
        return share_indices(list(self.task.participant_ids))

    @property
    def latest(self) -> FloatVector:
        """The newest accepted global weights."""
        return self.models[max(self.models)]


class Participant:
    """One organisation's participant, over a ``Contract`` bound to its identity."""

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
        decryptors: DecryptorPolicy | None = None,
        seed: int = 0,
        fallback_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
        step_timeout: float | None = None,
        checkpoints: ModelStore | None = None,
        train_ahead: bool = True,
        on_update: Callable[[int, FloatVector], None] | None = None,
    ) -> None:
        """``fallback_seconds`` bounds a wait without events; ``clock`` (seconds since the
        epoch) tells whether an open round's deadline has passed; ``step_timeout`` bounds each
        wait for the round to move (default three round durations, at least two minutes);
        ``checkpoints`` keeps every adopted model on disk (and restores them on joining);
        ``train_ahead`` trains the next round while the current one is being decided;
        ``on_update`` sees (round, this party's update before scaling and encryption) just
        before it is encrypted: for an in-process simulation that compares the encrypted
        aggregate with plaintext FedAvg (the update stays in this process)."""
        self.on_update = on_update
        self.checkpoints = checkpoints
        self.train_ahead = train_ahead
        self._trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="train-ahead")
        self.contract = MeteredContract(contract)
        self.clock = clock
        self.step_timeout = step_timeout
        self.party_id = party_id
        self._kx_private_key = kx_private_key
        self.train = train
        self.validation = validation
        self.policy = policy
        self.config = config
        self.decryptors = decryptors or DecryptorPolicy()
        self.seed = seed
        self._fallback = fallback_seconds

    # ---------------------------------------------------------------------------------- joining
    def join(self, task_id: str, timeout: float = 300.0) -> TaskState:
        """Check the task against this party's policy, approve it, open this party's key share,
        fetch and check the initial weights; return the task state.

        Raises TaskRefused (before anything is submitted) when the task breaks the policy,
        EnvelopeError/CryptoError when the sealed share cannot be opened or does not match,
        FedLedgerError when the initial weights do not match their digest, WaitTimeout when the
        coordinator does not publish them within ``timeout`` seconds.
        """
        task = get_task(self.contract, task_id)
        tkey = check_task(task, self.party_id, self.policy)
        if self.party_id not in task.approvals and task.status == "proposed":
            self.contract.submit("ApproveTask", task_id)
        watch = Watch(None, fallback_seconds=1.0)
        envelope = watch.until(
            lambda: query_or_none(self.contract, "GetKeyEnvelope", task_id, self.party_id),
            lambda found: found is not None,
            what=f"this party's key share of {task_id}",
            timeout=timeout,
        )
        share = open_key_share(
            base64.b64decode(envelope["envelope"]),
            self._kx_private_key,
            associated_data=key_share_context(task.public_key.fingerprint),
            party_id=self.party_id,
            threshold_key=tkey,
        )
        stored = watch.until(
            lambda: query_or_none(self.contract, "GetModelWeights", task_id),
            lambda found: found is not None,
            what=f"the initial weights of {task_id}",
            timeout=timeout,
        )
        initial = weights_from_bytes(base64.b64decode(stored["weights"]))
        if weights_hash(initial) != task.initial_weights_hash:
            raise FedLedgerError(f"the initial weights of {task_id} do not match its digest")
        state = TaskState(
            task=task,
            tkey=tkey,
            share=share,
            encoding=EncodingParams.from_spec(task.spec),
            strategy=strategy_for(task.strategy),
            pool=RandomnessPool(tkey.public_key),
            models={0: initial},
            strategy_states={0: None},
        )
        self._restore(state)
        state.pool.fill(task.ciphertext_count)  # randomness ahead, before any update exists
        return state

    def _restore(self, state: TaskState) -> None:
        """Restore the models adopted before a restart whose digests the ledger confirms.

        A checkpoint that is unreadable, corrupt or not the accepted model is skipped (and
        logged): its round is then replayed from the ledger instead.
        """
        if self.checkpoints is None:
            return
        for number in self.checkpoints.rounds(state.task.id):
            view = get_round(self.contract, state.task.id, number)
            result = view.round.result if view is not None else None
            if view is None or view.round.status != ROUND_ACCEPTED or result is None:
                continue
            try:
                checkpoint = self.checkpoints.load(state.task.id, number)
            except CheckpointError as exc:
                LOG.warning("round %d: checkpoint not restored: %s", number, exc)
                continue
            if checkpoint.weights_hash == result.weights_hash:
                state.models[number] = checkpoint.weights
                state.strategy_states[number] = checkpoint.strategy_state

    # ---------------------------------------------------------------------------- the task
    def run_task(
        self, state: TaskState, on_round: Callable[[RoundReport], None] | None = None
    ) -> list[RoundReport]:
        """Take part in every round of the task; return one report per round it played.

        Rounds whose adopted model was restored on joining (a restarted participant) are
        skipped; a round decided while this party was away is replayed from the ledger (its
        shares decrypt the aggregate again, the digest is checked, the model adopted).
        ``on_round`` is called with each report as soon as its round is decided.
        """
        reports = []
        with EventFeed(self.contract, accept=task_events(state.task.id)) as feed:
            watch = Watch(feed, fallback_seconds=self._fallback)
            for number in range(1, state.task.rounds + 1):
                if number in state.models:
                    LOG.info("round %d: restored from its checkpoint", number)
                    continue
                report = self.run_round(state, number, watch)
                reports.append(report)
                if on_round is not None:
                    on_round(report)
        return reports

    def run_round(self, state: TaskState, number: int, watch: Watch | None = None) -> RoundReport:
        """Take part in round ``number`` from its opening to its decision (module docstring).

        Returns the round's report. Raises DivergedFromMajority, or WaitTimeout when the round
        makes no progress for three round durations.
        """
        if watch is None:
            with EventFeed(self.contract, accept=task_events(state.task.id)) as feed:
                return self.run_round(state, number, Watch(feed, fallback_seconds=self._fallback))
        report, timer, before = RoundReport(round=number), PhaseTimer(), self.contract.usage
        with timer("wall"):
            self._play_round(state, number, watch, report, timer)
        used = self.contract.usage - before
        report.seconds = {**timer.seconds(), "ledger": used.seconds}
        report.ledger_calls, report.ledger_bytes = used.calls, used.bytes_sent + used.bytes_received
        return report

    def _play_round(
        self, state: TaskState, number: int, watch: Watch, report: RoundReport, timer: PhaseTimer
    ) -> None:
        view = self._await(state, number, watch, lambda v: True, f"round {number} to open")
        LOG.info("round %d: open", number)
        if view.round.status == ROUND_OPEN and self.party_id not in view.submitters:
            submitted = self._submit_update(state, view.round, report, timer)
            LOG.info("round %d: update %s", number, "submitted" if submitted else "too late")
        view = self._await(
            state, number, watch, lambda v: v.round.status != ROUND_OPEN, f"round {number} to close"
        )
        if view.round.status == ROUND_FAILED:
            report.status = ROUND_FAILED
            return
        LOG.info("round %d: %s", number, view.round.status)
        # What counts is the ledger's list, also for an update submitted before a restart.
        aggregate = view.round.aggregate
        report.contributed = aggregate is not None and self.party_id in aggregate.contributors
        if view.round.status == ROUND_CLOSED:
            self._decrypt(state, view, watch, report, timer)
        view = self._await(
            state,
            number,
            watch,
            lambda v: len(v.shares) >= state.task.threshold or v.round.status == ROUND_FAILED,
            f"{state.task.threshold} decryption shares of round {number}",
        )
        if view.round.status == ROUND_FAILED:
            report.status = ROUND_FAILED
            return
        LOG.info("round %d: %d shares in", number, len(view.shares))
        derived = self._combine(state, view, report, timer)
        LOG.info("round %d: combined, %s", number, report.weights_hash[:12])
        self._train_ahead(state, view.round, derived)  # in the background from here
        self._report(state, view, derived, report)
        LOG.info("round %d: reported", number)
        with timer("prepare"):  # the next round's randomness, while the decision comes in
            state.pool.fill(state.task.ciphertext_count - len(state.pool))
        view = self._await(
            state, number, watch, lambda v: v.round.status in FINAL_STATUSES,
            f"the decision on round {number}",
        )  # fmt: skip
        LOG.info("round %d: %s", number, view.round.status)
        report.status = view.round.status if report.contributed else MISSED
        if view.round.status == ROUND_ACCEPTED:
            self._adopt(state, view.round, derived)

    def _await(
        self,
        state: TaskState,
        number: int,
        watch: Watch,
        ready: Callable[[RoundView], bool],
        what: str,
        timeout: float | None = None,
    ) -> RoundView:
        view = watch.until(
            lambda: get_round(self.contract, state.task.id, number),
            lambda v: v is not None and ready(v),
            what=what,
            timeout=timeout if timeout is not None else self._step_timeout(state),
        )
        if view is None:  # pragma: no cover - ready() rejects None
            raise WaitTimeout(f"round {number} of {state.task.id} vanished")
        return view

    def _step_timeout(self, state: TaskState) -> float:
        if self.step_timeout is not None:
            return self.step_timeout
        return max(120.0, 3.0 * state.task.round_seconds)

    # ------------------------------------------------------------------------ the round's steps
    def _submit_update(
        self, state: TaskState, record: RoundRecord, report: RoundReport, timer: PhaseTimer
    ) -> bool:
        """Train, encrypt, prove and submit; return whether the update was accepted."""
        task, number = state.task, record.round
        with timer("prepare"):
            state.pool.fill(task.ciphertext_count - len(state.pool))
        ahead, state.ahead = state.ahead, None
        if ahead is not None and (ahead.number, ahead.base_round) == (number, record.base_round):
            with timer("train"):  # only what is left of it counts inside the round
                update, report.ahead_seconds = ahead.result.result()
            report.trained_ahead = True
        else:
            with timer("train"):
                update = self._train(state, number, state.models[record.base_round])
        if self.on_update is not None:
            self.on_update(number, update)
        own = task.samples_of(self.party_id)
        with timer("encrypt"):
            scaled = scale_update(update, own, task.total_samples)
            report.clipped_values = int(np.count_nonzero(np.abs(scaled) > state.encoding.clip))
            context = ProofContext(task.id, number, self.party_id, task.public_key.fingerprint)
            vector, proof = encrypt_update(
                scaled.tolist(), state.public_key, state.encoding, state.pool, context
            )
            payload = vector.to_base64()
            request = {"vector": payload, "samples": own, "proof": proof.to_base64()}
        report.update_bytes = len(payload)
        return self._submit_while(
            state, number, ROUND_OPEN, "SubmitUpdate", task.id, str(number), json.dumps(request)
        )

    def _train(self, state: TaskState, number: int, base: FloatVector) -> FloatVector:
        """Round ``number``'s local update from ``base`` (seeded: the same inputs, the same
        update, whenever it is computed)."""
        config = state.strategy.configure_fit(number, self.config)
        result = train_local(
            state.task.model, base, self.train, config, seed=round_seed(self.seed, number)
        )
        return result.update

    def _train_ahead(self, state: TaskState, record: RoundRecord, derived: Derived) -> None:
        """Start training the next round from the weights just derived, in the background,
        while this party reports and the decision comes in."""
        number = record.round + 1
        if not self.train_ahead or derived.weights is None or number > state.task.rounds:
            return
        weights = derived.weights

        def train() -> tuple[FloatVector, float]:
            started = time.perf_counter()
            update = self._train(state, number, weights)
            return update, round(time.perf_counter() - started, 3)

        state.ahead = TrainedAhead(number, record.round, self._trainer.submit(train))

    def _decrypt(
        self,
        state: TaskState,
        view: RoundView,
        watch: Watch,
        report: RoundReport,
        timer: PhaseTimer,
    ) -> None:
        """Publish this party's share if it is chosen, or if the chosen ones leave it waiting."""
        task, number = state.task, view.round.round
        contributors = view.round.aggregate.contributors if view.round.aggregate else ()
        chosen = chosen_decryptors(contributors, number, task.threshold)
        if not self.decryptors.everyone and self.party_id not in chosen:
            try:
                self._await(
                    state, number, watch,
                    lambda v: len(v.shares) >= task.threshold or v.round.status != ROUND_CLOSED,
                    "the chosen decryptors", timeout=self.decryptors.standby_seconds,
                )  # fmt: skip
                return
            except WaitTimeout:
                pass  # a chosen decryptor is late: stand in for it
        aggregate = get_aggregate(self.contract, task.id, number)
        with timer("decrypt"):
            dshare = partial_decrypt_vector(state.tkey, state.share, aggregate)
            encoded = decryption_share_to_base64(state.tkey, dshare)
        report.share_bytes, report.decrypted = len(encoded), True
        LOG.info("round %d: share computed", number)
        self._submit_while(
            state, number, ROUND_CLOSED, "SubmitDecryptionShare", task.id, str(number), encoded
        )

    def _combine(
        self, state: TaskState, view: RoundView, report: RoundReport, timer: PhaseTimer
    ) -> Derived:
        """Decrypt the aggregate from t shares and apply the task's strategy."""
        task, record = state.task, view.round
        contributors = record.aggregate.contributors if record.aggregate else ()
        shares = [
            (party, get_share(self.contract, task.id, record.round, party))
            for party in view.share_parties[: task.threshold]
        ]
        aggregate = get_aggregate(self.contract, task.id, record.round)
        with timer("combine"):
            try:
                decrypted = decrypt_aggregate(
                    state.tkey, aggregate, shares, indices=state.indices, summands=len(contributors)
                )
            except EncodingError as exc:
                report.weights_hash = UNDECODABLE
                return Derived(None, decode_error=str(exc)[:MAX_DECODE_ERROR_CHARS])
            contributed = sum(task.samples_of(party) for party in contributors)
            average = rescale_partial_sum(
                np.asarray(decrypted.values), task.total_samples, contributed
            )
            weights, strategy_state = state.strategy.aggregate_fit(
                state.models[record.base_round], average, state.strategy_states[record.base_round]
            )
            weights = canonical_weights(weights)
        report.weights_hash = weights_hash(weights)
        with timer("evaluate"):
            report.local_accuracy = evaluate_accuracy(task.model, weights, self.validation)
            base = record.base_round
            if base not in state.base_accuracies:
                state.base_accuracies[base] = evaluate_accuracy(
                    task.model, state.models[base], self.validation
                )
            report.base_accuracy = state.base_accuracies[base]
        return Derived(weights, strategy_state)

    def _report(
        self,
        state: TaskState,
        view: RoundView,
        derived: Derived,
        report: RoundReport,
    ) -> None:
        """Report this contributor's outcome while the round is still undecided."""
        record = view.round
        if not report.contributed or record.status != ROUND_CLOSED:
            return
        if derived.weights is None:
            result: dict[str, Any] = {"decode_error": derived.decode_error}
        else:
            accuracy, base = report.local_accuracy or 0.0, report.base_accuracy or 0.0
            result = {
                "weights_hash": report.weights_hash,
                "accuracy_bp": round(accuracy * 10000),
                "base_accuracy_bp": round(base * 10000),
            }
        self._submit_while(
            state, record.round, ROUND_CLOSED, "ReportResult", state.task.id,
            str(record.round), json.dumps(result),
        )  # fmt: skip

    def _submit_while(
        self, state: TaskState, number: int, status: str, function: str, *args: str
    ) -> bool:
        """Submit a step of round ``number`` that only makes sense while it is ``status``.

        Returns True when committed, False when the round moved on before it (closed before this
        update, decided before this share or report): then the step is simply not needed. Any
        other refusal is raised.
        """
        try:
            self.contract.submit(function, *args)
        except ContractError:
            view = get_round(self.contract, state.task.id, number)
            if view is None or not _still(view.round, status, self.clock()):
                return False
            raise
        return True

    def _adopt(self, state: TaskState, record: RoundRecord, derived: Derived) -> None:
        """Make an accepted round's weights this party's global model, if they are its own."""
        accepted = record.result.weights_hash if record.result else ""
        mine = weights_hash(derived.weights) if derived.weights is not None else UNDECODABLE
        if derived.weights is None or mine != accepted:
            raise DivergedFromMajority(
                f"round {record.round} of {state.task.id} was accepted with weights {accepted} "
                f"but this participant derived {mine}"
            )
        state.models[record.round] = derived.weights
        state.strategy_states[record.round] = derived.strategy_state
        if self.checkpoints is not None:
            self.checkpoints.save(
                state.task.id, record.round, derived.weights, derived.strategy_state
            )
