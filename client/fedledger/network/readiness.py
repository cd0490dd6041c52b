"""When a started network can take transactions: gossip and discovery need a few seconds.

Right after the peers start, each gateway's discovery does not yet know the other orgs' peers
(they learn of each other through the anchor peers by gossip), so a MAJORITY policy cannot be
met. ``up`` is finished only when every org's gateway can collect endorsements.
"""

from __future__ import annotations

import time
from pathlib import Path

from fedledger.errors import FedLedgerError, NetworkError
from fedledger.ledger.gateway import connect

READINESS_TIMEOUT = 90.0
_PROBE = "ListParties"  # read-only: endorsed, never ordered


def wait_until_endorsable(
    profile: Path, orgs: list[str], timeout: float = READINESS_TIMEOUT
) -> None:
    """Wait until each org's gateway can endorse a probe; raise NetworkError after ``timeout``."""
    deadline = time.monotonic() + timeout
    for org in orgs:
        last = ""
        # Pinned to the org's own gateway: failing over would prove another org ready.
        with connect(profile, org=org, user="Admin", gateway_orgs=[org]) as contract:
            while True:
                try:
                    contract.endorse_only(_PROBE)
                    break
                except FedLedgerError as exc:
                    last = str(exc)
                if time.monotonic() > deadline:
                    raise NetworkError(
                        f"{org}'s gateway could not gather endorsements within {timeout:.0f}s:"
                        f" {last}"
                    )
                time.sleep(0.5)
