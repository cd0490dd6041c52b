"""The network profile: where the channel's peers are and where each org's identities live.

The local network module writes it as ``network.json`` in its state folder::

    {"channel": "fedledger", "chaincode": "fedledger",
     "orgs": {"Org1": {"msp_id": "Org1MSP", "domain": "org1.fedledger.local",
                       "peer": {"host": "peer0.org1.fedledger.local", "address": "127.0.0.1:7051",
                                "tls_ca": "/abs/path/tlsca.pem"},
                       "users": {"Admin": "/abs/path/msp", "User1": "/abs/path/msp"}}},
     "orderer": {"host": "orderer.fedledger.local", "address": "127.0.0.1:7050",
                 "tls_ca": "/abs/path/tlsca.pem"}}

Parsing is strict: a missing or mistyped field is an error naming it. Relative paths are taken
relative to the profile's folder (or the working directory for a profile given as a dict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.errors import LedgerError

__all__ = ["DEFAULT_STATE_DIR", "NetworkProfile", "NodeProfile", "OrgProfile", "load_profile"]

DEFAULT_STATE_DIR = Path(".fedledger") / "network"
PROFILE_FILE_NAME = "network.json"


@dataclass(frozen=True)
class NodeProfile:
    """A peer or orderer endpoint: TLS host name, dialable address and the TLS CA to trust."""

    host: str
    address: str
    tls_ca: Path


@dataclass(frozen=True)
class OrgProfile:
    """One peer organisation: its MSP id, its gateway peer and its users' MSP folders."""

    name: str
    msp_id: str
    domain: str
    peer: NodeProfile
    users: Mapping[str, Path]

    def user_msp_dir(self, user: str) -> Path:
        """Return the MSP folder of ``user``; raises LedgerError naming the known users."""
        if user not in self.users:
            known = ", ".join(sorted(self.users)) or "none"
            raise LedgerError(f"org {self.name} has no user {user!r} (known users: {known})")
        return self.users[user]


@dataclass(frozen=True)
class NetworkProfile:
    """The channel, the chaincode name, the peer orgs and the orderer of one network."""

    channel: str
    chaincode: str
    orgs: Mapping[str, OrgProfile]
    orderer: NodeProfile

    def org(self, name: str) -> OrgProfile:
        """Return the org called ``name``; raises LedgerError naming the known orgs."""
        if name not in self.orgs:
            known = ", ".join(sorted(self.orgs)) or "none"
            raise LedgerError(f"the network profile has no org {name!r} (known orgs: {known})")
        return self.orgs[name]

    def gateway_orgs(self, org: str) -> list[str]:
        """The orgs whose gateway peers a client of ``org`` uses, in order of preference: its
        own first, then the others in the profile's order. Raises LedgerError if ``org`` is
        unknown."""
        self.org(org)
        return [org, *(name for name in self.orgs if name != org)]


def load_profile(source: str | Path | Mapping[str, Any]) -> NetworkProfile:
    """Read a network profile from a JSON file, a state folder holding network.json, or a dict.

    Returns the parsed NetworkProfile. Raises LedgerError naming the file or field at fault.
    """
    if isinstance(source, Mapping):
        return _parse(source, base=Path.cwd(), origin="network profile")
    path = Path(source)
    if path.is_dir():
        path = path / PROFILE_FILE_NAME
    if not path.is_file():
        raise LedgerError(f"network profile not found: {path} (is the network up?)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"cannot read network profile {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise LedgerError(f"network profile {path} must hold a JSON object")
    return _parse(data, base=path.parent.resolve(), origin=f"network profile {path}")


def _parse(data: Mapping[str, Any], *, base: Path, origin: str) -> NetworkProfile:
    orgs_data = _field(data, "orgs", Mapping, origin)
    if not orgs_data:
        raise LedgerError(f"{origin}: 'orgs' is empty")
    orgs = {
        name: _parse_org(name, _expect(value, Mapping, f"orgs.{name}", origin), base, origin)
        for name, value in orgs_data.items()
    }
    return NetworkProfile(
        channel=_text(data, "channel", origin),
        chaincode=_text(data, "chaincode", origin),
        orgs=orgs,
        orderer=_parse_node(_field(data, "orderer", Mapping, origin), "orderer", base, origin),
    )


def _parse_org(name: str, data: Mapping[str, Any], base: Path, origin: str) -> OrgProfile:
    where = f"orgs.{name}"
    users_data = _field(data, "users", Mapping, origin, where)
    users = {
        user: _path(_expect(value, str, f"{where}.users.{user}", origin), base)
        for user, value in users_data.items()
    }
    return OrgProfile(
        name=name,
        msp_id=_text(data, "msp_id", origin, where),
        domain=_text(data, "domain", origin, where),
        peer=_parse_node(
            _field(data, "peer", Mapping, origin, where), f"{where}.peer", base, origin
        ),
        users=users,
    )


def _parse_node(data: Mapping[str, Any], where: str, base: Path, origin: str) -> NodeProfile:
    return NodeProfile(
        host=_text(data, "host", origin, where),
        address=_text(data, "address", origin, where),
        tls_ca=_path(_text(data, "tls_ca", origin, where), base),
    )


def _field(data: Mapping[str, Any], key: str, kind: type, origin: str, where: str = "") -> Any:
    name = f"{where}.{key}" if where else key
    if key not in data:
        raise LedgerError(f"{origin}: missing field {name!r}")
    return _expect(data[key], kind, name, origin)


def _expect(value: Any, kind: type, name: str, origin: str) -> Any:
    if not isinstance(value, kind):
        wanted = "an object" if kind is Mapping else f"a {kind.__name__}"
        raise LedgerError(f"{origin}: field {name!r} must be {wanted}, got {type(value).__name__}")
    return value


def _text(data: Mapping[str, Any], key: str, origin: str, where: str = "") -> str:
    value: str = _field(data, key, str, origin, where)
    if not value.strip():
        name = f"{where}.{key}" if where else key
        raise LedgerError(f"{origin}: field {name!r} is empty")
    return value


def _path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
