"""Waiting on ledger state, and the few ledger helpers the roles share beyond the typed client.

The typed calls of the chaincode are :mod:`fedledger.contract`; this module keeps the roles'
get-or-register of a party, the aggregate as a cipher vector, and the names the training roles
import. A missing asset is ``AssetNotFound`` (status 404), ``None`` where absence is an answer.
:class:`Watch` waits until ledger state satisfies a condition: it queries once, then sleeps until
a chaincode event of the task arrives (an :class:`~fedledger.ledger.events.EventFeed`) and queries
again, with a long fallback interval for when no event comes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fedledger.contract import parties, training
from fedledger.errors import FedLedgerError
from fedledger.ledger.events import EventFeed
from fedledger.ledger.interface import ChaincodeEvent, Contract
from fedledger.protocol.asset_requests import PartyRequest
from fedledger.protocol.assets import party_id
from fedledger.protocol.ciphervec import CipherVector

__all__ = [
    "WaitTimeout",
    "Watch",
    "get_aggregate",
    "get_round",
    "get_share",
    "get_task",
    "register_party",
    "task_events",
]

_T = TypeVar("_T")
FALLBACK_SECONDS = 10.0


class WaitTimeout(FedLedgerError):
    """Ledger state did not reach what a role waited for in time."""


def register_party(contract: Contract, roles: list[str], kx_public_key_b64: str) -> dict[str, Any]:
    """Register the contract's identity, or return its existing registration (Party as JSON)."""
    identity = contract.identity
    existing = parties.find_party(contract, party_id(identity.msp_id, identity.certificate_pem))
    if existing is not None:
        return existing.to_dict()
    request = PartyRequest(tuple(sorted(roles)), kx_public_key_b64)
    return parties.register_party(contract, request).to_dict()


def get_aggregate(contract: Contract, task_id: str, number: int) -> CipherVector:
    """The round's aggregate vector; raises AssetNotFound while the round is open."""
    return CipherVector.from_base64(training.get_aggregate(contract, task_id, number).vector)


def get_share(contract: Contract, task_id: str, number: int, party: str) -> str:
    """One party's verified decryption share of the round (base64)."""
    return training.get_decryption_share(contract, task_id, number, party).share


# The typed calls live in fedledger.contract; these names stay for the roles that import them.
get_task = training.get_task
get_round = training.find_round


def task_events(task_id: str) -> Callable[[ChaincodeEvent], bool]:
    """An event filter that keeps the events of one task."""

    def accept(event: ChaincodeEvent) -> bool:
        try:
            return bool(json.loads(event.payload).get("task_id") == task_id)
        except (ValueError, AttributeError):
            return False

    return accept


class Watch:
    """Waits on ledger state, woken by an event feed (module docstring)."""

    def __init__(
        self, feed: EventFeed | None, *, fallback_seconds: float = FALLBACK_SECONDS
    ) -> None:
        self._feed = feed
        self._fallback = fallback_seconds

    def until(
        self,
        read: Callable[[], _T],
        ready: Callable[[_T], bool],
        *,
        what: str,
        timeout: float,
        wake: Callable[[], float] | None = None,
        watchdog: Callable[[], None] | None = None,
    ) -> _T:
        """Return ``read()`` once ``ready`` holds for it.

        Queries once, then once per event (or after the fallback interval, or after ``wake()``
        seconds when the caller awaits a time such as a deadline). ``watchdog`` runs before each
        query and may raise to give up. Raises WaitTimeout naming ``what`` after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self._feed.count if self._feed is not None else 0
            if watchdog is not None:
                watchdog()
            value = read()
            if ready(value):
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}")
            pause = min(self._fallback, remaining, max(0.05, wake()) if wake else remaining)
            if self._feed is not None:
                self._feed.wait(seen, pause)
            else:
                time.sleep(pause)
