"""An in-memory ledger that also measures its chaincode: seconds per transaction function.

Transactions run one at a time under the ledger's lock, so the time is taken inside it: what the
contract itself spent (validation, proofs, the homomorphic product, the writes), not the time a
client waited for another client's transaction. Two clocks: wall seconds, which in a process of
N busy participant threads include waiting for the interpreter lock (and, on a shared machine,
for the CPU), and the transaction thread's CPU seconds (``time.thread_time``), which do not and
are what the contract's work costs on a peer of its own.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger

__all__ = ["ChaincodeTimes", "TimedLedger"]

ChaincodeTimes = dict[str, dict[str, float]]  # function -> {"calls", "seconds", "cpu_seconds"}


class TimedLedger(InMemoryLedger):
    """:class:`InMemoryLedger` that adds up the chaincode seconds of committed transactions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._timing_lock = threading.Lock()
        self._seconds: dict[str, float] = defaultdict(float)
        self._cpu: dict[str, float] = defaultdict(float)
        self._calls: dict[str, int] = defaultdict(int)

    def run(
        self,
        identity: Identity,
        function: str,
        args: Sequence[str],
        *,
        commit: bool,
        skew_ns: int = 0,
    ) -> bytes:
        """Run the transaction as :meth:`InMemoryLedger.run` does; time it when it commits."""
        if not commit:
            return super().run(identity, function, args, commit=commit, skew_ns=skew_ns)
        with self._lock:  # re-entrant: the timed span excludes waiting for other transactions
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return super().run(identity, function, args, commit=commit, skew_ns=skew_ns)
            finally:
                elapsed, used = time.perf_counter() - start, time.thread_time() - cpu
                with self._timing_lock:
                    self._seconds[function] += elapsed
                    self._cpu[function] += used
                    self._calls[function] += 1

    def take_times(self) -> ChaincodeTimes:
        """The seconds and calls per function since the last call, and start counting anew."""
        with self._timing_lock:
            times = {
                name: {
                    "calls": self._calls[name],
                    "seconds": round(seconds, 4),
                    "cpu_seconds": round(self._cpu[name], 4),
                }
                for name, seconds in sorted(self._seconds.items())
            }
            self._seconds.clear()
            self._cpu.clear()
            self._calls.clear()
        return times
