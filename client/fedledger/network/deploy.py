"""Channel membership and chaincode lifecycle, driven through Fabric's own CLIs as org admins."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network.layout import Layout
from fedledger.network.nodes import admin_env
from fedledger.network.topology import OrdererNode, PeerOrg, Topology

CHAINCODE_VERSION = "1.0"


def _run(cmd: list[str], env: dict[str, str], what: str, timeout: float = 120) -> str:
    try:
        result = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise NetworkError(f"{what} timed out after {timeout:.0f}s") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-3000:]
        raise NetworkError(f"{what} failed: {detail}")
    return result.stdout + result.stderr


def _retry(cmd: list[str], env: dict[str, str], what: str, attempts: int = 20) -> str:
    """Run a CLI step that can fail while Raft elects a leader or gossip settles."""
    for attempt in range(1, attempts + 1):
        try:
            return _run(cmd, env, what)
        except NetworkError:
            if attempt == attempts:
                raise
            time.sleep(1.0)
    raise NetworkError(f"{what} was not attempted")


def join_orderer(topo: Topology, layout: Layout, block: Path, o: OrdererNode) -> None:
    """Join one orderer to the channel through its admin endpoint (osnadmin)."""
    cmd = [
        str(layout.binary("osnadmin")),
        "channel",
        "join",
        "--channelID",
        topo.channel,
        "--config-block",
        str(block),
        *_osnadmin_flags(topo, layout, o),
    ]
    out = _run(cmd, {"PATH": "/usr/bin:/bin"}, f"osnadmin channel join on {o.name}")
    if '"status": "active"' not in out and "onboarding" not in out and "201" not in out:
        raise NetworkError(
            f"osnadmin channel join on {o.name} returned an unexpected answer: {out.strip()}"
        )


def _osnadmin_flags(topo: Topology, layout: Layout, o: OrdererNode) -> list[str]:
    """Address and mutual-TLS identity (the orderer org's Admin) for ``o``'s admin endpoint."""
    admin_tls = layout.orderer_admin_dir(topo) / "tls"
    return [
        "-o",
        f"{o.host}:{o.admin_port}",
        "--ca-file",
        str(layout.orderer_tls_ca(topo)),
        "--client-cert",
        str(admin_tls / "client.crt"),
        "--client-key",
        str(admin_tls / "client.key"),
    ]


def join_peer(org: PeerOrg, layout: Layout, block: Path) -> None:
    """Join the org's peer to the channel as the org admin."""
    cmd = [str(layout.binary("peer")), "channel", "join", "-b", str(block)]
    _retry(cmd, admin_env(org, layout), f"peer channel join for {org.peer_name}", attempts=10)


def _orderer_flags(topo: Topology, layout: Layout) -> list[str]:
    return [
        "-o",
        topo.orderer.address,
        "--ordererTLSHostnameOverride",
        topo.orderer.name,
        "--tls",
        "--cafile",
        str(layout.orderer_tls_ca(topo)),
    ]


def install(org: PeerOrg, layout: Layout, package: Path) -> None:
    """Install the org's chaincode package on its peer."""
    cmd = [str(layout.binary("peer")), "lifecycle", "chaincode", "install", str(package)]
    _run_allow(cmd, admin_env(org, layout), f"chaincode install on {org.peer_name}")


def _run_allow(cmd: list[str], env: dict[str, str], what: str) -> str:
    """Like _run, but a package already installed with the same id counts as success."""
    try:
        return _run(cmd, env, what)
    except NetworkError as exc:
        if "already successfully installed" in str(exc):
            return ""
        raise


def _lifecycle(topo: Topology, layout: Layout, verb: str, *, ordered: bool) -> list[str]:
    """``peer lifecycle chaincode <verb>`` for fedledger's definition (and the orderer if sent)."""
    cmd = [str(layout.binary("peer")), "lifecycle", "chaincode", verb]
    if ordered:
        cmd += _orderer_flags(topo, layout)
    cmd += ["--channelID", topo.channel, "--name", topo.chaincode]
    cmd += ["--version", CHAINCODE_VERSION]
    return cmd


def approve(topo: Topology, org: PeerOrg, layout: Layout, package_id: str, sequence: int) -> None:
    """Approve the chaincode definition for the org, naming its own package."""
    cmd = _lifecycle(topo, layout, "approveformyorg", ordered=True)
    cmd += ["--package-id", package_id, "--sequence", str(sequence), "--waitForEvent"]
    _retry(cmd, admin_env(org, layout), f"chaincode approve for {org.msp_id}", attempts=15)


def commit(topo: Topology, layout: Layout, sequence: int) -> None:
    """Commit the chaincode definition, endorsed by every organisation's peer."""
    cmd = _lifecycle(topo, layout, "commit", ordered=True)
    cmd += ["--sequence", str(sequence), "--waitForEvent"]
    for org in topo.orgs:
        cmd += [
            "--peerAddresses",
            org.peer_address,
            "--tlsRootCertFiles",
            str(layout.org_tls_ca(org)),
        ]
    _retry(cmd, admin_env(topo.orgs[0], layout), "chaincode commit", attempts=15)


def block_height(org: PeerOrg, layout: Layout, channel: str) -> int | None:
    """The org's peer's block height on the channel, or None when it cannot be read."""
    cmd = [str(layout.binary("peer")), "channel", "getinfo", "-c", channel]
    try:
        out = _run(cmd, admin_env(org, layout), "peer channel getinfo", timeout=15)
    except NetworkError:
        return None
    marker = '"height":'
    at = out.find(marker)
    if at < 0:
        return None
    digits = "".join(ch for ch in out[at + len(marker) :].lstrip()[:20] if ch.isdigit())
    return int(digits) if digits else None
