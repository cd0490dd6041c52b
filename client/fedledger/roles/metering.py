"""Measuring a role without interleaving clocks with its protocol: phase timers and a meter.

:class:`PhaseTimer` adds up wall time per named phase (``with timer("train"): ...``), and
:class:`MeteredContract` wraps a ``Contract`` to count the calls that reach the ledger, the bytes
they carry and the time spent in them. A role takes a snapshot before a round and reports the
difference after it; the protocol code itself never reads a clock for measuring.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fedledger.ledger.identity import Identity
from fedledger.ledger.interface import ChaincodeEvent, Contract

__all__ = ["LedgerUsage", "MeteredContract", "PhaseTimer"]


class PhaseTimer:
    """Wall seconds per phase name, added up over every ``with timer(name)`` block."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block under ``name`` (also when it raises)."""
        start = self._clock()
        try:
            yield
        finally:
            self._seconds[name] += self._clock() - start

    def add(self, name: str, seconds: float) -> None:
        """Count ``seconds`` spent elsewhere (e.g. ahead of the round) under ``name``."""
        self._seconds[name] += seconds

    def seconds(self) -> dict[str, float]:
        """The seconds per phase so far, rounded to milliseconds."""
        return {name: round(value, 3) for name, value in self._seconds.items()}


@dataclass(frozen=True)
class LedgerUsage:
    """What reached the ledger: calls (submits and queries), bytes sent and received, seconds."""

    submits: int = 0
    queries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0

    def __sub__(self, other: LedgerUsage) -> LedgerUsage:
        return LedgerUsage(
            self.submits - other.submits,
            self.queries - other.queries,
            self.bytes_sent - other.bytes_sent,
            self.bytes_received - other.bytes_received,
            round(self.seconds - other.seconds, 3),
        )

    @property
    def calls(self) -> int:
        """Round trips to the ledger."""
        return self.submits + self.queries


class MeteredContract:
    """A ``Contract`` that counts what passes through it (thread-safe enough for counters)."""

    def __init__(self, contract: Contract, clock: Callable[[], float] = time.perf_counter) -> None:
        self._contract = contract
        self._clock = clock
        self._usage = LedgerUsage()

    @property
    def identity(self) -> Identity:
        """The wrapped contract's identity."""
        return self._contract.identity

    @property
    def usage(self) -> LedgerUsage:
        """Everything counted so far."""
        return self._usage

    def submit(self, function: str, *args: str) -> bytes:
        """Submit through the wrapped contract, counted."""
        return self._call(True, self._contract.submit, function, args)

    def evaluate(self, function: str, *args: str) -> bytes:
        """Evaluate through the wrapped contract, counted."""
        return self._call(False, self._contract.evaluate, function, args)

    def events(
        self, start_block: int | None = 0, *, timeout: float | None = None
    ) -> Iterator[ChaincodeEvent]:
        """The wrapped contract's events (a stream, not counted as calls)."""
        return self._contract.events(start_block, timeout=timeout)

    def _call(
        self, submit: bool, call: Callable[..., bytes], function: str, args: tuple[str, ...]
    ) -> bytes:
        sent = len(function) + sum(len(a) for a in args)
        start = self._clock()
        try:
            answer = call(function, *args)
        finally:
            elapsed = self._clock() - start
            u = self._usage
            self._usage = LedgerUsage(
                u.submits + submit, u.queries + (not submit), u.bytes_sent + sent,
                u.bytes_received, u.seconds + elapsed,
            )  # fmt: skip
        u = self._usage
        self._usage = LedgerUsage(
            u.submits, u.queries, u.bytes_sent, u.bytes_received + len(answer), u.seconds
        )
        return answer
