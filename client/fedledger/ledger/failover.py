"""The gateway peers a contract may use, in order of preference, and which one it uses now.

A client prefers its own organisation's peer (it trusts its own ledger copy and keeps the load
local) and falls back to the other organisations' peers when that one is unreachable. The list
moves on only past the peer that failed, so concurrent calls that saw the same failure move it
once; it does not move back by itself: a restarted peer is used again once the peers after it
fail, or by a new connection.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from fedledger.errors import LedgerError
from fedledger.ledger.transport import GatewayCalls

__all__ = ["GatewayPeer", "PeerList"]


@dataclass(frozen=True)
class GatewayPeer:
    """One gateway peer: a name for messages (its address) and the calls to its Gateway."""

    name: str
    transport: GatewayCalls


class PeerList:
    """Gateway peers in order of preference with a current one; safe to share between threads."""

    def __init__(self, peers: Sequence[GatewayPeer]) -> None:
        if not peers:
            raise LedgerError("a contract needs at least one gateway peer")
        self._peers = tuple(peers)
        self._index = 0
        self._lock = threading.Lock()

    @property
    def current(self) -> GatewayPeer:
        """The peer calls go to now."""
        with self._lock:
            return self._peers[self._index]

    @property
    def peers(self) -> tuple[GatewayPeer, ...]:
        """Every peer, in order of preference."""
        return self._peers

    def __len__(self) -> int:
        return len(self._peers)

    def fail_over(self, failed: GatewayPeer) -> GatewayPeer:
        """Move past ``failed`` if it is still the current peer; return the peer to use next."""
        with self._lock:
            if self._peers[self._index] is failed:
                self._index = (self._index + 1) % len(self._peers)
            return self._peers[self._index]

    def close(self) -> None:
        """Close every peer's connection."""
        for peer in self._peers:
            peer.transport.close()
