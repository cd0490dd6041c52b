"""How each node is configured: Fabric's own sample config, overridden by environment variables."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network import ccaas
from fedledger.network.build import sample_config_dir
from fedledger.network.layout import Layout
from fedledger.network.topology import OrdererNode, PeerOrg, Topology

# core.yaml registers a ccaas builder at a container path; point it at ours instead.
_SAMPLE_BUILDER_PATH = "path: /opt/hyperledger/ccaas_builder"


def prepare_config(layout: Layout, builder_dir: Path) -> Path:
    """Copy the pinned core.yaml/orderer.yaml into the state folder; return FABRIC_CFG_PATH.

    The only edit is the external builder path, which Fabric cannot take from the environment.
    """
    for script in ("detect", "build", "release"):
        if not os.access(builder_dir / "bin" / script, os.X_OK):
            raise NetworkError(
                f"chaincode builder script {builder_dir / 'bin' / script} is missing"
            )
    source = sample_config_dir(layout.bin_dir)
    target = layout.config
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "orderer.yaml", target / "orderer.yaml")
    core = (source / "core.yaml").read_text()
    if _SAMPLE_BUILDER_PATH not in core:
        raise NetworkError("core.yaml of this Fabric release has no ccaas builder entry to point")
    core = core.replace(_SAMPLE_BUILDER_PATH, f"path: {builder_dir.resolve()}")
    (target / "core.yaml").write_text(core)
    return target


def _base_env(layout: Layout) -> dict[str, str]:
    keep = ("PATH", "HOME", "TMPDIR", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["FABRIC_CFG_PATH"] = str(layout.config)
    return env


def orderer_env(topo: Topology, layout: Layout, o: OrdererNode) -> dict[str, str]:
    """Environment of one orderer (Raft node) process."""
    node = layout.orderer_dir(topo, o)
    tls = node / "tls"
    env = _base_env(layout)
    env.update(
        {
            "ORDERER_GENERAL_LISTENADDRESS": o.host,
            "ORDERER_GENERAL_LISTENPORT": str(o.port),
            "ORDERER_GENERAL_LOCALMSPID": o.msp_id,
            "ORDERER_GENERAL_LOCALMSPDIR": str(node / "msp"),
            "ORDERER_GENERAL_TLS_ENABLED": "true",
            "ORDERER_GENERAL_TLS_PRIVATEKEY": str(tls / "server.key"),
            "ORDERER_GENERAL_TLS_CERTIFICATE": str(tls / "server.crt"),
            "ORDERER_GENERAL_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
            "ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE": str(tls / "server.crt"),
            "ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY": str(tls / "server.key"),
            "ORDERER_GENERAL_CLUSTER_ROOTCAS": f"[{tls / 'ca.crt'}]",
            "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
            "ORDERER_GENERAL_MAXRECVMSGSIZE": str(100 * 1024 * 1024),
            "ORDERER_GENERAL_MAXSENDMSGSIZE": str(100 * 1024 * 1024),
            "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
            "ORDERER_ADMIN_LISTENADDRESS": f"{o.host}:{o.admin_port}",
            "ORDERER_ADMIN_TLS_ENABLED": "true",
            "ORDERER_ADMIN_TLS_PRIVATEKEY": str(tls / "server.key"),
            "ORDERER_ADMIN_TLS_CERTIFICATE": str(tls / "server.crt"),
            "ORDERER_ADMIN_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
            "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
            "ORDERER_ADMIN_TLS_CLIENTROOTCAS": f"[{tls / 'ca.crt'}]",
            "ORDERER_OPERATIONS_LISTENADDRESS": f"{o.host}:{o.operations_port}",
            # /metrics on the operations port reports consensus_etcdraft_is_leader per channel:
            # how `network status` tells which node leads.
            "ORDERER_METRICS_PROVIDER": "prometheus",
            "ORDERER_FILELEDGER_LOCATION": str(layout.data / o.name / "ledger"),
            "ORDERER_CONSENSUS_WALDIR": str(layout.data / o.name / "etcdraft" / "wal"),
            "ORDERER_CONSENSUS_SNAPDIR": str(layout.data / o.name / "etcdraft" / "snapshot"),
            "FABRIC_LOGGING_SPEC": "INFO",
        }
    )
    return env


def peer_env(org: PeerOrg, layout: Layout, time_window_seconds: int) -> dict[str, str]:
    """Environment of an organisation's peer process."""
    node = layout.peer_dir(org)
    tls = node / "tls"
    env = _base_env(layout)
    env.update(
        {
            "CORE_PEER_ID": org.peer_name,
            "CORE_PEER_ADDRESS": org.peer_address,
            "CORE_PEER_LISTENADDRESS": org.peer_address,
            "CORE_PEER_CHAINCODEADDRESS": f"{org.host}:{org.chaincode_port}",
            "CORE_PEER_CHAINCODELISTENADDRESS": f"{org.host}:{org.chaincode_port}",
            "CORE_PEER_GOSSIP_BOOTSTRAP": org.peer_address,
            "CORE_PEER_GOSSIP_EXTERNALENDPOINT": org.peer_address,
            # Faster membership on one machine, so discovery sees every org within seconds.
            "CORE_PEER_GOSSIP_ALIVETIMEINTERVAL": "1s",
            "CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT": "10s",
            "CORE_PEER_GOSSIP_RECONNECTINTERVAL": "2s",
            "CORE_PEER_LOCALMSPID": org.msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(node / "msp"),
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_CERT_FILE": str(tls / "server.crt"),
            "CORE_PEER_TLS_KEY_FILE": str(tls / "server.key"),
            "CORE_PEER_TLS_ROOTCERT_FILE": str(tls / "ca.crt"),
            "CORE_PEER_FILESYSTEMPATH": str(layout.data / org.peer_name),
            "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(layout.data / org.peer_name / "snapshots"),
            "CORE_OPERATIONS_LISTENADDRESS": f"{org.host}:{org.operations_port}",
            "CORE_METRICS_PROVIDER": "disabled",
            # No Docker: an empty endpoint disables the Docker VM controller (Fabric v3).
            "CORE_VM_ENDPOINT": "",
            "CORE_CHAINCODE_EXECUTETIMEOUT": "120s",
            # Proposals stamped further than this from the peer's clock are refused; deadlines
            # on the ledger are only as honest as this window (README, "Security").
            "CORE_PEER_AUTHENTICATION_TIMEWINDOW": f"{time_window_seconds}s",
            "FABRIC_LOGGING_SPEC": "INFO",
        }
    )
    return env


def admin_env(org: PeerOrg, layout: Layout) -> dict[str, str]:
    """Environment for the peer CLI acting as the organisation's admin against its own peer."""
    env = _base_env(layout)
    env.update(
        {
            "CORE_PEER_LOCALMSPID": org.msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(layout.user_msp(org, "Admin")),
            "CORE_PEER_ADDRESS": org.peer_address,
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_ROOTCERT_FILE": str(layout.org_tls_ca(org)),
            "FABRIC_LOGGING_SPEC": "WARNING",
        }
    )
    return env


def ccserver_env(
    org: PeerOrg, layout: Layout, package_id: str, time_window_seconds: int, minter_msp: str
) -> dict[str, str]:
    """Environment of an organisation's chaincode server (fedledger_chaincode)."""
    tls = layout.ccserver_dir(org) / "tls"
    env = _base_env(layout)
    env.pop("FABRIC_CFG_PATH", None)
    env.update(
        {
            "CHAINCODE_ID": package_id,
            "CHAINCODE_SERVER_ADDRESS": org.ccserver_address,
            "FEDLEDGER_CC_TLS_KEY_FILE": str(tls / "server.key"),
            "FEDLEDGER_CC_TLS_CERT_FILE": str(tls / "server.crt"),
            # Only the org's own peer (a TLS client certificate from the org's TLS CA) may connect.
            "FEDLEDGER_CC_TLS_CLIENT_CA_FILE": str(tls / "ca.crt"),
            "FEDLEDGER_TIME_WINDOW_SECONDS": str(time_window_seconds),
            "FEDLEDGER_MINTER_MSP": minter_msp,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def ccserver_argv() -> list[str]:
    """The chaincode server command: this interpreter running the chaincode package."""
    return [sys.executable, "-m", "fedledger_chaincode"]


@dataclass(frozen=True)
class Launch:
    """How to start one node: its command, environment, the ports it owns, its health URL."""

    name: str
    kind: str  # "orderer", "peer" or "ccserver"
    argv: list[str]
    env: dict[str, str]
    ports: dict[str, int]
    health_url: str | None = None


def node_launch(topo: Topology, layout: Layout, name: str) -> Launch:
    """The launch of the node called ``name``, the same for its first start and any restart.

    Raises NetworkError when the topology has no such node, or a Fabric binary is missing.
    """
    for o in topo.orderers:
        if o.name == name:
            return Launch(
                o.name,
                "orderer",
                [str(layout.binary("orderer"))],
                orderer_env(topo, layout, o),
                {"listen": o.port, "admin": o.admin_port, "operations": o.operations_port},
                f"http://{o.host}:{o.operations_port}/healthz",
            )
    for org in topo.orgs:
        if org.peer_name == name:
            return Launch(
                org.peer_name,
                "peer",
                [str(layout.binary("peer")), "node", "start"],
                peer_env(org, layout, topo.time_window_seconds),
                {
                    "listen": org.peer_port,
                    "chaincode": org.chaincode_port,
                    "operations": org.operations_port,
                },
                f"http://{org.host}:{org.operations_port}/healthz",
            )
        if org.ccserver_name == name:
            # The package is deterministic: writing it again gives the id the peer installed.
            _, package_id = ccaas.package(org, layout, ccaas.CHAINCODE_LABEL)
            return Launch(
                org.ccserver_name,
                "ccserver",
                ccserver_argv(),
                ccserver_env(
                    org, layout, package_id, topo.time_window_seconds, topo.minter_msp
                ),
                {"listen": org.ccserver_port},
            )
    raise NetworkError(f"this network has no node called {name!r}")
