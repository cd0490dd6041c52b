"""The encrypted simulation: the real coordinator and N real participants over one in-memory ledger.

Nothing of the round is re-implemented here. The coordinator is
:class:`fedledger.roles.training.coordinator.Coordinator` and each participant a
:class:`fedledger.roles.training.participant.Participant` with its own self-signed identity, X25519
key and registered party, running in a thread of its own as separate processes would; the ledger
runs the real contract in-process (SubmitUpdate verifies each update's proof of plaintext
knowledge, CloseRound multiplies the ciphertexts, SubmitDecryptionShare verifies each share).
Keys are real: a 2048-bit (or larger) safe-prime threshold Paillier key made once per simulation
and dealt by the real ceremony. The simulation only watches: it joins each round's coordinator
outcome with the participants' reports into the demo's per-round row
(:func:`fedledger.roles.training.round_summary.summarise_round`), adds the chaincode's time per
transaction and, when asked, keeps each participant's plaintext update so the encrypted
aggregate can be compared with plaintext FedAvg of the very same updates.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.errors import FedLedgerError
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.strategy import StrategyState
from fedledger.ledger.identity import self_signed_identity
from fedledger.roles.ledger_io import register_party
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.coordinator import Coordinator, RoundOutcome
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant import (
    LocalTraining,
    Participant,
    RoundReport,
    TaskState,
)
from fedledger.roles.training.round_summary import summarise_round
from fedledger.roles.training.task_policy import TaskPolicy
from fedledger.simulation.config import SimulationConfig
from fedledger.simulation.data import SimulationData
from fedledger.simulation.phases import phase_figures
from fedledger.simulation.timed_ledger import TimedLedger

__all__ = ["EncryptedRound", "SimulatedConsortium"]

Progress = Callable[[str], None]
# Nobody crashes in a simulation, so a standby decryptor never needs to step in: a long standby
# keeps the N - t others from decrypting when the chosen ones are merely slow (2 shared cores).
STANDBY_SECONDS = 1800.0
WAIT_SECONDS = 3600.0


def _silent(_: str) -> None:
    return None


@dataclass
class EncryptedRound:
    """One simulated round: its row, the global model after it, and (when recorded) the base it
    started from and the plaintext updates of its contributors (participant index -> update)."""

    row: dict[str, Any]
    weights: FloatVector
    accepted: bool
    base: FloatVector
    base_state: StrategyState
    updates: dict[int, FloatVector] = field(default_factory=dict)


class _Reports:
    """The participants' round reports as they come in, from their threads."""

    def __init__(self) -> None:
        self._reports: dict[int, dict[int, RoundReport]] = {}
        self._changed = threading.Condition()

    def add(self, index: int, report: RoundReport) -> None:
        with self._changed:
            self._reports.setdefault(report.round, {})[index] = report
            self._changed.notify_all()

    def collector(self, index: int) -> Callable[[RoundReport], None]:
        """The ``on_round`` callback of participant ``index``."""

        def collect(report: RoundReport) -> None:
            self.add(index, report)

        return collect

    def wait(self, number: int, count: int, futures: list[Future[Any]]) -> list[RoundReport]:
        """Round ``number``'s reports in participant order once all ``count`` are in; raises a
        participant's exception if one stopped, FedLedgerError after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            while len(self._reports.get(number, {})) < count:
                for future in futures:
                    if future.done() and future.exception() is not None:
                        raise FedLedgerError(f"a participant stopped: {future.exception()}")
                if time.monotonic() > deadline:
                    raise FedLedgerError(f"round {number}: participants' reports are missing")
                self._changed.wait(timeout=1.0)
            got = self._reports[number]
            return [got[index] for index in sorted(got)]


class SimulatedConsortium:
    """A coordinator and ``config.participants`` participants on one :class:`TimedLedger`."""

    def __init__(
        self,
        config: SimulationConfig,
        data: SimulationData,
        keypair: tuple[PublicKey, PrivateKey],
        *,
        record_updates: bool = False,
        progress: Progress = _silent,
    ) -> None:
        """Register every party on a fresh ledger (nothing is proposed yet)."""
        config.check()
        self.config, self.data, self.progress = config, data, progress
        self._keypair = keypair
        self.ledger = TimedLedger()
        contract = self.ledger.contract(self_signed_identity("SimCoordinatorMSP", "coordinator"))
        coordinator = register_party(contract, ["coordinator"], _kx_public(generate_private_key()))
        self.coordinator = Coordinator(contract, progress=progress)
        self.policy = TaskPolicy.trusting([coordinator["id"]])
        self._updates: dict[int, dict[int, FloatVector]] = {}
        self._record = record_updates
        self._lock = threading.Lock()
        self.parties: list[dict[str, Any]] = []
        self.members = [self._member(index) for index in range(1, config.participants + 1)]
        self._index = {party["id"]: i for i, party in enumerate(self.parties, start=1)}

    def _member(self, index: int) -> Participant:
        local = self.data.parts[index - 1]
        contract = self.ledger.contract(self_signed_identity(f"Org{index}MSP", f"trainer{index}"))
        key = generate_private_key()
        party = register_party(contract, ["trainer"], _kx_public(key))
        samples = len(local.train)
        self.parties.append({**party, "samples": samples})
        return Participant(
            contract,
            party["id"],
            key,
            local,
            policy=replace(self.policy, expected_samples=samples),
            training=LocalTraining(
                self.config.training,
                seed=self.config.seed + index,
                ahead=self.config.train_ahead,
                on_update=self._recorder(index) if self._record else None,
            ),
            decryptors=DecryptorPolicy(standby_seconds=STANDBY_SECONDS),
        )

    def _recorder(self, index: int) -> Callable[[int, FloatVector], None]:
        def record(number: int, update: FloatVector) -> None:
            with self._lock:
                self._updates.setdefault(number, {})[index] = update.copy()

        return record

    def run(
        self,
        initial: FloatVector,
        on_round: Callable[[EncryptedRound], None] | None = None,
    ) -> list[EncryptedRound]:
        """Propose the task, let everyone join, play every round; return the rounds in order.

        Raises ContractError, WaitTimeout or FedLedgerError when a role fails.
        """
        plan = self.config.plan(self._keypair[0].bits)
        task_id = self.coordinator.propose_task(plan, self.parties, initial, self._keypair)
        self.progress(f"{len(self.members)} participants join {task_id}")
        states = [member.join(task_id) for member in self.members]
        self.coordinator.wait_active(task_id, timeout=WAIT_SECONDS)
        self.ledger.take_times()  # count the rounds' transactions only
        reports, rounds = _Reports(), []
        with ThreadPoolExecutor(len(self.members), thread_name_prefix="participant") as pool:
            futures: list[Future[Any]] = [
                pool.submit(member.run_task, state, reports.collector(index))
                for index, (member, state) in enumerate(zip(self.members, states, strict=True), 1)
            ]

            def finish(outcome: RoundOutcome) -> None:
                got = reports.wait(outcome.round, len(self.members), futures)
                rounds.append(self._round(outcome, got, states[0]))
                if on_round is not None:
                    on_round(rounds[-1])

            try:
                self.coordinator.run_task(task_id, finish, timeout=WAIT_SECONDS)
            finally:
                self.ledger.close()  # wakes every participant still waiting on events
            for future in futures:
                future.result()
        return rounds

    def _round(
        self, outcome: RoundOutcome, reports: list[RoundReport], state: TaskState
    ) -> EncryptedRound:
        record = outcome.view.round
        weights = state.latest
        rows = [r.to_json() for r in reports]
        rows[0]["test_accuracy"] = evaluate_accuracy(self.config.model, weights, self.data.test)
        row = summarise_round(outcome, rows)
        aggregate_bytes = record.aggregate.size if record.aggregate else 0
        row["phases"] = phase_figures(rows, self.ledger.take_times(), aggregate_bytes)
        contributors = record.aggregate.contributors if record.aggregate else ()
        with self._lock:
            submitted = self._updates.pop(record.round, {})
        updates = {
            self._index[p]: submitted[self._index[p]]
            for p in contributors
            if self._index[p] in submitted
        }
        return EncryptedRound(
            row=row,
            weights=weights,
            accepted=record.round in state.models,
            base=state.models[record.base_round],
            base_state=state.strategy_states[record.base_round],
            updates=updates,
        )


def _kx_public(key: bytes) -> str:
    return base64.b64encode(public_key_bytes(key)).decode()
