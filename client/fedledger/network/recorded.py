"""The shape a state folder records for its network (topology.json): read, write, reconcile.

A network keeps its shape for life: reopening it with other settings is refused (the message
says how to make a different one), and :func:`fits` lets a caller that only needs "at least
this many organisations" decide whether a recorded network will do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fedledger.errors import NetworkError
from fedledger.network.topology import (
    DEFAULT_BASE_PORT,
    DEFAULT_ORDERERS,
    DEFAULT_ORGS,
    Topology,
    make_topology,
)
from fedledger.protocol.tokens import DEFAULT_MINTER_MSP
from fedledger.protocol.training import DEFAULT_TIME_WINDOW_SECONDS

DEFAULTS: dict[str, Any] = {
    "orgs": DEFAULT_ORGS,
    "orderers": DEFAULT_ORDERERS,
    "base_port": DEFAULT_BASE_PORT,
    "time_window": DEFAULT_TIME_WINDOW_SECONDS,
    "minter_msp": DEFAULT_MINTER_MSP,
}


def write_topology(path: Path, topo: Topology) -> None:
    """Record ``topo``'s shape in ``path``."""
    saved = {
        "orgs": len(topo.orgs),
        "orderers": len(topo.orderers),
        "base_port": topo.orderer.port,
        "time_window": topo.time_window_seconds,
        "minter_msp": topo.minter_msp,
    }
    path.write_text(json.dumps(saved))


def read_topology(path: Path) -> dict[str, Any] | None:
    """The recorded shape, or None when there is none; raises NetworkError when it is damaged."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        window = data.get("time_window", DEFAULT_TIME_WINDOW_SECONDS)
        return {
            "orgs": int(data["orgs"]),
            # Networks recorded before Raft clusters had one orderer.
            "orderers": int(data.get("orderers", 1)),
            "base_port": int(data["base_port"]),
            "time_window": int(window),
            "minter_msp": str(data.get("minter_msp", DEFAULT_MINTER_MSP)),
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(
            f"{path} is damaged ({exc}); run 'fedledger network down --purge'"
        ) from exc


def wanted_topology(root: Path, saved: dict[str, Any] | None, asked: dict[str, Any]) -> Topology:
    """The topology of the network in ``root``: the recorded one, else ``asked`` over defaults.

    ``asked`` maps the keys of :data:`DEFAULTS` to a value or None (no preference). Raises
    NetworkError when a value contradicts the recorded network's.
    """
    if saved is not None:
        if any(value is not None and value != saved[key] for key, value in asked.items()):
            raise NetworkError(
                f"the network in {root} has {saved['orgs']} organisations and "
                f"{saved['orderers']} orderer{'' if saved['orderers'] == 1 else 's'} on base "
                f"port {saved['base_port']} with a {saved['time_window']}s time window and "
                f"minter {saved['minter_msp']}; run 'fedledger network down --purge' first "
                "to make a different one"
            )
        wanted = saved
    else:
        wanted = {k: DEFAULTS[k] if v is None else v for k, v in asked.items()}
    return make_topology(
        wanted["orgs"],
        orderers=wanted["orderers"],
        base_port=wanted["base_port"],
        time_window_seconds=wanted["time_window"],
        minter_msp=wanted["minter_msp"],
    )


def fits(saved: dict[str, Any], *, min_orgs: int, base_port: int | None = None) -> bool:
    """True when a recorded network has at least ``min_orgs`` orgs (on ``base_port`` if given)."""
    return saved["orgs"] >= min_orgs and base_port in (None, saved["base_port"])
