"""A participant's side of a task, start to finish: join, then per round train, encrypt, submit,
decrypt, combine, evaluate, report and adopt the new global model.

Joining: the participant checks the whole task against its policy (:mod:`.task_policy`: a trusted
proposer, t ≥ 2, its quorum, the model, and its encryption scheme's checks of the key, the
encoding and the sizes) before it approves it, opens its sealed keys and checks the initial
weights against their digest; a restarted participant restores the models it had adopted
(:mod:`.restore`).

One round (:meth:`Participant.run_round`), waiting on the task's chaincode events throughout:

1. when the round opens, train from the round's base weights, scale the update by this party's
   share n_i/N of the declared samples (so the encrypted sum is the FedAvg average), encrypt it
   with the task's scheme (work prepared ahead, a proof that binds it to this party) and submit;
2. when it closes, decrypt (:mod:`.decryption`): the t chosen contributors publish their shares
   at once, the others stand by and publish only if t shares are not in after a while;
3. once t (chaincode-verified) shares are in, combine them, let the task's strategy turn the
   average into the new global weights, evaluate them on local validation data and report their
   digest (:mod:`.reporting`) — or that the aggregate does not decode, so a majority fails it;
4. prepare the next round's encryption and train the next round's update from the weights just
   derived (:mod:`.train_ahead`), wait for the decision and adopt the new model if the round was
   accepted (its digest must be the one this participant derived).

Failure paths, each a named outcome or error: the round fails (status "failed"); this party
missed the deadline ("missed": it still decrypts and adopts the model); the aggregate does not
decode (reported, the round fails); the majority accepted weights this party did not derive
(:class:`DivergedFromMajority`); the ledger stops answering (``WaitTimeout``); the task breaks
the policy (``TaskRefused``, before anything is submitted).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from fedledger.contract import training
from fedledger.contract.lookup import or_none
from fedledger.errors import FedLedgerError
from fedledger.learning.datasets import Dataset
from fedledger.learning.fedavg import scale_update
from fedledger.learning.strategy import strategy_for
from fedledger.learning.training import TrainingConfig
from fedledger.ledger.events import EventFeed
from fedledger.ledger.interface import Contract
from fedledger.protocol.round_records import RoundRecord
from fedledger.protocol.round_requests import UpdateRequest
from fedledger.protocol.rounds import (
    FINAL_STATUSES,
    ROUND_ACCEPTED,
    ROUND_CLOSED,
    ROUND_FAILED,
    ROUND_OPEN,
)
from fedledger.roles.ledger_io import WaitTimeout, Watch, get_task, task_events
from fedledger.roles.metering import MeteredContract, PhaseTimer
from fedledger.roles.model_io import weights_from_bytes, weights_hash
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.decryption import (
    UNDECODABLE,
    RoundAggregate,
    derive_weights,
    publish_share,
)
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant_config import LocalData, LocalTraining, Pacing
from fedledger.roles.training.reporting import Derived, RoundReport, report_result
from fedledger.roles.training.restore import restore_models
from fedledger.roles.training.round_steps import RoundSteps
from fedledger.roles.training.task_policy import TaskPolicy, check_task
from fedledger.roles.training.task_state import TaskState
from fedledger.roles.training.train_ahead import LocalTrainer, round_seed

__all__ = [
    "DivergedFromMajority",
    "LocalData",
    "LocalTraining",
    "Pacing",
    "Participant",
    "RoundReport",
    "TaskState",
    "round_seed",
]

LOG = logging.getLogger("fedledger.participant")
_A = TypeVar("_A")

MISSED = "missed"  # this party's update did not make it into the round


class DivergedFromMajority(FedLedgerError):
    """A majority accepted global weights other than those this participant derived."""



def _published(watch: Watch, read: Callable[[], _A], what: str, timeout: float) -> _A:
    """Wait until ``read()`` finds its asset on the ledger; return it. Raises WaitTimeout."""
    found = watch.until(
        lambda: or_none(read), lambda item: item is not None, what=what, timeout=timeout
    )
    if found is None:  # pragma: no cover - the predicate refuses None
        raise WaitTimeout(f"{what} vanished")
    return found


class Participant:
    """One organisation's participant, over a ``Contract`` bound to its identity."""

    def __init__(
        self,
        contract: Contract,
        party_id: str,
        kx_private_key: bytes,
        data: LocalData,
        *,
        policy: TaskPolicy,
        training: LocalTraining | None = None,
        decryptors: DecryptorPolicy | None = None,
        pacing: Pacing | None = None,
        checkpoints: ModelStore | None = None,
    ) -> None:
        """``kx_private_key`` opens the keys sealed to this party; ``data`` never leaves it;
        ``checkpoints`` keeps every adopted model on disk (and restores them on joining); the
        other records (defaults: their defaults) are described in :mod:`.participant_config` and
        :mod:`.decryptors`."""
        self.contract = MeteredContract(contract)
        self.party_id = party_id
        self._kx_private_key = kx_private_key
        self.data = data
        self.policy = policy
        self.training = training or LocalTraining()
        self.decryptors = decryptors or DecryptorPolicy()
        self.pacing = pacing or Pacing()
        self.checkpoints = checkpoints
        self.steps = RoundSteps(self.contract, self.pacing)
        self.trainer = LocalTrainer(data.train, self.training)

    # ---------------------------------------------------------------------------------- joining
    def join(self, task_id: str, timeout: float = 300.0) -> TaskState:
        """Check the task against this party's policy, approve it, open this party's keys,
        fetch and check the initial weights; return the task state.

        Raises TaskRefused (before anything is submitted) when the task breaks the policy,
        EnvelopeError/CryptoError when the sealed keys cannot be opened or do not match,
        FedLedgerError when the initial weights do not match their digest, WaitTimeout when the
        coordinator does not publish them within ``timeout`` seconds.
        """
        task = get_task(self.contract, task_id)
        public = check_task(task, self.party_id, self.policy)
        if self.party_id not in task.approvals and task.status == "proposed":
            training.approve_task(self.contract, task_id)
        watch = Watch(None, fallback_seconds=1.0)
        envelope = _published(
            watch,
            lambda: training.get_key_envelope(self.contract, task_id, self.party_id),
            f"this party's key share of {task_id}",
            timeout,
        )
        keys = public.open_keys(
            base64.b64decode(envelope.envelope), self._kx_private_key, self.party_id
        )
        stored = _published(
            watch,
            lambda: training.get_model_weights(self.contract, task_id),
            f"the initial weights of {task_id}",
            timeout,
        )
        initial = weights_from_bytes(base64.b64decode(stored.weights))
        if weights_hash(initial) != task.initial_weights_hash:
            raise FedLedgerError(f"the initial weights of {task_id} do not match its digest")
        state = TaskState(
            task, keys, strategy_for(task.strategy), models={0: initial}, strategy_states={0: None}
        )
        if self.checkpoints is not None:
            restore_models(self.contract, self.checkpoints, state)
        keys.prepare()  # ahead, before any update exists
        return state

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
            watch = Watch(feed, fallback_seconds=self.pacing.fallback_seconds)
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
                fallback = self.pacing.fallback_seconds
                return self.run_round(state, number, Watch(feed, fallback_seconds=fallback))
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
        task, wait = state.task, self.steps.await_round
        view = wait(task, number, watch, lambda v: True, f"round {number} to open")
        LOG.info("round %d: open", number)
        if view.round.status == ROUND_OPEN and self.party_id not in view.submitters:
            submitted = self._submit_update(state, view.round, report, timer)
            LOG.info("round %d: update %s", number, "submitted" if submitted else "too late")
        view = wait(
            task, number, watch, lambda v: v.round.status != ROUND_OPEN, f"round {number} to close"
        )
        if view.round.status == ROUND_FAILED:
            report.status = ROUND_FAILED
            return
        LOG.info("round %d: %s", number, view.round.status)
        # What counts is the ledger's list, also for an update submitted before a restart.
        aggregate = view.round.aggregate
        report.contributed = aggregate is not None and self.party_id in aggregate.contributors
        fetched = RoundAggregate(self.contract, task.id, number)  # read once for both steps
        if view.round.status == ROUND_CLOSED:
            publish_share(
                self.steps, self.party_id, self.decryptors, state, view, watch, fetched, report,
                timer,
            )  # fmt: skip
        view = wait(
            task, number, watch,
            lambda v: len(v.shares) >= task.threshold or v.round.status == ROUND_FAILED,
            f"{task.threshold} decryption shares of round {number}",
        )  # fmt: skip
        if view.round.status == ROUND_FAILED:
            report.status = ROUND_FAILED
            return
        LOG.info("round %d: %d shares in", number, len(view.shares))
        derived = derive_weights(
            self.contract, state, view, fetched, self.data.validation, report, timer
        )
        LOG.info("round %d: combined, %s", number, report.weights_hash[:12])
        if derived.weights is not None:  # train the next round in the background from here
            state.ahead = self.trainer.ahead(task, state.strategy, number, derived.weights)
        report_result(self.steps, state, view, derived, report)
        LOG.info("round %d: reported", number)
        with timer("prepare"):  # the next round's encryption, while the decision comes in
            state.keys.prepare()
        view = wait(
            task, number, watch, lambda v: v.round.status in FINAL_STATUSES,
            f"the decision on round {number}",
        )  # fmt: skip
        LOG.info("round %d: %s", number, view.round.status)
        report.status = view.round.status if report.contributed else MISSED
        if view.round.status == ROUND_ACCEPTED:
            self._adopt(state, view.round, derived)

    # ------------------------------------------------------------------------ the round's steps
    def _submit_update(
        self, state: TaskState, record: RoundRecord, report: RoundReport, timer: PhaseTimer
    ) -> bool:
        """Train, encrypt, prove and submit; return whether the update was accepted."""
        task, number = state.task, record.round
        with timer("prepare"):
            state.keys.prepare()
        ahead, state.ahead = state.ahead, None
        if ahead is not None and ahead.matches(number, record.base_round):
            with timer("train"):  # only what is left of it counts inside the round
                update, report.ahead_seconds = ahead.result.result()
            report.trained_ahead = True
        else:
            with timer("train"):
                base = state.models[record.base_round]
                update = self.trainer.train(task, state.strategy, number, base)
        if self.training.on_update is not None:
            self.training.on_update(number, update)
        own = task.samples_of(self.party_id)
        with timer("encrypt"):
            scaled = scale_update(update, own, task.total_samples)
            encrypted = state.keys.encrypt_update(scaled.tolist(), number, self.party_id)
            request = UpdateRequest(vector=encrypted.vector, samples=own, proof=encrypted.proof)
        report.clipped_values = encrypted.clipped
        report.update_bytes = len(encrypted.vector)
        return self.steps.submit_while(
            task, number, ROUND_OPEN,
            lambda: training.submit_update(self.contract, task.id, number, request),
        )  # fmt: skip

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

    # ------------------------------------------------------------------ what it was built with
    @property
    def train(self) -> Dataset:
        """This party's training data."""
        return self.data.train

    @property
    def validation(self) -> Dataset:
        """This party's validation data."""
        return self.data.validation

    @property
    def seed(self) -> int:
        """This party's training seed."""
        return self.training.seed

    @property
    def config(self) -> TrainingConfig:
        """This party's training configuration."""
        return self.training.config

    @property
    def step_timeout(self) -> float | None:
        """The bound on each wait for a round to move (:class:`Pacing`); settable."""
        return self.pacing.step_timeout

    @step_timeout.setter
    def step_timeout(self, seconds: float | None) -> None:
        self.pacing = replace(self.pacing, step_timeout=seconds)
        self.steps.pacing = self.pacing
