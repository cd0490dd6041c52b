"""The state-folder model: where everything of a network and its users lives.

One :class:`Layout` names the state folder (generated config, crypto, ledgers, logs, the
connection profile, every user's wallet and adopted models), the folder of Fabric binaries and
the repository's ``network/`` folder (the Go module pin and the chaincode builder). Library code
takes a Layout; only the CLI (``cli/paths.py``) resolves one from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network.topology import OrdererNode, PeerOrg, Topology


@dataclass(frozen=True)
class Layout:
    """Paths under one state folder (``root``), the Fabric binaries and ``network/`` sources."""

    root: Path
    bin_dir: Path
    # The repository's network/ folder; relative to the working directory unless given.
    source: Path = Path("network")

    @property
    def state(self) -> Path:
        """The state folder (``root``), in the CLI's words."""
        return self.root

    @property
    def module_dir(self) -> Path:
        """The Go module that pins Fabric's version (``network/go.mod``)."""
        return self.source

    @property
    def builder_dir(self) -> Path:
        """The chaincode-as-a-service external builder the peers run."""
        return self.source / "builder"

    @property
    def profile(self) -> Path:
        """The connection profile clients read (same as :attr:`profile_file`)."""
        return self.profile_file

    def wallet(self, org: str, user: str) -> Path:
        """The folder of a user's own secrets (its key-exchange private key)."""
        return self.root / "wallet" / org / user

    def models(self, org: str, user: str) -> Path:
        """Where a participant keeps the global models it adopted (one folder per task)."""
        return self.wallet(org, user) / "models"

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
