"""A whole consortium in one process: the real coordinator and N real participants.

Nothing of the round is re-implemented here: the coordinator is
:class:`~fedledger.roles.training.coordinator.Coordinator` and each participant a
:class:`~fedledger.roles.training.participant.Participant`, each over a contract bound to its
own identity, each participant in a thread of its own as separate processes would be. Two seams
make it the one runner of the simulation, the demos' in-process parts and the tests:

- how a contract is made for an identity (``contract_for``: ``"coordinator"``, ``"Org1"``, … →
  a contract of the in-memory ledger, a Gateway connection to a Fabric network, …);
- whose data each participant trains on (one
  :class:`~fedledger.roles.training.participant_config.LocalData` per participant), and how its
  role is configured (``make_role``: decryptors, clocks, checkpoints, …).

The story: :meth:`Consortium.propose` a task, :meth:`Consortium.join` it, then
:meth:`Consortium.run_task` (every round; ``on_round`` sees each round's coordinator outcome
with the participants' reports) or :meth:`Consortium.play_round` (one round).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.errors import FedLedgerError
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig
from fedledger.ledger.events import EventFeed
from fedledger.ledger.interface import Contract
from fedledger.roles.ledger_io import Watch, get_task, register_party, task_events
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.coordinator import Coordinator, RoundOutcome, TaskPlan
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant import Participant, RoundReport, TaskState
from fedledger.roles.training.participant_config import LocalData, LocalTraining, Pacing
from fedledger.roles.training.task_policy import TaskPolicy

__all__ = ["Consortium", "Member", "RoleMaker", "RoleOptions", "TaskRun"]

# A member's name ("coordinator", "Org1", "Org2", …) -> a contract bound to its identity.
ContractFor = Callable[[str], Contract]
RoundCallback = Callable[[RoundOutcome, list[RoundReport]], None]


class RoleMaker(Protocol):
    """Makes participant ``index``'s role from its contract, party id, key, data and policy."""

    def __call__(
        self,
        index: int,
        contract: Contract,
        party_id: str,
        kx_key: bytes,
        data: LocalData,
        policy: TaskPolicy,
    ) -> Participant: ...


@dataclass(frozen=True)
class RoleOptions:
    """How every participant's role is configured: its training (each participant's seed is
    ``seed`` plus its index; ``recorder``, index -> ``on_update``, lets a caller see each
    plaintext update), its decryptor policy and its pacing on the ledger."""

    seed: int = 0
    config: TrainingConfig = DEFAULT_TRAINING
    train_ahead: bool = True
    recorder: Callable[[int], Callable[[int, FloatVector], None]] | None = None
    decryptors: DecryptorPolicy | None = None
    pacing: Pacing | None = None

    def __call__(
        self,
        index: int,
        contract: Contract,
        party_id: str,
        kx_key: bytes,
        data: LocalData,
        policy: TaskPolicy,
    ) -> Participant:
        """Participant ``index``'s role with these options."""
        training = LocalTraining(
            self.config,
            seed=self.seed + index,
            ahead=self.train_ahead,
            on_update=None if self.recorder is None else self.recorder(index),
        )
        return Participant(
            contract,
            party_id,
            kx_key,
            data,
            policy=policy,
            training=training,
            decryptors=self.decryptors,
            pacing=self.pacing,
        )


@dataclass
class Member:
    """A participant: its name, contract, party record (with ``samples``), key and role."""

    name: str
    contract: Contract
    party: dict[str, Any]
    kx_key: bytes
    role: Participant


@dataclass
class TaskRun:
    """What a whole task by the roles produced: the coordinator's outcomes, each member's
    reports (member order, one per round it played) and each member's final state."""

    outcomes: list[RoundOutcome]
    reports: list[list[RoundReport]]
    states: list[TaskState] = field(default_factory=list)


def kx_public(key: bytes) -> str:
    """The base64 X25519 public key a party registers."""
    return base64.b64encode(public_key_bytes(key)).decode()


class Consortium:
    """A coordinator and one participant per item of ``data`` (module docstring)."""

    def __init__(
        self,
        contract_for: ContractFor,
        data: Sequence[LocalData],
        *,
        make_role: RoleMaker = RoleOptions(),
        make_coordinator: Callable[[Contract], Coordinator] = Coordinator,
    ) -> None:
        """Register the coordinator and every participant (nothing is proposed yet).

        Raises ContractError when the ledger refuses a registration.
        """
        self.coordinator_contract = contract_for("coordinator")
        coordinator = register_party(
            self.coordinator_contract, ["coordinator"], kx_public(generate_private_key())
        )
        self.coordinator_id: str = coordinator["id"]
        self.coordinator = make_coordinator(self.coordinator_contract)
        self.policy = TaskPolicy.trusting([self.coordinator_id])
        self.members: list[Member] = []
        for index, local in enumerate(data, start=1):
            name = f"Org{index}"
            contract = contract_for(name)
            key = generate_private_key()
            party = register_party(contract, ["trainer"], kx_public(key))
            samples = len(local.train)
            policy = replace(self.policy, expected_samples=samples)
            role = make_role(index, contract, party["id"], key, local, policy)
            self.members.append(Member(name, contract, {**party, "samples": samples}, key, role))

    @property
    def parties(self) -> list[dict[str, Any]]:
        """The participants' party records with their sample counts, as a task lists them."""
        return [m.party for m in self.members]

    def propose(
        self, plan: TaskPlan, initial: FloatVector, keypair: tuple[PublicKey, PrivateKey]
    ) -> str:
        """Propose a task of every member under ``keypair`` (dealt to them); return its id."""
        return self.coordinator.propose_task(plan, self.parties, initial, keypair)

    def join(self, task_id: str, timeout: float = 300.0) -> list[TaskState]:
        """Every member joins (approves) the task; return their states in member order."""
        return [member.role.join(task_id, timeout=timeout) for member in self.members]

    def run_task(
        self,
        task_id: str,
        states: Sequence[TaskState],
        *,
        on_round: RoundCallback | None = None,
        timeout: float = 600.0,
        roles: Sequence[Participant] | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> TaskRun:
        """Play every round: the coordinator in this thread, each participant in its own.

        ``on_round`` gets each round's outcome with every member's report as soon as both are
        in; ``roles`` replaces the members' roles (a restarted participant); ``on_stop`` runs
        when the coordinator stops, before the participants are awaited (e.g. closing an
        in-memory ledger wakes those still waiting). Raises what a role raises.
        """
        players = list(roles if roles is not None else [m.role for m in self.members])
        reports = _Reports()
        with ThreadPoolExecutor(len(players), thread_name_prefix="participant") as pool:
            futures: list[Future[list[RoundReport]]] = [
                pool.submit(role.run_task, state, reports.collector(index))
                for index, (role, state) in enumerate(zip(players, states, strict=True), 1)
            ]

            def finish(outcome: RoundOutcome) -> None:
                if on_round is not None:
                    got = reports.wait(outcome.round, len(players), futures, timeout)
                    on_round(outcome, got)

            try:
                outcomes = self.coordinator.run_task(task_id, finish, timeout=timeout)
            finally:
                if on_stop is not None:
                    on_stop()
            played = [future.result(timeout=timeout) for future in futures]
        return TaskRun(outcomes, played, list(states))

    def play_round(
        self, task_id: str, states: Sequence[TaskState], number: int, timeout: float = 120.0
    ) -> tuple[RoundOutcome, list[RoundReport]]:
        """Play round ``number`` only: return the coordinator's outcome and the members' reports.

        A participant's exception is raised here.
        """
        task = get_task(self.coordinator_contract, task_id)
        with ThreadPoolExecutor(max_workers=len(self.members)) as pool:
            futures = [
                pool.submit(member.role.run_round, state, number)
                for member, state in zip(self.members, states, strict=True)
            ]
            with EventFeed(self.coordinator_contract, accept=task_events(task_id)) as feed:
                outcome = self.coordinator.run_round(
                    task, number, Watch(feed, fallback_seconds=0.2)
                )
            reports = [future.result(timeout=timeout) for future in futures]
        return outcome, reports


class _Reports:
    """The participants' round reports as they come in, from their threads."""

    def __init__(self) -> None:
        self._reports: dict[int, dict[int, RoundReport]] = {}
        self._changed = threading.Condition()

    def collector(self, index: int) -> Callable[[RoundReport], None]:
        """The ``on_round`` callback of participant ``index``."""

        def collect(report: RoundReport) -> None:
            with self._changed:
                self._reports.setdefault(report.round, {})[index] = report
                self._changed.notify_all()

        return collect

    def wait(
        self, number: int, count: int, futures: Sequence[Future[Any]], timeout: float
    ) -> list[RoundReport]:
        """Round ``number``'s reports in participant order once all ``count`` are in; raises a
        participant's exception if one stopped, FedLedgerError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
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
