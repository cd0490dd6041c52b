"""The local network as one object: bring it up, report its status, take it down.

Every node is an ordinary process whose pid is recorded in the state folder as soon as it
starts, so ``down`` stops exactly the processes ``up`` started, even after a failed ``up``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network import ccaas, deploy, material, processes, raft
from fedledger.network.ccaas import CHAINCODE_LABEL, chaincode_source_digest
from fedledger.network.layout import Layout
from fedledger.network.nodes import node_launch, prepare_config
from fedledger.network.processes import NodeProcess
from fedledger.network.readiness import wait_until_endorsable
from fedledger.network.recorded import read_topology, wanted_topology, write_topology
from fedledger.network.topology import PeerOrg, Topology

Progress = Callable[[str], None]
START_TIMEOUT = 60.0


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class NodeStatus:
    """What ``status`` reports of one node."""

    name: str
    kind: str
    pid: int
    alive: bool
    healthy: bool
    ports: dict[str, int]
    block_height: int | None = None
    memory_bytes: int | None = None
    # Orderers only: whether this Raft node leads the channel (None when it cannot be read).
    raft_leader: bool | None = None


class LocalNetwork:
    """A Fabric network of native processes under ``layout.root``."""

    def __init__(self, topo: Topology, layout: Layout, builder_dir: Path) -> None:
        self.topo = topo
        self.layout = layout
        self.builder_dir = builder_dir

    @classmethod
    def open(
        cls,
        root: Path,
        bin_dir: Path,
        builder_dir: Path,
        *,
        orgs: int | None = None,
        orderers: int | None = None,
        base_port: int | None = None,
        time_window_seconds: int | None = None,
        minter_msp: str | None = None,
    ) -> LocalNetwork:
        """The network in ``root``: its recorded topology if it has one, else a new one.

        Raises NetworkError when ``orgs``/``orderers``/``base_port``/``time_window_seconds``/
        ``minter_msp`` contradict an existing network's.
        """
        layout = Layout(root.resolve(), bin_dir.resolve())
        asked = {
            "orgs": orgs,
            "orderers": orderers,
            "base_port": base_port,
            "time_window": time_window_seconds,
            "minter_msp": minter_msp,
        }
        topo = wanted_topology(root, read_topology(layout.topology_file), asked)
        return cls(topo, layout, builder_dir.resolve())

    # ---------------------------------------------------------------- up
    def up(self, progress: Progress = _silent) -> bool:
        """Start the network and deploy the chaincode; return False if it was already running.

        A partly running network (a node crashed or was killed) gets the nodes that are not
        running restarted (:meth:`recover`), which returns True. Raises NetworkError naming the
        missing binary, the taken port or the node that failed.
        """
        if processes.load(self.layout.processes_file):
            if self.dead_nodes():
                self.recover(progress)
                return True
            return self._serve_current_chaincode(progress)
        for name in ("peer", "orderer", "osnadmin", "configtxgen", "cryptogen"):
            self.layout.binary(name)
        processes.check_ports_free(self.topo.orderer.host, self.topo.ports())
        self.layout.root.mkdir(parents=True, exist_ok=True)
        write_topology(self.layout.topology_file, self.topo)
        progress("generating crypto material and the channel block")
        material.generate_crypto(self.topo, self.layout)
        prepare_config(self.layout, self.builder_dir)
        block = material.generate_channel_block(self.topo, self.layout)
        started: list[NodeProcess] = []
        try:
            self._start_nodes(started, progress)
            self._join_channel(block, progress)
            self._deploy_chaincode(started, progress)
            self._write_profile()
            progress("waiting until every org's gateway can gather MAJORITY endorsements")
            wait_until_endorsable(self.layout.profile_file, [o.name for o in self.topo.orgs])
        except BaseException:
            # A half-started network is worse than none: stop what this call started (the
            # logs stay in the state folder for diagnosis) and let the error through.
            self.down(progress=progress)
            raise
        return True

    def _record(self, started: list[NodeProcess], node: NodeProcess) -> NodeProcess:
        started.append(node)
        processes.save(self.layout.processes_file, started)
        return node

    def _start_nodes(self, started: list[NodeProcess], progress: Progress) -> None:
        names = [o.name for o in self.topo.orderers] + [org.peer_name for org in self.topo.orgs]
        waiting = []
        for name in names:
            progress(f"starting {name}")
            waiting.append(self._record(started, self._launch(name)))
        for node in waiting:
            self._wait_started(node)

    def _launch(self, name: str) -> NodeProcess:
        """Start the node called ``name`` exactly as ``up`` configures it; return its record."""
        spec = node_launch(self.topo, self.layout, name)
        return processes.start(
            spec.name,
            spec.kind,
            spec.argv,
            spec.env,
            self.layout.log(spec.name),
            ports=spec.ports,
            health_url=spec.health_url,
        )

    def _wait_started(self, node: NodeProcess) -> None:
        """Wait until ``node`` serves; raise NetworkError (with its log) if it dies or stalls."""
        if node.kind == "ccserver":  # no health endpoint: it serves once it listens
            org = next(o for o in self.topo.orgs if o.ccserver_name == node.name)
            processes.wait_listening(node, org.host, org.ccserver_port, START_TIMEOUT)
            return
        processes.wait_healthy(node, START_TIMEOUT)
        # /healthz answers a moment before the gRPC listener and the orderer's admin endpoint.
        if node.kind == "orderer":
            o = self.topo.orderer_node(node.name)
            processes.wait_listening(node, o.host, o.port, START_TIMEOUT)
            processes.wait_listening(node, o.host, o.admin_port, START_TIMEOUT)
        else:
            org = next(o for o in self.topo.orgs if o.peer_name == node.name)
            processes.wait_listening(node, org.host, org.peer_port, START_TIMEOUT)

    def _join_channel(self, block: Path, progress: Progress) -> None:
        marker = self.layout.root / ".joined"
        joined = set(marker.read_text().split()) if marker.is_file() else set()
        for o in self.topo.orderers:
            if o.name in joined:
                continue
            progress(f"joining {o.name} to channel {self.topo.channel}")
            deploy.join_orderer(self.topo, self.layout, block, o)
            joined.add(o.name)
            marker.write_text("\n".join(sorted(joined)))
        for org in self.topo.orgs:
            if org.peer_name in joined:
                continue
            progress(f"joining {org.peer_name} to channel {self.topo.channel}")
            deploy.join_peer(org, self.layout, block)
            joined.add(org.peer_name)
            marker.write_text("\n".join(sorted(joined)))

    def _deploy_chaincode(self, started: list[NodeProcess], progress: Progress) -> None:
        package_ids = {}
        for org in self.topo.orgs:
            path, package_id = ccaas.package(org, self.layout, CHAINCODE_LABEL)
            progress(f"installing chaincode on {org.peer_name}")
            deploy.install(org, self.layout, path)
            package_ids[org.name] = package_id
            server = self._record(started, self._launch(org.ccserver_name))
            self._wait_started(server)
        self._source_file.write_text(chaincode_source_digest())
        # A restarted network keeps its ledger: the definition committed before still holds (the
        # peers' lifecycle queries are not reliable until they have caught up, so a marker says).
        committed = self.layout.root / ".chaincode-committed"
        if committed.is_file():
            return
        for org in self.topo.orgs:
            progress(f"approving chaincode for {org.msp_id}")
            deploy.approve(self.topo, org, self.layout, package_ids[org.name], sequence=1)
        progress("committing chaincode definition (endorsement policy MAJORITY)")
        deploy.commit(self.topo, self.layout, sequence=1)
        committed.write_text("1\n")

    # ---------------------------------------------------------------- recovery
    @property
    def _source_file(self) -> Path:
        return self.layout.root / ".chaincode-source"

    def _serve_current_chaincode(self, progress: Progress) -> bool:
        """Restart the chaincode servers if the contract's source changed since they started.

        The servers run this checkout's code, so after an edit (or a ``git pull``) a running
        network would otherwise go on serving the old contract. Returns True if it restarted them.
        """
        current = chaincode_source_digest()
        served = self._source_file.read_text() if self._source_file.is_file() else ""
        if served == current:
            return False
        progress("the chaincode's source changed since its servers started: restarting them")
        servers = [n for n in processes.load(self.layout.processes_file) if n.kind == "ccserver"]
        for node in servers:
            processes.stop(node)
        for node in servers:
            self.restart(node.name)
        wait_until_endorsable(self.layout.profile_file, [o.name for o in self.topo.orgs])
        self._source_file.write_text(current)
        return True

    def dead_nodes(self) -> list[str]:
        """The names of recorded nodes that are not running."""
        return [
            n.name for n in processes.load(self.layout.processes_file) if not processes.alive(n)
        ]

    def restart(self, name: str) -> NodeProcess:
        """Start the recorded node ``name`` again, as ``up`` started it, and wait until it is up.

        Its data (ledger, Raft log) is kept, so a peer or an orderer catches up from the others.
        Returns the new record, also saved in the process record. Raises NetworkError when the
        node is unknown, still running, or does not come up.
        """
        recorded = processes.load(self.layout.processes_file)
        index = next((i for i, n in enumerate(recorded) if n.name == name), None)
        if index is None:
            raise NetworkError(
                f"{name} is not a recorded node of the network in {self.layout.root}"
            )
        if processes.alive(recorded[index]):
            raise NetworkError(f"{name} is still running (pid {recorded[index].pid})")
        node = self._launch(name)
        recorded[index] = node
        processes.save(self.layout.processes_file, recorded)
        self._wait_started(node)
        return node

    def recover(self, progress: Progress = _silent) -> list[str]:
        """Restart every recorded node that is not running; return their names.

        Chaincode servers start after the peers, as ``up`` orders them; returns once every
        org's gateway can gather endorsements again. Raises NetworkError as :meth:`restart`.
        """
        order = {"orderer": 0, "peer": 1, "ccserver": 2}
        dead = [n for n in processes.load(self.layout.processes_file) if not processes.alive(n)]
        for node in sorted(dead, key=lambda n: order.get(n.kind, 3)):
            progress(f"restarting {node.name}")
            self.restart(node.name)
        if dead:
            progress("waiting until every org's gateway can gather MAJORITY endorsements")
            wait_until_endorsable(self.layout.profile_file, [o.name for o in self.topo.orgs])
        return [n.name for n in dead]

    def _write_profile(self) -> None:
        self.layout.profile_file.write_text(json.dumps(self.profile(), indent=2))

    def profile(self) -> dict[str, object]:
        """The connection profile clients read (see fedledger.ledger.profile)."""
        orgs = {}
        for org in self.topo.orgs:
            orgs[org.name] = {
                "msp_id": org.msp_id,
                "domain": org.domain,
                "peer": {
                    "host": org.peer_name,
                    "address": org.peer_address,
                    "tls_ca": str(self.layout.org_tls_ca(org).resolve()),
                },
                "users": {
                    user: str(self.layout.user_msp(org, user).resolve())
                    for user in self._users(org)
                },
            }
        o = self.topo.orderer
        return {
            "channel": self.topo.channel,
            "chaincode": self.topo.chaincode,
            "orgs": orgs,
            "orderer": {
                "host": o.name,
                "address": o.address,
                "tls_ca": str(self.layout.orderer_tls_ca(self.topo).resolve()),
            },
        }

    def _users(self, org: PeerOrg) -> list[str]:
        """The org's users as cryptogen made them (Admin, User1..UserN), from the crypto folder."""
        users = self.layout.org_dir(org) / "users"
        suffix = f"@{org.domain}"
        return sorted(
            p.name.removesuffix(suffix) for p in users.iterdir() if p.name.endswith(suffix)
        )

    # ---------------------------------------------------------------- status / down
    def status(self, *, heights: bool = True) -> list[NodeStatus]:
        """Every recorded node with pid, ports, liveness, health, block height and memory.

        Orderers also say whether they lead the channel's Raft cluster (from their metrics).
        """
        result = []
        for node in processes.load(self.layout.processes_file):
            is_alive = processes.alive(node)
            height, leader = None, None
            if is_alive and node.kind == "orderer":
                o = self.topo.orderer_node(node.name)
                state = raft.read_raft_state(o.host, o.operations_port, self.topo.channel)
                if state is not None:
                    height, leader = state.height, state.is_leader
            if heights and node.kind == "peer" and is_alive:
                org = next(o for o in self.topo.orgs if o.peer_name == node.name)
                height = deploy.block_height(org, self.layout, self.topo.channel)
            result.append(
                NodeStatus(
                    node.name,
                    node.kind,
                    node.pid,
                    is_alive,
                    processes.healthy(node) if is_alive else False,
                    node.ports,
                    height,
                    processes.resident_bytes(node),
                    leader,
                )
            )
        return result

    def down(self, *, purge: bool = False, progress: Progress = _silent) -> list[str]:
        """Stop exactly the recorded processes (chaincode servers first); return their names.

        With ``purge`` also remove the state folder (crypto, ledgers, logs).
        """
        nodes = processes.load(self.layout.processes_file)
        order = {"ccserver": 0, "peer": 1, "orderer": 2}
        stopped = []
        for node in sorted(nodes, key=lambda n: order.get(n.kind, 3)):
            if processes.stop(node):
                progress(f"stopped {node.name} (pid {node.pid})")
                stopped.append(node.name)
        self.layout.processes_file.unlink(missing_ok=True)
        if purge and self.layout.root.exists():
            shutil.rmtree(self.layout.root)
            progress(f"removed {self.layout.root}")
        return stopped


def status_as_dicts(statuses: list[NodeStatus]) -> list[dict[str, object]]:
    """Status records as plain dicts for JSON output."""
    return [asdict(s) for s in statuses]
