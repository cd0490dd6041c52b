"""Chaincode-as-a-service packages: one per organisation, pointing at that org's server.

The package id is ``<label>:<sha256 of the package file>``, so it is computed here rather than
parsed from peer output. Each organisation approves the same definition with its own package,
which is how one definition reaches a different chaincode server per peer.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path

from fedledger.errors import NetworkError
from fedledger.network.layout import Layout
from fedledger.network.topology import PeerOrg

CHAINCODE_LABEL = "fedledger_1.0"


def _tar_gz(files: dict[str, bytes]) -> bytes:
    """A deterministic tar.gz of ``files`` (fixed mtimes and owners) so ids are reproducible."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def connection_json(org: PeerOrg, layout: Layout) -> dict[str, object]:
    """How the org's peer reaches its chaincode server: mutual TLS with the org's TLS CA."""
    peer_tls = layout.peer_dir(org) / "tls"
    server_tls = layout.ccserver_dir(org) / "tls"
    return {
        "address": org.ccserver_address,
        "dial_timeout": "10s",
        "tls_required": True,
        "client_auth_required": True,
        "client_key": (peer_tls / "server.key").read_text(),
        "client_cert": (peer_tls / "server.crt").read_text(),
        "root_cert": (server_tls / "ca.crt").read_text(),
    }


def package(org: PeerOrg, layout: Layout, label: str) -> tuple[Path, str]:
    """Write the org's ccaas package; return its path and package id."""
    code = _tar_gz({"connection.json": json.dumps(connection_json(org, layout)).encode()})
    metadata = json.dumps({"type": "ccaas", "label": label}).encode()
    data = _tar_gz({"metadata.json": metadata, "code.tar.gz": code})
    path = layout.chaincode / org.name / f"{label}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, f"{label}:{hashlib.sha256(data).hexdigest()}"


def chaincode_source_digest() -> str:
    """SHA-256 over the Python source the chaincode servers run (the contract and protocol).

    The servers import ``fedledger_chaincode`` and ``fedledger.protocol`` from this checkout;
    the digest tells whether a running server still serves the current code.
    """
    digest = hashlib.sha256()
    for package in ("fedledger_chaincode", "fedledger.protocol"):
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise NetworkError(f"cannot find the {package} package this checkout serves")
        folder = Path(spec.origin).parent
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
