"""One declarative description of the local network: organisations, nodes, hosts and ports.

Every other module derives names, addresses and paths from a :class:`Topology`; nothing else in
the network package holds a port number or a host name. A multi-host deployment is the same
description with other host names (``host`` fields) and the same ports.

Port plan (``base_port`` B, default 7050):
    orderer:            listen B, admin B+3, operations B+4
    peer org i (1..N):  listen B+100i+1, chaincode B+100i+2, operations B+100i+3,
                        chaincode server B+100i+4, prediction provider B+100i+5 (started
                        separately, by `fedledger provider serve`)
"""

from __future__ import annotations

from dataclasses import dataclass

from fedledger.errors import NetworkError
from fedledger.protocol.training import DEFAULT_TIME_WINDOW_SECONDS

DEFAULT_BASE_PORT = 7050
DEFAULT_ORGS = 3
MAX_ORGS = 20
DOMAIN = "fedledger.local"
CHANNEL = "fedledger"
CHAINCODE = "fedledger"
MAX_TIME_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class OrdererNode:
    """The Raft orderer of the orderer organisation."""

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
    def provider_port(self) -> int:
        """The default port of the org's prediction provider (`fedledger provider serve`)."""
        return self.base + 5

    @property
    def peer_address(self) -> str:
        return f"{self.host}:{self.peer_port}"

    @property
    def ccserver_address(self) -> str:
        return f"{self.host}:{self.ccserver_port}"


@dataclass(frozen=True)
class Topology:
    """The whole network: one orderer organisation and ``len(orgs)`` peer organisations."""

    orderer: OrdererNode
    orgs: tuple[PeerOrg, ...]
    channel: str = CHANNEL
    chaincode: str = CHAINCODE
    # peer.authentication.timewindow, also given to every chaincode server (the contract judges
    # round durations by it); see fedledger_chaincode.config.
    time_window_seconds: int = DEFAULT_TIME_WINDOW_SECONDS

    def org(self, name: str) -> PeerOrg:
        """Return the organisation called ``name`` (e.g. ``Org1``); NetworkError if unknown."""
        for org in self.orgs:
            if org.name.lower() == name.lower():
                return org
        known = ", ".join(o.name for o in self.orgs)
        raise NetworkError(f"unknown organisation {name!r}; this network has {known}")

    def ports(self) -> dict[str, int]:
        """Every port the network listens on, keyed by a label naming node and purpose."""
        o = self.orderer
        ports = {
            f"{o.name} listen": o.port,
            f"{o.name} admin": o.admin_port,
            f"{o.name} operations": o.operations_port,
        }
        for org in self.orgs:
            ports[f"{org.peer_name} listen"] = org.peer_port
            ports[f"{org.peer_name} chaincode"] = org.chaincode_port
            ports[f"{org.peer_name} operations"] = org.operations_port
            ports[f"{org.ccserver_name} listen"] = org.ccserver_port
        return ports


def make_topology(
    orgs: int = DEFAULT_ORGS,
    *,
    base_port: int = DEFAULT_BASE_PORT,
    host: str = "127.0.0.1",
    time_window_seconds: int = DEFAULT_TIME_WINDOW_SECONDS,
) -> Topology:
    """Describe a network of ``orgs`` peer organisations whose ports start at ``base_port``.

    Raises NetworkError when the organisation count, the port range or the time window is out
    of bounds.
    """
    if not 1 <= orgs <= MAX_ORGS:
        raise NetworkError(f"--orgs must be between 1 and {MAX_ORGS}, got {orgs}")
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
    orderer = OrdererNode(
        msp_id="OrdererMSP",
        domain=DOMAIN,
        hostname="orderer",
        host=host,
        port=base_port,
        admin_port=base_port + 3,
        operations_port=base_port + 4,
    )
    peer_orgs = tuple(PeerOrg(i, host, base_port + 100 * i) for i in range(1, orgs + 1))
    return Topology(orderer=orderer, orgs=peer_orgs, time_window_seconds=time_window_seconds)
