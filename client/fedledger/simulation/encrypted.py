"""The encrypted simulation: the real coordinator and N real participants over one in-memory ledger.

Nothing of the round is re-implemented here. The one consortium
runner (:class:`fedledger.consortium.runner.Consortium`) runs the real coordinator and each
participant with its own self-signed identity, X25519 key and registered party, in a thread of
its own as separate processes would; the ledger
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

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fedledger.consortium.runner import Consortium, RoleOptions
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.strategy import StrategyState
from fedledger.ledger.identity import self_signed_identity
from fedledger.ledger.interface import Contract
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.coordinator import Coordinator, RoundOutcome
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant import RoundReport, TaskState
from fedledger.roles.training.round_summary import summarise_round
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


class SimulatedConsortium:
    """A coordinator and ``config.participants`` participants on one :class:`TimedLedger`,
    run by the one consortium runner (:class:`fedledger.consortium.runner.Consortium`)."""

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
        self._updates: dict[int, dict[int, FloatVector]] = {}
        self._record = record_updates
        self._lock = threading.Lock()
        self.consortium = Consortium(
            self._contract_for,
            data.parts,
            make_role=RoleOptions(
                seed=config.seed,
                config=config.training,
                decryptors=DecryptorPolicy(standby_seconds=STANDBY_SECONDS),
                train_ahead=config.train_ahead,
                recorder=self._recorder if record_updates else None,
            ),
            make_coordinator=lambda contract: Coordinator(contract, progress=progress),
        )
        self.parties = self.consortium.parties
        self._index = {party["id"]: i for i, party in enumerate(self.parties, start=1)}

    def _contract_for(self, name: str) -> Contract:
        if name == "coordinator":
            return self.ledger.contract(self_signed_identity("SimCoordinatorMSP", "coordinator"))
        index = int(name.removeprefix("Org"))
        return self.ledger.contract(self_signed_identity(f"{name}MSP", f"trainer{index}"))

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
        task_id = self.consortium.propose(plan, initial, self._keypair)
        self.progress(f"{len(self.consortium.members)} participants join {task_id}")
        states = self.consortium.join(task_id)
        self.consortium.coordinator.wait_active(task_id, timeout=WAIT_SECONDS)
        self.ledger.take_times()  # count the rounds' transactions only
        rounds: list[EncryptedRound] = []

        def finish(outcome: RoundOutcome, reports: list[RoundReport]) -> None:
            rounds.append(self._round(outcome, reports, states[0]))
            if on_round is not None:
                on_round(rounds[-1])

        # Closing the ledger wakes every participant still waiting on events.
        self.consortium.run_task(
            task_id, states, on_round=finish, timeout=WAIT_SECONDS, on_stop=self.ledger.close
        )
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


