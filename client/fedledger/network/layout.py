"""Where everything of a local network lives: binaries, generated config, crypto, data, logs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network.topology import OrdererNode, PeerOrg, Topology


@dataclass(frozen=True)
class Layout:
    """Paths under one state folder (``root``) plus the folder of Fabric binaries."""

    root: Path
    bin_dir: Path

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def crypto(self) -> Path:
        return self.root / "crypto"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def chaincode(self) -> Path:
        return self.root / "chaincode"

    @property
    def processes_file(self) -> Path:
        return self.root / "processes.json"

    @property
    def profile_file(self) -> Path:
        return self.root / "network.json"

    @property
    def topology_file(self) -> Path:
        return self.root / "topology.json"

    def binary(self, name: str) -> Path:
        """Return the path of a Fabric binary; raise NetworkError naming it when it is missing."""
        path = self.bin_dir / name
        if not path.is_file():
            raise NetworkError(
                f"Fabric binary '{name}' is missing from {self.bin_dir}:"
                " run 'fedledger network build'"
            )
        return path

    def log(self, node: str) -> Path:
        return self.logs / f"{node}.log"

    # crypto material as cryptogen lays it out
    def orderer_org_dir(self, topo: Topology) -> Path:
        return self.crypto / "ordererOrganizations" / topo.orderer.domain

    def orderer_org_msp(self, topo: Topology) -> Path:
        return self.orderer_org_dir(topo) / "msp"

    def orderer_dir(self, topo: Topology, node: OrdererNode) -> Path:
        return self.orderer_org_dir(topo) / "orderers" / node.name

    def orderer_admin_dir(self, topo: Topology) -> Path:
        return self.orderer_org_dir(topo) / "users" / f"Admin@{topo.orderer.domain}"

    def orderer_tls_ca(self, topo: Topology) -> Path:
        """The orderer organisation's TLS CA certificate: every orderer's TLS chain ends there."""
        domain = topo.orderer.domain
        return self.orderer_org_dir(topo) / "tlsca" / f"tlsca.{domain}-cert.pem"

    def org_dir(self, org: PeerOrg) -> Path:
        return self.crypto / "peerOrganizations" / org.domain

    def org_msp(self, org: PeerOrg) -> Path:
        return self.org_dir(org) / "msp"

    def peer_dir(self, org: PeerOrg) -> Path:
        return self.org_dir(org) / "peers" / org.peer_name

    def ccserver_dir(self, org: PeerOrg) -> Path:
        return self.org_dir(org) / "peers" / org.ccserver_name

    def provider_dir(self, org: PeerOrg) -> Path:
        """The org's prediction provider identity (its tls/ holds server.crt and server.key)."""
        return self.org_dir(org) / "peers" / org.provider_name

    def org_tls_ca(self, org: PeerOrg) -> Path:
        return self.peer_dir(org) / "tls" / "ca.crt"

    def user_msp(self, org: PeerOrg, user: str) -> Path:
        return self.org_dir(org) / "users" / f"{user}@{org.domain}" / "msp"
