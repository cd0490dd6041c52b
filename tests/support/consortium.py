"""An in-memory consortium with real keys for role tests: a trusted coordinator, three
participants with their own X25519 keys and tiny local data, and a registered stranger.

The task key is the shared 2048-bit safe-prime test key (no key search), dealt by the real
ceremony and sealed to the participants' registered keys. The model is a 784-1-10 MLP registered
under the name ``tiny`` for the duration of the consortium (use it as a context manager), so a
round has eight ciphertexts and decrypts in well under a second.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import numpy as np
import pytest

from fedledger.consortium import runner
from fedledger.consortium.runner import Member, RoleOptions
from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.vectors import encrypt_update
from fedledger.learning import models
from fedledger.learning.datasets import Dataset
from fedledger.learning.local_data import LocalData
from fedledger.learning.models import ModelSpec, parameter_count
from fedledger.ledger.interface import Contract
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger, ManualClock
from fedledger.protocol.popk import ProofContext
from fedledger.roles.ledger_io import register_party
from fedledger.roles.training.coordinator import Coordinator, RoundOutcome, TaskPlan
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant import Participant, RoundReport, TaskState
from fedledger.roles.training.participant_config import Pacing
from support.identities import make_identity
from support.keys import SAFE_2048_P, SAFE_2048_Q

TINY = "tiny"
SAMPLES = (40, 60, 80)
# The data are random, so a round's accuracy against its base is noise: the plan accepts every
# round (the acceptance rule itself is tested on the chaincode, tests/unit/chaincode).
PLAN = TaskPlan(model=TINY, rounds=2, threshold=2, round_seconds=600, tolerance_bp=10_000)


def keypair() -> tuple[PublicKey, PrivateKey]:
    public = PublicKey(SAFE_2048_P * SAFE_2048_Q)
    return public, PrivateKey(public, SAFE_2048_P, SAFE_2048_Q)


def _data(count: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((count, 784), dtype=np.float32)
    return Dataset(x, rng.integers(0, 10, size=count).astype(np.int64))


class Consortium:
    """The consortium on one in-memory ledger (module docstring), run by the library's runner."""

    def __init__(self, decryptors: DecryptorPolicy | None = None) -> None:
        self.decryptors = decryptors or DecryptorPolicy(standby_seconds=5.0)
        self._patch = pytest.MonkeyPatch()
        self._patch.setitem(models.MODELS, TINY, ModelSpec(TINY, hidden=1))
        self.clock = ManualClock()
        self.ledger = InMemoryLedger(clock=self.clock)
        self.runner = runner.Consortium(
            self._contract_for,
            [LocalData(_data(n, i), _data(20, 100 + i), None) for i, n in enumerate(SAMPLES, 1)],
            make_role=RoleOptions(
                decryptors=self.decryptors, pacing=Pacing(fallback_seconds=0.2, clock=self.now)
            ),
            make_coordinator=lambda c: Coordinator(c, clock=self.now, fallback_seconds=0.2),
        )
        self.coordinator_contract = self.runner.coordinator_contract
        self.coordinator_id = self.runner.coordinator_id
        self.coordinator = self.runner.coordinator
        self.policy = self.runner.policy
        self.members = self.runner.members
        self.stranger = self.ledger.contract(make_identity("Org9MSP", "stranger"))
        register_party(self.stranger, ["trainer", "coordinator"], self._kx()[1])

    def _contract_for(self, name: str) -> Contract:
        if name == "coordinator":
            return self.ledger.contract(make_identity("Org0MSP", "coordinator"))
        return self.ledger.contract(make_identity(f"{name}MSP", f"trainer{name[3:]}"))

    @staticmethod
    def _kx() -> tuple[bytes, str]:
        key = generate_private_key()
        return key, base64.b64encode(public_key_bytes(key)).decode()

    def now(self) -> float:
        """The ledger's clock in seconds, for the coordinator's deadlines."""
        return self.clock() / 1e9

    @property
    def parties(self) -> list[dict[str, Any]]:
        return [m.party for m in self.members]

    def propose(self, plan: TaskPlan = PLAN, by: InMemoryContract | None = None) -> str:
        """Propose a task over the test key (by the trusted coordinator unless ``by``)."""
        proposer = self.coordinator if by is None else Coordinator(by, clock=self.now)
        initial = np.zeros(parameter_count(plan.model))
        return proposer.propose_task(plan, self.parties, initial, keypair())

    def submit_update(self, member: Member, state: TaskState, number: int, value: float) -> None:
        """Submit a proven update of ``value`` everywhere for ``member`` (no training)."""
        task = state.task
        context = ProofContext(task.id, number, member.party["id"], task.public_key.fingerprint)
        vector, proof = encrypt_update(
            [value] * task.value_count, state.public_key, state.encoding, state.pool, context
        )
        request = {
            "vector": vector.to_base64(),
            "samples": task.samples_of(member.party["id"]),
            "proof": proof.to_base64(),
        }
        member.contract.submit("SubmitUpdate", task.id, str(number), json.dumps(request))

    def play_round(
        self, task_id: str, states: Sequence[TaskState], number: int
    ) -> tuple[RoundOutcome, list[RoundReport]]:
        """Play round ``number`` with the real roles (:meth:`runner.Consortium.play_round`)."""
        return self.runner.play_round(task_id, states, number)

    def run_task(
        self, task: str, states: Sequence[TaskState], roles: Sequence[Participant] | None = None
    ) -> runner.TaskRun:
        """Run ``task`` to its end from ``states`` (:meth:`runner.Consortium.run_task`)."""
        return self.runner.run_task(task, states, timeout=120, roles=roles)

    def __enter__(self) -> Consortium:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._patch.undo()


def run_whole_task(
    consortium: Consortium, task: str
) -> tuple[list[RoundOutcome], list[list[RoundReport]], list[TaskState]]:
    """Every member joins ``task`` and plays it to its end with the real roles. Returns the
    outcomes, each member's reports and the final states."""
    states = consortium.runner.join(task, timeout=1)
    run = consortium.run_task(task, states)
    return run.outcomes, run.reports, states
