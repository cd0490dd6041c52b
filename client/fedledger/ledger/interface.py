"""The one seam every role talks to: a contract on a ledger, real or in-memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from fedledger.ledger.identity import Identity


@dataclass(frozen=True)
class ChaincodeEvent:
    """An event set by a committed transaction."""

    block_number: int
    tx_id: str
    name: str
    payload: bytes


class Contract(Protocol):
    """fedledger's chaincode as seen by one identity.

    ``submit`` endorses, orders and waits for the commit, and returns the chaincode's result;
    ``evaluate`` runs a query on one peer without ordering. Both raise ``ContractError`` with the
    chaincode's own message when the contract rejects the call, and ``GatewayError`` subclasses
    when the transport or the commit fails.
    """

    @property
    def identity(self) -> Identity:
        """The identity this contract signs and acts as."""
        ...

    def submit(self, function: str, *args: str) -> bytes: ...

    def evaluate(self, function: str, *args: str) -> bytes: ...

    def events(
        self, start_block: int | None = 0, *, timeout: float | None = None
    ) -> Iterator[ChaincodeEvent]:
        """Yield chaincode events from block ``start_block`` on (``None``: from the newest
        block), blocking for new ones; the stream ends after ``timeout`` seconds (``None``:
        never) or when the contract is closed."""
        ...
