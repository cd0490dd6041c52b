"""Crypto material and channel configuration for a topology, made with cryptogen and configtxgen.

Both tools read YAML; JSON is valid YAML, so the inputs are written as JSON from the topology and
nothing hand-edited is committed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network.layout import Layout
from fedledger.network.topology import Topology

SANS = ["localhost", "127.0.0.1"]
# Client identities per peer org: the CLI's User1/User2, enough distinct users for the load
# benchmark's concurrent clients (32 across 3 orgs), and one set per live test module (a user
# registered with one role or key-exchange key by one test cannot be another test's participant;
# tests/integration/conftest.py lists who uses which).
USERS_PER_ORG = 24

# How long the ordering service waits to fill a block. A training round is a chain of lone
# transactions (update, close, share, report), each of which waits this long to be ordered:
# 250 ms cost a round about 0.6 s more than 50 ms (mlp32 demo, 3 orgs). 100 ms keeps most of
# that gain while blocks under load still batch several transactions.
BATCH_TIMEOUT = "100ms"


def _run(cmd: list[str], what: str, *, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise NetworkError(f"{what} failed: {(result.stderr or result.stdout).strip()[-3000:]}")
    return result.stdout


def cryptogen_config(topo: Topology, *, users: int = USERS_PER_ORG) -> dict[str, object]:
    """The cryptogen input: the orderer org with every Raft node, and per peer org a peer, a
    chaincode server and ``users`` client users (User1..User<users>) besides its Admin."""
    return {
        "OrdererOrgs": [
            {
                "Name": "Orderer",
                "Domain": topo.orderer.domain,
                "EnableNodeOUs": True,
                "Specs": [{"Hostname": o.hostname, "SANS": [*SANS, o.host]} for o in topo.orderers],
            }
        ],
        "PeerOrgs": [
            {
                "Name": org.name,
                "Domain": org.domain,
                "EnableNodeOUs": True,
                # The chaincode server and the org's prediction provider get TLS identities
                # from the org's TLS CA like a node.
                "Specs": [
                    {"Hostname": "peer0", "SANS": [*SANS, org.host]},
                    {"Hostname": "ccserver", "SANS": [*SANS, org.host]},
                    {"Hostname": "provider", "SANS": [*SANS, org.host]},
                ],
                "Users": {"Count": users},
            }
            for org in topo.orgs
        ],
    }


def generate_crypto(topo: Topology, layout: Layout) -> None:
    """Run cryptogen for the topology into ``layout.crypto`` (skipped when it already exists)."""
    if layout.crypto.is_dir():
        return
    layout.config.mkdir(parents=True, exist_ok=True)
    spec = layout.config / "crypto-config.yaml"
    spec.write_text(json.dumps(cryptogen_config(topo), indent=2))
    _run(
        [
            str(layout.binary("cryptogen")),
            "generate",
            f"--config={spec}",
            f"--output={layout.crypto}",
        ],
        "cryptogen",
    )


def _sig(rule: str) -> dict[str, str]:
    return {"Type": "Signature", "Rule": rule}


def _orderer_org_policies(msp_id: str) -> dict[str, object]:
    # Orderers sign blocks as members of their org; BlockValidation ("ANY Writers") needs that.
    return {
        "Readers": _sig(f"OR('{msp_id}.member')"),
        "Writers": _sig(f"OR('{msp_id}.member')"),
        "Admins": _sig(f"OR('{msp_id}.admin')"),
    }


def _org_policies(msp_id: str) -> dict[str, object]:
    sig = _sig
    return {
        "Readers": sig(f"OR('{msp_id}.admin', '{msp_id}.peer', '{msp_id}.client')"),
        "Writers": sig(f"OR('{msp_id}.admin', '{msp_id}.client')"),
        "Admins": sig(f"OR('{msp_id}.admin')"),
        "Endorsement": sig(f"OR('{msp_id}.peer')"),
    }


def _implicit(rule: str) -> dict[str, str]:
    return {"Type": "ImplicitMeta", "Rule": rule}


def _implicit_policies(**extra: dict[str, str]) -> dict[str, object]:
    """The channel-level Readers/Writers/Admins policies every section has, then ``extra``."""
    return {
        "Readers": _implicit("ANY Readers"),
        "Writers": _implicit("ANY Writers"),
        "Admins": _implicit("MAJORITY Admins"),
        **extra,
    }


def _orderer_section(topo: Topology, layout: Layout) -> dict[str, object]:
    """The Orderer section: a Raft cluster of every orderer, and the orderer org."""
    msp_id = topo.orderer.msp_id
    orderer_org = {
        "Name": "OrdererOrg",
        "ID": msp_id,
        "MSPDir": str(layout.orderer_org_msp(topo)),
        "Policies": _orderer_org_policies(msp_id),
        "OrdererEndpoints": [o.address for o in topo.orderers],
    }
    # Cluster traffic runs over each orderer's main TLS listener with its own TLS identity.
    consenters = [
        {
            "Host": o.host,
            "Port": o.port,
            "ClientTLSCert": str(layout.orderer_dir(topo, o) / "tls" / "server.crt"),
            "ServerTLSCert": str(layout.orderer_dir(topo, o) / "tls" / "server.crt"),
        }
        for o in topo.orderers
    ]
    return {
        "OrdererType": "etcdraft",
        "BatchTimeout": BATCH_TIMEOUT,
        # Packed model updates are hundreds of KB; a block may hold several of them.
        "BatchSize": {
            "MaxMessageCount": 50,
            "AbsoluteMaxBytes": "48 MB",
            "PreferredMaxBytes": "8 MB",
        },
        "EtcdRaft": {
            "Consenters": consenters,
            "Options": {
                "TickInterval": "250ms",
                "ElectionTick": 10,
                "HeartbeatTick": 1,
                "MaxInflightBlocks": 5,
                "SnapshotIntervalSize": "16 MB",
            },
        },
        "Organizations": [orderer_org],
        "Policies": _implicit_policies(BlockValidation=_implicit("ANY Writers")),
        "Capabilities": {"V2_0": True},
    }


def _application_section(topo: Topology, layout: Layout) -> dict[str, object]:
    """The Application section: every peer org, with MAJORITY endorsement."""
    peer_orgs = [
        {
            "Name": org.msp_id,
            "ID": org.msp_id,
            "MSPDir": str(layout.org_msp(org)),
            "Policies": _org_policies(org.msp_id),
            "AnchorPeers": [{"Host": org.host, "Port": org.peer_port}],
        }
        for org in topo.orgs
    ]
    return {
        "Organizations": peer_orgs,
        "Policies": _implicit_policies(
            LifecycleEndorsement=_implicit("MAJORITY Endorsement"),
            Endorsement=_implicit("MAJORITY Endorsement"),
        ),
        "Capabilities": {"V2_5": True},
    }


def configtx(topo: Topology, layout: Layout) -> dict[str, object]:
    """The configtx input: every Raft consenter and an application channel with MAJORITY
    endorsement."""
    profile = {
        "Policies": _implicit_policies(),
        "Capabilities": {"V3_0": True},
        "Orderer": _orderer_section(topo, layout),
        "Application": _application_section(topo, layout),
    }
    return {"Profiles": {"FedLedgerChannel": profile}}


def generate_channel_block(topo: Topology, layout: Layout) -> Path:
    """Write configtx.yaml and make the channel's genesis block; return the block's path."""
    block = layout.config / f"{topo.channel}.block"
    if block.is_file():
        return block
    (layout.config / "configtx.yaml").write_text(json.dumps(configtx(topo, layout), indent=2))
    _run(
        [
            str(layout.binary("configtxgen")),
            "-configPath",
            str(layout.config),
            "-profile",
            "FedLedgerChannel",
            "-channelID",
            topo.channel,
            "-outputBlock",
            str(block),
        ],
        "configtxgen",
    )
    return block
