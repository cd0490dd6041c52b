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
from typing import Any

from fedledger.errors import NetworkError
from fedledger.network import ccaas, deploy, material, processes
from fedledger.network.layout import Layout
from fedledger.network.nodes import (
    ccserver_argv,
    ccserver_env,
    orderer_env,
    peer_env,
    prepare_config,
)
from fedledger.network.processes import NodeProcess
from fedledger.network.readiness import wait_until_endorsable
from fedledger.network.topology import Topology, make_topology
from fedledger.protocol.tokens import DEFAULT_MINTER_MSP
from fedledger.protocol.training import DEFAULT_TIME_WINDOW_SECONDS

Progress = Callable[[str], None]
CHAINCODE_LABEL = "fedledger_1.0"
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
        base_port: int | None = None,
        time_window_seconds: int | None = None,
        minter_msp: str | None = None,
    ) -> LocalNetwork:
        """The network in ``root``: its recorded topology if it has one, else a new one.

        Raises NetworkError when ``orgs``/``base_port``/``time_window_seconds``/``minter_msp``
        contradict an existing network's.
        """
        layout = Layout(root.resolve(), bin_dir.resolve())
        saved = _read_topology(layout.topology_file)
        asked = {
            "orgs": orgs,
            "base_port": base_port,
            "time_window": time_window_seconds,
            "minter_msp": minter_msp,
        }
        if saved is not None:
            if any(value is not None and value != saved[key] for key, value in asked.items()):
                raise NetworkError(
                    f"the network in {root} has {saved['orgs']} organisations on base port "
                    f"{saved['base_port']} with a {saved['time_window']}s time window and minter "
                    f"{saved['minter_msp']}; run 'fedledger network down --purge' first to make "
                    "a different one"
                )
            topo = make_topology(
                saved["orgs"],
                base_port=saved["base_port"],
                time_window_seconds=saved["time_window"],
                minter_msp=saved["minter_msp"],
            )
        else:
            topo = make_topology(
                orgs or 3,
                base_port=base_port or 7050,
                time_window_seconds=time_window_seconds or DEFAULT_TIME_WINDOW_SECONDS,
                minter_msp=minter_msp or DEFAULT_MINTER_MSP,
            )
        return cls(topo, layout, builder_dir.resolve())

    # ---------------------------------------------------------------- up
    def up(self, progress: Progress = _silent) -> bool:
        """Start the network and deploy the chaincode; return False if it was already running.

        Raises NetworkError naming the missing binary, the taken port or the node that failed.
        """
        running = processes.load(self.layout.processes_file)
        if running:
            dead = [n.name for n in running if not processes.alive(n)]
            if not dead:
                return False
            raise NetworkError(
                "the network is partly down (not running: " + ", ".join(dead) + ");"
                " run 'fedledger network down' and then 'up' again"
            )
        for name in ("peer", "orderer", "osnadmin", "configtxgen", "cryptogen"):
            self.layout.binary(name)
        processes.check_ports_free(self.topo.orderer.host, self.topo.ports())
        self.layout.root.mkdir(parents=True, exist_ok=True)
        _write_topology(self.layout.topology_file, self.topo)
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
        o = self.topo.orderer
        progress(f"starting {o.name}")
        node = self._record(
            started,
            processes.start(
                o.name,
                "orderer",
                [str(self.layout.binary("orderer"))],
                orderer_env(self.topo, self.layout),
                self.layout.log(o.name),
                ports={"listen": o.port, "admin": o.admin_port, "operations": o.operations_port},
                health_url=f"http://{o.host}:{o.operations_port}/healthz",
            ),
        )
        waiting = [node]
        for org in self.topo.orgs:
            progress(f"starting {org.peer_name}")
            waiting.append(
                self._record(
                    started,
                    processes.start(
                        org.peer_name,
                        "peer",
                        [str(self.layout.binary("peer")), "node", "start"],
                        peer_env(org, self.layout, self.topo.time_window_seconds),
                        self.layout.log(org.peer_name),
                        ports={
                            "listen": org.peer_port,
                            "chaincode": org.chaincode_port,
                            "operations": org.operations_port,
                        },
                        health_url=f"http://{org.host}:{org.operations_port}/healthz",
                    ),
                )
            )
        for node in waiting:
            processes.wait_healthy(node, START_TIMEOUT)

    def _join_channel(self, block: Path, progress: Progress) -> None:
        marker = self.layout.root / ".joined"
        joined = set(marker.read_text().split()) if marker.is_file() else set()
        if self.topo.orderer.name not in joined:
            progress(f"joining {self.topo.orderer.name} to channel {self.topo.channel}")
            deploy.join_orderer(self.topo, self.layout, block)
            joined.add(self.topo.orderer.name)
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
            server = self._record(
                started,
                processes.start(
                    org.ccserver_name,
                    "ccserver",
                    ccserver_argv(),
                    ccserver_env(
                        org,
                        self.layout,
                        package_id,
                        self.topo.time_window_seconds,
                        self.topo.minter_msp,
                    ),
                    self.layout.log(org.ccserver_name),
                    ports={"listen": org.ccserver_port},
                ),
            )
            processes.wait_listening(server, org.host, org.ccserver_port, START_TIMEOUT)
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
                    for user in ("Admin", "User1", "User2")
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

    # ---------------------------------------------------------------- status / down
    def status(self, *, heights: bool = True) -> list[NodeStatus]:
        """Every recorded node with pid, ports, liveness, health and (peers) block height."""
        result = []
        for node in processes.load(self.layout.processes_file):
            is_alive = processes.alive(node)
            height = None
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


def _write_topology(path: Path, topo: Topology) -> None:
    saved = {
        "orgs": len(topo.orgs),
        "base_port": topo.orderer.port,
        "time_window": topo.time_window_seconds,
        "minter_msp": topo.minter_msp,
    }
    path.write_text(json.dumps(saved))


def _read_topology(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        window = data.get("time_window", DEFAULT_TIME_WINDOW_SECONDS)
        return {
            "orgs": int(data["orgs"]),
            "base_port": int(data["base_port"]),
            "time_window": int(window),
            "minter_msp": str(data.get("minter_msp", DEFAULT_MINTER_MSP)),
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(
            f"{path} is damaged ({exc}); run 'fedledger network down --purge'"
        ) from exc
