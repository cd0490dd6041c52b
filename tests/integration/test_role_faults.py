"""Crashes during a training task on the real network: whatever dies is restarted, the task ends.

Each test runs a 3-participant, 3-round `mlp32` task with every role in its own process
(`fedledger participant run` per org, `fedledger coordinator run`), SIGKILLs something during
round 2 — a participant, the coordinator, the Raft leader, a peer, a chaincode server — and
starts it again (a participant with no flags at all, so it resumes its saved run), and ends with
the same checks: the task finishes with every round decided (the round of the
fault may fail cleanly), the restarted role ends on the model the ledger accepted, whatever a
participant reported as contributed or decrypted is on the ledger, and every peer holds the same
chain. About a minute and a half each on 2 cores.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.keys import SAFE_2048_P, SAFE_2048_Q
from support.raw_calls import query

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.learning.models import initial_weights
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.network import faults
from fedledger.network.local import LocalNetwork
from fedledger.protocol.round_records import RoundView
from fedledger.roles.ledger_io import get_round, get_task, register_party
from fedledger.roles.training.coordinator import Coordinator, TaskPlan
from fedledger.roles.training.decryptors import chosen_decryptors
from fedledger.runner.events import (
    COORDINATOR_EVENTS,
    PARTICIPANT_EVENTS,
    Finished,
    Joined,
    ParticipantRound,
    Ready,
    Started,
)
from fedledger.runner.processes import RoleProcess

pytestmark = [pytest.mark.fabric, pytest.mark.faults, pytest.mark.slow]

ROUNDS = 3
ORGS = ("Org1", "Org2", "Org3")
START_SECONDS = 240.0  # three processes loading TensorFlow on a busy 2-core machine
TASK_SECONDS = 420.0


@dataclass
class Training:
    """A task whose roles run as processes, and a client of the coordinator's to read the ledger."""

    network: LocalNetwork
    task: str
    contract: GatewayContract
    coordinator: RoleProcess
    participants: dict[str, RoleProcess]
    parties: dict[str, str]  # org -> party id

    def round(self, number: int) -> RoundView | None:
        return get_round(self.contract, self.task, number)

    def wait_round(self, number: int, ready: Callable[[RoundView], bool], what: str) -> RoundView:
        deadline = time.monotonic() + TASK_SECONDS
        while time.monotonic() < deadline:
            view = self.round(number)
            if view is not None and ready(view):
                return view
            time.sleep(0.05)
        raise AssertionError(f"round {number}: {what} did not happen")


def _kx_public() -> str:
    return base64.b64encode(public_key_bytes(generate_private_key())).decode()


def _keypair() -> tuple[PublicKey, PrivateKey]:
    public = PublicKey(SAFE_2048_P * SAFE_2048_Q)
    return public, PrivateKey(public, SAFE_2048_P, SAFE_2048_Q)


def _start(network: LocalNetwork, logs: Path, user: str, coordinator_user: str) -> Training:
    """Start the participants (``user`` of each org), propose the task, start the coordinator."""
    state = str(network.layout.profile_file.parent)
    contract = connect(network.layout.profile_file, org="Org1", user=coordinator_user)
    coordinator_id = register_party(contract, ["coordinator"], _kx_public())["id"]
    participants = {
        org: RoleProcess(
            f"participant-{org}",
            ["participant", "run", "--json", "--state", state, "--org", org, "--user", user,
             "--index", str(index), "--participants", str(len(ORGS)),
             "--coordinator", coordinator_id],
            logs,
            PARTICIPANT_EVENTS,
        ).start()
        for index, org in enumerate(ORGS, start=1)
    }  # fmt: skip
    ready = {org: p.wait_for(Ready, START_SECONDS) for org, p in participants.items()}
    records = [
        {**query(contract, "GetParty", ready[org].party), "samples": ready[org].samples}
        for org in ORGS
    ]
    plan = TaskPlan(model="mlp32", rounds=ROUNDS, threshold=2)
    task = Coordinator(contract).propose_task(
        plan, records, initial_weights("mlp32", seed=0), _keypair()
    )
    for process in participants.values():
        assert process.wait_for(Joined, START_SECONDS).task == task
    coordinator = RoleProcess(
        "coordinator",
        ["coordinator", "run", "--json", "--state", state, "--org", "Org1", "--user",
         coordinator_user, "--task", task],
        logs,
        COORDINATOR_EVENTS,
    ).start()  # fmt: skip
    coordinator.wait_for(Started, START_SECONDS)
    parties = {org: ready[org].party for org in ORGS}
    return Training(network, task, contract, coordinator, participants, parties)


@pytest.fixture
def training_of(
    fabric_network: LocalNetwork, tmp_path: Path
) -> Iterator[Callable[[str, str], Training]]:
    started: list[Training] = []

    def start(user: str, coordinator_user: str) -> Training:
        started.append(_start(fabric_network, tmp_path / "logs", user, coordinator_user))
        return started[-1]

    yield start
    for training in started:
        for process in [training.coordinator, *training.participants.values()]:
            process.stop()
        training.contract.close()


def _check_finished(training: Training, faulty_round: int) -> None:
    """The task ended; rounds decided; reports match the ledger; peers hold one chain."""
    processes = [training.coordinator, *training.participants.values()]
    for process in processes:
        process.wait_for(Finished, TASK_SECONDS)
        assert process.exit_code(30) == 0, process.log_tail()
    assert get_task(training.contract, training.task).status == "finished"
    views = {n: training.round(n) for n in range(1, ROUNDS + 1)}
    for number, view in views.items():
        assert view is not None
        allowed = {"accepted", "rejected"} | ({"failed"} if number == faulty_round else set())
        assert view.round.status in allowed, (number, view.round.status, view.round.reason)
    accepted = [v for v in views.values() if v is not None and v.round.status == "accepted"]
    final = accepted[-1].round.result.weights_hash if accepted else None  # type: ignore[union-attr]
    for org, process in training.participants.items():
        party = training.parties[org]
        lines = [line for line in process.seen if isinstance(line, ParticipantRound)]
        for line in lines:
            view = views[line.round]
            assert view is not None
            if line.contributed and view.round.aggregate is not None:
                assert party in view.round.aggregate.contributors, (org, line.round)
            if line.decrypted:
                assert party in view.share_parties, (org, line.round)
        last = lines[-1]
        assert last.round == ROUNDS
        if final is not None and views[ROUNDS].round.status == "accepted":  # type: ignore[union-attr]
            assert last.weights_hash == final, org
    faults.wait_peers_consistent(training.network)


def test_a_participant_killed_between_its_update_and_its_share_rejoins_and_the_task_ends(
    training_of: Callable[[str, str], Training],
) -> None:
    training = training_of("User13", "User18")
    # The victim is a chosen decryptor of round 2, so the round needs its share.
    victim_party = chosen_decryptors(sorted(training.parties.values()), 2, 2)[0]
    victim = next(org for org, party in training.parties.items() if party == victim_party)
    process = training.participants[victim]

    training.wait_round(2, lambda v: victim_party in v.submitters, "the victim's update")
    process.kill()
    view = training.round(2)
    assert view is not None and victim_party not in view.share_parties
    process.start(["participant", "run", "--json", "--org", victim, "--user", "User13",
                   "--state", str(training.network.layout.profile_file.parent)])  # fmt: skip
    rejoined = process.wait_for(Joined, START_SECONDS)

    assert rejoined.task == training.task
    if training.round(1).round.status == "accepted":  # type: ignore[union-attr]
        assert rejoined.restored_rounds == [1]  # its checkpoint, confirmed by the ledger
    _check_finished(training, faulty_round=2)


def test_a_coordinator_killed_in_round_two_resumes_the_task_from_the_ledger(
    training_of: Callable[[str, str], Training],
) -> None:
    training = training_of("User14", "User19")

    training.wait_round(2, lambda v: True, "opening")
    training.coordinator.kill()
    # Without a coordinator nobody closes the round: every update arrives, the round stays open.
    view = training.wait_round(2, lambda v: len(v.submitters) == len(ORGS), "every update")
    stalled = view.round.status
    training.coordinator.start()

    assert stalled in ("open", "closed")
    _check_finished(training, faulty_round=2)


def _node_outage(network: LocalNetwork, name: str, seconds: float) -> None:
    faults.kill(network, name)
    time.sleep(seconds)
    faults.restart(network, name)


@pytest.mark.parametrize("node", ["raft leader", "Org2 peer", "Org3 chaincode server"])
def test_a_node_killed_in_round_two_is_restarted_and_the_task_ends(
    training_of: Callable[[str, str], Training], node: str, fault_seconds: float
) -> None:
    users = {"raft leader": "User15", "Org2 peer": "User16", "Org3 chaincode server": "User17"}
    training = training_of(users[node], "User20")  # User20 of Org1 proposes and coordinates
    network = training.network
    if node == "raft leader":
        name = faults.wait_for_raft_leader(network)
    elif node == "Org2 peer":
        name = network.topo.org("Org2").peer_name
    else:
        name = network.topo.org("Org3").ccserver_name

    training.wait_round(2, lambda v: True, "opening")
    _node_outage(network, name, 2 * fault_seconds)

    if node == "raft leader":
        faults.wait_orderer_caught_up(network, name, timeout=TASK_SECONDS)
    _check_finished(training, faulty_round=2)
