"""Following chaincode events in the background, so roles wait on events instead of polling.

An :class:`EventFeed` reads one contract's event stream in a daemon thread, keeps a checkpoint
(the block of the last event it saw) and counts the events that pass its filter. A waiter takes
the count, queries the ledger once, and if what it needs is not there yet sleeps in
:meth:`EventFeed.wait` until the count moves: one query per relevant event instead of one every
few hundred milliseconds. When the stream breaks (a peer restarts, the connection drops) the feed
reconnects from its checkpoint, so no event is lost (one may come twice, which costs a waiter
one extra query) and moves the count once, so waiters query again to catch up. ``wait`` also
returns after its timeout whatever happened: a waiter then falls back to a query at that (long)
interval, which covers a feed that cannot connect at all.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fedledger.errors import LedgerError
from fedledger.ledger.interface import ChaincodeEvent, Contract

__all__ = ["EventCursor", "EventFeed", "event_json"]


def event_json(event: ChaincodeEvent) -> dict[str, Any]:
    """An event as JSON: block, transaction, name and its payload (parsed when it is JSON)."""
    try:
        payload: Any = json.loads(event.payload)
    except ValueError:
        payload = event.payload.decode("utf-8", "replace")
    return {"block": event.block_number, "tx_id": event.tx_id, "name": event.name,
            "payload": payload}  # fmt: skip

@dataclass
class EventCursor:
    """Where to reopen an event stream: the block of the last event taken, and the events of that
    block already taken (a stream reopened from that block sends them again)."""

    block: int | None
    seen: set[tuple[int, str, str]] = field(default_factory=set)

    def take(self, event: ChaincodeEvent) -> bool:
        """Move the cursor past ``event``; return False when it was taken before (a repeat)."""
        identity = (event.block_number, event.tx_id, event.name)
        if identity in self.seen:
            return False
        if event.block_number != self.block:
            self.seen = set()
        self.block = event.block_number
        self.seen.add(identity)
        return True


Accept = Callable[[ChaincodeEvent], bool]


def _everything(_: ChaincodeEvent) -> bool:
    return True


class EventFeed:
    """A background follower of one contract's chaincode events (module docstring)."""

    def __init__(
        self,
        contract: Contract,
        *,
        accept: Accept = _everything,
        start_block: int | None = None,
        stream_seconds: float = 30.0,
        reconnect_seconds: float = 1.0,
    ) -> None:
        """``start_block`` None follows from the newest block; ``stream_seconds`` bounds one
        stream (a new one starts from the checkpoint), ``reconnect_seconds`` paces retries."""
        self._contract = contract
        self._accept = accept
        self._checkpoint = start_block
        self._stream_seconds = stream_seconds
        self._reconnect_seconds = reconnect_seconds
        self._changed = threading.Condition()
        self._count = 0
        self._closed = False
        self._thread = threading.Thread(target=self._follow, name="event-feed", daemon=True)

    def start(self) -> EventFeed:
        """Start following; returns the feed."""
        self._thread.start()
        return self

    @property
    def count(self) -> int:
        """How many accepted events (and reconnects) the feed has seen."""
        with self._changed:
            return self._count

    @property
    def checkpoint(self) -> int | None:
        """The block a new stream starts from: that of the last event seen (None: newest)."""
        with self._changed:
            return self._checkpoint

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the count exceeds ``seen`` or ``timeout`` seconds pass; return the count."""
        with self._changed:
            self._changed.wait_for(lambda: self._count > seen or self._closed, timeout)
            return self._count

    def close(self) -> None:
        """Stop following (the thread ends with its current stream)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def __enter__(self) -> EventFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bump(self, block: int | None = None) -> None:
        with self._changed:
            if block is not None:
                self._checkpoint = block
            self._count += 1
            self._changed.notify_all()

    def _follow(self) -> None:
        while not self._closed:
            start = self.checkpoint
            broke = False
            try:
                for event in self._contract.events(start, timeout=self._stream_seconds):
                    if self._closed:
                        return
                    if self._accept(event):
                        self._bump(event.block_number)
            except LedgerError:
                broke = True
            if self._closed:
                return
            if broke:
                self._bump()  # a broken stream: waiters query once to catch up
                time.sleep(self._reconnect_seconds)
            elif start is None and self.checkpoint is None:
                # A stream "from the newest block" that saw nothing cannot tell whether an event
                # fell between it and the next one: let waiters query once.
                self._bump()
