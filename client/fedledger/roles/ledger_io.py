"""Typed calls of fedledger's chaincode over any ``Contract``, and waiting on ledger state."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fedledger.errors import ContractError, FedLedgerError
from fedledger.ledger.interface import Contract
from fedledger.protocol.assets import party_id


class WaitTimeout(FedLedgerError):
    """Ledger state did not reach what a role waited for in time."""


class RoundFailed(FedLedgerError):
    """The round was failed on the ledger (FailRound) while a role waited on it."""


DECIDED = ("accepted", "rejected", "failed")  # final round statuses


def query(contract: Contract, function: str, *args: str) -> Any:
    """Evaluate ``function`` and decode its JSON result."""
    return json.loads(contract.evaluate(function, *args))


def query_or_none(contract: Contract, function: str, *args: str) -> Any:
    """Like :func:`query`, but None when the chaincode says the thing is not there (yet)."""
    try:
        return query(contract, function, *args)
    except ContractError as exc:
        if any(marker in exc.message for marker in _ABSENT):
            return None
        raise


_ABSENT = (
    "does not exist",
    "is not registered",
    "no key envelope",
    "not stored yet",
    "has not been opened",
)


def submit(contract: Contract, function: str, *args: str) -> Any:
    """Submit ``function`` and decode its JSON result."""
    return json.loads(contract.submit(function, *args))


def wait_for(
    read: Callable[[], Any],
    ready: Callable[[Any], bool],
    *,
    what: str,
    timeout: float,
    interval: float = 0.3,
    watchdog: Callable[[], None] | None = None,
) -> Any:
    """Poll ``read()`` until ``ready`` holds for its value; return that value.

    ``watchdog`` runs before every poll and may raise to abandon the wait (e.g. when a process
    the caller depends on has died). Raises WaitTimeout naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        if watchdog is not None:
            watchdog()
        value = read()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def register_party(contract: Contract, roles: list[str], kx_public_key_b64: str) -> dict[str, Any]:
    """Register the contract's identity, or return its existing registration (Party record)."""
    identity = contract.identity
    existing: dict[str, Any] | None = query_or_none(
        contract, "GetParty", party_id(identity.msp_id, identity.certificate_pem)
    )
    if existing is not None:
        return existing
    request = json.dumps({"roles": sorted(roles), "kx_public_key": kx_public_key_b64})
    party: dict[str, Any] = submit(contract, "RegisterParty", request)
    return party


def get_round(contract: Contract, task_id: str, number: int) -> dict[str, Any] | None:
    """The round record with its submissions, shares and reports; None if not opened yet."""
    record: dict[str, Any] | None = query_or_none(contract, "GetRound", task_id, str(number))
    return record
