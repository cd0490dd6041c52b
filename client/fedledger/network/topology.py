"""One declarative description of the local network: organisations, nodes, hosts and ports.

Every other module derives names, addresses and paths from a :class:`Topology`; nothing else in
the network package holds a port number or a host name. A multi-host deployment is the same
description with other host names (``host`` fields) and the same ports.

Port plan (``base_port`` B, default 7050):
    orderer k (1..5):   listen B+10(k-1), admin B+10(k-1)+3, operations B+10(k-1)+4
    peer org i (1..N):  listen B+100i+1, chaincode B+100i+2, operations B+100i+3,
                        chaincode server B+100i+4 (a prediction provider, started
                        separately, takes the port its offer names or a free one)
"""

from __future__ import annotations

from dataclasses import dataclass

from fedledger.errors import NetworkError
from fedledger.protocol.tokens import DEFAULT_MINTER_MSP
from fedledger.protocol.training import DEFAULT_TIME_WINDOW_SECONDS

DEFAULT_BASE_PORT = 7050
DEFAULT_ORGS = 3
# Raft stays available while a majority of its nodes runs: 2f+1 nodes tolerate f crashes, and an
# even count adds a node without adding tolerance.
ORDERER_COUNTS = (1, 3, 5)
DEFAULT_ORDERERS = 3
MAX_ORGS = 20
DOMAIN = "fedledger.local"
CHANNEL = "fedledger"
CHAINCODE = "fedledger"
MAX_TIME_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class OrdererNode:
    """One Raft node (consenter) of the orderer organisation."""

    msp_id: str
    domain: str
    hostname: str
    host: str
    port: int
    admin_port: int
    operations_port: int

    @property
    def name(self) -> str:
        return f"{self.hostname}.{self.domain}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class PeerOrg:
    """A peer organisation with its one peer and the peer's chaincode server."""

    index: int
    host: str
    base: int

    @property
    def name(self) -> str:
        return f"Org{self.index}"

    @property
    def msp_id(self) -> str:
        return f"Org{self.index}MSP"

    @property
    def domain(self) -> str:
        return f"org{self.index}.{DOMAIN}"

    @property
    def peer_name(self) -> str:
        return f"peer0.{self.domain}"

    @property
    def ccserver_name(self) -> str:
        return f"ccserver.{self.domain}"

    @property
    def provider_name(self) -> str:
        """TLS host name of the org's prediction provider (not a node `network up` starts)."""
        return f"provider.{self.domain}"

    @property
    def peer_port(self) -> int:
        return self.base + 1

    @property
    def chaincode_port(self) -> int:
        return self.base + 2

    @property
    def operations_port(self) -> int:
        return self.base + 3

    @property
    def ccserver_port(self) -> int:
        return self.base + 4

    @property
    def peer_address(self) -> str:
        return f"{self.host}:{self.peer_port}"

    @property
    def ccserver_address(self) -> str:
        return f"{self.host}:{self.ccserver_port}"


@dataclass(frozen=True)
class Topology:
    """The whole network: the orderer organisation's Raft nodes and ``len(orgs)`` peer orgs."""

    orderers: tuple[OrdererNode, ...]
    orgs: tuple[PeerOrg, ...]
    channel: str = CHANNEL
    chaincode: str = CHAINCODE
    # peer.authentication.timewindow, also given to every chaincode server (the contract judges
    # round durations by it); see fedledger_chaincode.core.config.
    time_window_seconds: int = DEFAULT_TIME_WINDOW_SECONDS
    # The organisation whose identities may mint credits, given to every chaincode server.
    minter_msp: str = DEFAULT_MINTER_MSP

    @property
    def orderer(self) -> OrdererNode:
        """The first orderer: the one the admin CLIs send lifecycle transactions to."""
        return self.orderers[0]

    def orderer_node(self, name: str) -> OrdererNode:
        """Return the orderer called ``name`` (its full host name); NetworkError if unknown."""
        for node in self.orderers:
            if node.name == name:
                return node
        known = ", ".join(o.name for o in self.orderers)
        raise NetworkError(f"unknown orderer {name!r}; this network has {known}")

    def org(self, name: str) -> PeerOrg:
        """Return the organisation called ``name`` (e.g. ``Org1``); NetworkError if unknown."""
        for org in self.orgs:
            if org.name.lower() == name.lower():
                return org
        known = ", ".join(o.name for o in self.orgs)
        raise NetworkError(f"unknown organisation {name!r}; this network has {known}")

    def ports(self) -> dict[str, int]:
        """Every port the network listens on, keyed by a label naming node and purpose."""
        ports = {}
        for o in self.orderers:
            ports[f"{o.name} listen"] = o.port
            ports[f"{o.name} admin"] = o.admin_port
            ports[f"{o.name} operations"] = o.operations_port
        for org in self.orgs:
            ports[f"{org.peer_name} listen"] = org.peer_port
            ports[f"{org.peer_name} chaincode"] = org.chaincode_port
            ports[f"{org.peer_name} operations"] = org.operations_port
            ports[f"{org.ccserver_name} listen"] = org.ccserver_port
        return ports


def make_topology(
    orgs: int = DEFAULT_ORGS,
    *,
    orderers: int = DEFAULT_ORDERERS,
    base_port: int = DEFAULT_BASE_PORT,
    host: str = "127.0.0.1",
    time_window_seconds: int = DEFAULT_TIME_WINDOW_SECONDS,
    minter_msp: str = DEFAULT_MINTER_MSP,
) -> Topology:
    """Describe ``orderers`` Raft nodes and ``orgs`` peer organisations from ``base_port`` on.

    Raises NetworkError when the organisation or orderer count, the port range or the time
    window is out of bounds, or when ``minter_msp`` is not the MSP id of one of the
    organisations.
    """
    if not 1 <= orgs <= MAX_ORGS:
        raise NetworkError(f"--orgs must be between 1 and {MAX_ORGS}, got {orgs}")
    if orderers not in ORDERER_COUNTS:
        raise NetworkError(
            f"--orderers must be 1, 3 or 5 (Raft with 2f+1 nodes tolerates f crashes), "
            f"got {orderers}"
        )
    if not 1 <= time_window_seconds <= MAX_TIME_WINDOW_SECONDS:
        raise NetworkError(
            f"--time-window must be 1 to {MAX_TIME_WINDOW_SECONDS} seconds, "
            f"got {time_window_seconds}"
        )
    highest = base_port + 100 * orgs + 4
    if base_port < 1024 or highest > 65535:
        raise NetworkError(
            f"base port {base_port} with {orgs} organisations needs ports {base_port}..{highest};"
            " choose a base port from 1024 so that the range ends by 65535"
        )
    nodes = tuple(_orderer(k, host, base_port + 10 * (k - 1)) for k in range(1, orderers + 1))
    peer_orgs = tuple(PeerOrg(i, host, base_port + 100 * i) for i in range(1, orgs + 1))
    msp_ids = [org.msp_id for org in peer_orgs]
    if minter_msp not in msp_ids:
        raise NetworkError(
            f"--minter-msp must be the MSP id of one of the organisations ({', '.join(msp_ids)})"
            f", got {minter_msp!r}"
        )
    return Topology(
        orderers=nodes,
        orgs=peer_orgs,
        time_window_seconds=time_window_seconds,
        minter_msp=minter_msp,
    )


def _orderer(index: int, host: str, base: int) -> OrdererNode:
    # The first keeps the name a one-orderer network had, so its state folder still fits.
    return OrdererNode(
        msp_id="OrdererMSP",
        domain=DOMAIN,
        hostname="orderer" if index == 1 else f"orderer{index}",
        host=host,
        port=base,
        admin_port=base + 3,
        operations_port=base + 4,
    )
