"""Crash faults on a running local network, and the waits that say it has recovered.

A fault is a SIGKILL of one node's process group: no shutdown, as a crash or a power cut would
leave it. Recovery is the restart ``fedledger network up`` performs (LocalNetwork.restart): the
same command and environment, on the node's own data, so a peer or an orderer catches up from
the others. The waits poll the nodes' own reports (Raft metrics, qscc), never sleep blindly.

The fault tests (tests/integration/test_faults.py) run a workload of advertisement writes through
each fault. To cause the same faults during a training round, call these from the test that
drives the round, e.g. once round 2 is open::

    leader = faults.raft_leader(network)          # or a peer / chaincode server name
    faults.kill(network, leader)
    ...                                           # let the round go on
    faults.restart(network, leader)
    faults.wait_orderer_caught_up(network, leader)
    faults.wait_peers_consistent(network)
    assert consistency.invalid_on_peers(profile, orgs, acknowledged_tx_ids) == {}

``crashed(network, name)`` wraps kill and restart around a block.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fedledger.errors import NetworkError
from fedledger.network import consistency, processes, raft
from fedledger.network.consistency import PeerLedger
from fedledger.network.local import LocalNetwork
from fedledger.network.processes import NodeProcess
from fedledger.network.raft import RaftState

__all__ = [
    "crashed",
    "kill",
    "raft_leader",
    "raft_states",
    "recorded",
    "restart",
    "wait_for_raft_leader",
    "wait_orderer_caught_up",
    "wait_peers_consistent",
]

POLL_SECONDS = 0.25


def recorded(network: LocalNetwork, name: str) -> NodeProcess:
    """The process record of node ``name``; NetworkError when the network has none."""
    for node in processes.load(network.layout.processes_file):
        if node.name == name:
            return node
    raise NetworkError(f"{name} is not a recorded node of the network in {network.layout.root}")


def kill(network: LocalNetwork, name: str) -> NodeProcess:
    """SIGKILL node ``name`` and wait until it is gone; return its (old) record."""
    node = recorded(network, name)
    processes.kill(node)
    return node


def restart(network: LocalNetwork, name: str) -> NodeProcess:
    """Start the killed node ``name`` again, as ``up`` would; return its new record once it
    serves (healthy, listening). Raises NetworkError as LocalNetwork.restart."""
    return network.restart(name)


@contextmanager
def crashed(network: LocalNetwork, name: str) -> Iterator[NodeProcess]:
    """Kill ``name`` for the duration of the block, then restart it (also when the block raises)."""
    node = kill(network, name)
    try:
        yield node
    finally:
        restart(network, name)


def raft_states(network: LocalNetwork) -> dict[str, RaftState | None]:
    """Every orderer's Raft state on the channel (None for one that does not answer)."""
    topo = network.topo
    return {
        o.name: raft.read_raft_state(o.host, o.operations_port, topo.channel) for o in topo.orderers
    }


def raft_leader(network: LocalNetwork) -> str | None:
    """The orderer that leads the channel, or None while there is no single leader."""
    leaders = [name for name, state in raft_states(network).items() if state and state.is_leader]
    return leaders[0] if len(leaders) == 1 else None


def wait_for_raft_leader(
    network: LocalNetwork, *, excluding: Iterable[str] = (), timeout: float = 60.0
) -> str:
    """Wait until one orderer not in ``excluding`` leads; return its name.

    Raises NetworkError after ``timeout`` seconds naming each orderer's last state.
    """
    excluded = set(excluding)
    deadline = time.monotonic() + timeout
    while True:
        leader = raft_leader(network)
        if leader is not None and leader not in excluded:
            return leader
        if time.monotonic() > deadline:
            raise NetworkError(
                f"no Raft leader outside {sorted(excluded)} within {timeout:.0f}s: "
                f"{raft_states(network)}"
            )
        time.sleep(POLL_SECONDS)


def wait_orderer_caught_up(network: LocalNetwork, name: str, *, timeout: float = 60.0) -> int:
    """Wait until orderer ``name`` holds as many blocks as the leader had when the wait began;
    return its height. Raises NetworkError after ``timeout`` seconds."""
    target = raft_states(network)[wait_for_raft_leader(network, timeout=timeout)]
    o = network.topo.orderer_node(name)
    deadline = time.monotonic() + timeout
    while True:
        state = raft.read_raft_state(o.host, o.operations_port, network.topo.channel)
        if state is not None and target is not None and state.height >= target.height:
            return state.height
        if time.monotonic() > deadline:
            raise NetworkError(
                f"{name} did not catch up with the leader (height {target and target.height})"
                f" within {timeout:.0f}s; it reports {state}"
            )
        time.sleep(POLL_SECONDS)


def wait_peers_consistent(
    network: LocalNetwork, *, at_least: int = 0, timeout: float = 60.0
) -> list[PeerLedger]:
    """Wait until every org's peer holds the same chain (one height, one last block hash).

    Returns each peer's ledger; raises NetworkError on a fork or after ``timeout`` seconds.
    """
    orgs = [org.name for org in network.topo.orgs]
    return consistency.wait_until_consistent(
        network.layout.profile_file, orgs, timeout=timeout, at_least=at_least
    )
