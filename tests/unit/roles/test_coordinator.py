"""The coordinator's round handling on the in-memory ledger, with the ledger's clock in hand."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from support.identities import make_identity
from support.keys import SAFE_2048_P, SAFE_2048_Q

from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.vectors import encrypt_update
from fedledger.learning.models import parameter_count
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger, ManualClock
from fedledger.protocol.ciphervec import EncodingSpec
from fedledger.protocol.popk import ProofContext
from fedledger.roles.coordinator import Coordinator, TaskPlan
from fedledger.roles.ledger_io import query, register_party

ROUND_SECONDS = 300  # the shortest round the default 60 s time window allows
PLAN = TaskPlan(model="mlp32", rounds=2, threshold=2, round_seconds=ROUND_SECONDS)


class Consortium:
    """A coordinator and three registered trainers on one in-memory ledger."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.ledger = InMemoryLedger(clock=self.clock)
        self.coordinator_contract = self.ledger.contract(make_identity("Org0MSP", "coordinator"))
        self.members: list[InMemoryContract] = []
        self.parties: list[dict[str, Any]] = []
        register_party(self.coordinator_contract, ["coordinator"], self._kx())
        for index in (1, 2, 3):
            contract = self.ledger.contract(make_identity(f"Org{index}MSP", "trainer"))
            party = register_party(contract, ["trainer"], self._kx())
            self.members.append(contract)
            self.parties.append({**party, "samples": 100 * index})
        self.coordinator = Coordinator(self.coordinator_contract, clock=lambda: self.clock() / 1e9)
        public = PublicKey(SAFE_2048_P * SAFE_2048_Q)
        self.keypair = (public, PrivateKey(public, SAFE_2048_P, SAFE_2048_Q))
        initial = np.zeros(parameter_count(PLAN.model))
        self.task_id = self.coordinator.propose_task(PLAN, self.parties, initial, self.keypair)
        for contract in self.members:
            contract.submit("ApproveTask", self.task_id)

    @staticmethod
    def _kx() -> str:
        return base64.b64encode(public_key_bytes(generate_private_key())).decode()

    def submit_updates(self, number: int) -> None:
        public = self.keypair[0]
        task = query(self.coordinator_contract, "GetTask", self.task_id)
        params = EncodingParams.from_spec(EncodingSpec.from_dict(task["encoding"]))
        for contract, party in zip(self.members, self.parties, strict=True):
            values = [0.001] * task["value_count"]
            context = ProofContext(self.task_id, number, party["id"], public.fingerprint)
            vector, proof = encrypt_update(values, public, params, RandomnessPool(public), context)
            request = {
                "vector": vector.to_base64(),
                "samples": party["samples"],
                "proof": proof.to_base64(),
            }
            contract.submit("SubmitUpdate", self.task_id, str(number), json.dumps(request))


@pytest.fixture
def consortium() -> Consortium:
    return Consortium()


def test_a_round_without_the_quorum_at_its_deadline_is_failed_not_closed(
    consortium: Consortium,
) -> None:
    coordinator = consortium.coordinator
    coordinator.open_round(consortium.task_id, 1)
    consortium.clock.advance(ROUND_SECONDS + 1)

    record = coordinator.close_when_submitted(consortium.task_id, 1, timeout=5)

    assert record["status"] == "failed"
    assert "fewer than the quorum 3" in record["reason"]
    # The task goes on: round 2 may open from the initial weights.
    assert coordinator.open_round(consortium.task_id, 2)["base_round"] == 0


def test_a_closed_round_left_undecided_past_its_decision_deadline_is_failed(
    consortium: Consortium,
) -> None:
    coordinator = consortium.coordinator
    coordinator.open_round(consortium.task_id, 1)
    consortium.submit_updates(1)
    closed = coordinator.close_when_submitted(consortium.task_id, 1, timeout=5)
    assert closed["status"] == "closed"
    consortium.clock.advance(2 * ROUND_SECONDS + 1)  # no decryption shares ever came

    record = coordinator.wait_decided(consortium.task_id, 1, timeout=5)

    assert record["status"] == "failed"
    assert "decryption shares" in record["reason"]


def test_a_round_where_everyone_submitted_is_closed_before_its_deadline(
    consortium: Consortium,
) -> None:
    coordinator = consortium.coordinator
    coordinator.open_round(consortium.task_id, 1)
    consortium.submit_updates(1)

    record = coordinator.close_when_submitted(consortium.task_id, 1, timeout=5)

    assert record["status"] == "closed"
    assert record["aggregate"]["total_samples"] == 600
    assert len(record["aggregate"]["contributors"]) == 3
