"""An in-memory ledger that runs the real fedledger contract in-process, behind ``Contract``.

It mirrors what matters of Fabric for the contract and its clients:

- ``submit`` runs the chaincode's own dispatcher; on success its writes are committed atomically
  as one new block and its event is appended to the event log; on rejection nothing is written and
  ``ContractError`` carries the contract's exact message, the transaction id and stage "endorse";
- reads inside a transaction see committed state, never the transaction's pending writes;
- ``evaluate`` runs the same code and commits nothing (stage "evaluate" on rejection);
- transaction ids are hex SHA-256 of a random 24-byte nonce and the serialized creator, as Fabric
  computes them; timestamps come from an injectable clock (nanoseconds since the epoch), so tests
  can move time without sleeping (see :class:`ManualClock`);
- a client chooses its proposal's timestamp and a peer refuses one further than its time window
  from the peer's clock (``peer.authentication.timewindow``): :meth:`InMemoryContract.skewed`
  gives a client whose clock is off, and the ledger refuses it as a peer would;
- block 0 is the (empty) genesis block; each committed transaction is one block.

Transactions run one at a time under a lock, so the ledger may be shared between threads. The
contract's coroutines are stepped directly instead of through an event loop: they only await this
ledger's reads, which never suspend, and this keeps ``submit`` callable from inside a running loop.
"""

from __future__ import annotations

import bisect
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from functools import partial
from typing import Any

from fedledger.errors import ContractError, GatewayError
from fedledger.ledger.identity import Identity
from fedledger.ledger.interface import ChaincodeEvent
from fedledger_chaincode.core.config import ContractConfig
from fedledger_chaincode.core.context import (
    Creator,
    HistoryRecord,
    TransactionContext,
    TxTimestamp,
    composite_key_range_end,
    create_composite_key,
    key_after,
)
from fedledger_chaincode.core.contract import build_router
from fedledger_chaincode.core.router import Outcome, Router, execute
from fedledger_chaincode.fabric.protos import identities_pb2

__all__ = ["InMemoryContract", "InMemoryLedger", "ManualClock", "transaction_id"]

_NONCE_BYTES = 24
_NANOS_PER_SECOND = 1_000_000_000


class ManualClock:
    """A clock for tests: returns a fixed time (nanoseconds since the epoch) until moved."""

    def __init__(self, start_seconds: int = 1_767_225_600) -> None:
        self._now_ns = start_seconds * _NANOS_PER_SECOND

    def __call__(self) -> int:
        """Return the current time in nanoseconds since the epoch."""
        return self._now_ns

    def advance(self, seconds: int = 0, nanos: int = 0) -> None:
        """Move the clock forward; raises ``ValueError`` for a negative step."""
        step = seconds * _NANOS_PER_SECOND + nanos
        if step < 0:
            raise ValueError("a clock only moves forward")
        self._now_ns += step


def transaction_id(nonce: bytes, identity: Identity) -> str:
    """Return Fabric's transaction id: hex SHA-256 of nonce ‖ serialized SerializedIdentity."""
    creator = identities_pb2.SerializedIdentity(
        mspid=identity.msp_id, id_bytes=identity.certificate_pem
    ).SerializeToString()
    return hashlib.sha256(nonce + creator).hexdigest()


def _run_to_completion(coroutine: Coroutine[Any, Any, Outcome]) -> Outcome:
    """Step a coroutine that never suspends and return its result."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        result: Outcome = stop.value
        return result
    coroutine.close()
    raise RuntimeError("in-memory contract code awaited something other than ledger reads")


class _MemoryContext(TransactionContext):
    """A transaction against the ledger's committed state."""

    def __init__(self, ledger: InMemoryLedger, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ledger = ledger

    async def get_state(self, key: str) -> bytes:
        return self._ledger.get_state(key)

    async def get_range(
        self, object_type: str, attributes: Sequence[str]
    ) -> list[tuple[str, bytes]]:
        start = create_composite_key(object_type, attributes)
        return self._ledger.range(start, composite_key_range_end(start))

    async def get_range_page(
        self, object_type: str, attributes: Sequence[str], *, after: str | None, limit: int
    ) -> list[tuple[str, bytes]]:
        prefix = create_composite_key(object_type, attributes)
        start = prefix if after is None else max(prefix, key_after(after))
        return self._ledger.range(start, composite_key_range_end(prefix))[:limit]

    async def history(self, key: str) -> list[HistoryRecord]:
        return self._ledger.history(key)


class InMemoryLedger:
    """World state, per-key history, a block counter and an event log, all in memory."""

    def __init__(
        self,
        *,
        clock: Callable[[], int] = time.time_ns,
        router: Router | None = None,
        config: ContractConfig | None = None,
    ) -> None:
        self._clock = clock
        self._router = router if router is not None else build_router()
        self._config = config if config is not None else ContractConfig()
        self._state: dict[str, bytes] = {}
        self._sorted_keys: list[str] = []
        self._history: dict[str, list[HistoryRecord]] = {}
        self._events: list[ChaincodeEvent] = []
        self._height = 1  # block 0 is the genesis block
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closed = False

    def contract(self, identity: Identity) -> InMemoryContract:
        """Return the contract as seen by ``identity``."""
        return InMemoryContract(self, identity)

    @property
    def height(self) -> int:
        """Number of blocks, genesis included; the next commit goes into block ``height``."""
        with self._lock:
            return self._height

    def get_state(self, key: str) -> bytes:
        """Return the committed value of ``key``, ``b""`` when absent."""
        with self._lock:
            return self._state.get(key, b"")

    def range(self, start_key: str, end_key: str) -> list[tuple[str, bytes]]:
        """Return committed (key, value) pairs with ``start_key <= key < end_key``, in key order."""
        with self._lock:
            low = bisect.bisect_left(self._sorted_keys, start_key)
            high = bisect.bisect_left(self._sorted_keys, end_key)
            return [(key, self._state[key]) for key in self._sorted_keys[low:high]]

    def history(self, key: str) -> list[HistoryRecord]:
        """Return the committed modifications of ``key``, newest first (as Fabric does)."""
        with self._lock:
            return list(reversed(self._history.get(key, [])))

    def snapshot(self) -> tuple[Any, ...]:
        """Return everything a transaction could change: the height, the world state, every
        key's history and the event log (for "a rejection changed nothing" checks)."""
        with self._lock:
            histories = tuple(sorted((k, tuple(v)) for k, v in self._history.items()))
            return self._height, tuple(sorted(self._state.items())), histories, tuple(self._events)

    def fork(self, *, clock: Callable[[], int] | None = None) -> InMemoryLedger:
        """Return an independent ledger holding a copy of this one's blocks, state, histories and
        events, with the same contract and settings (and ``clock`` if given): tests build an
        expensive starting point once and fork it per test."""
        with self._lock:
            other = InMemoryLedger(
                clock=clock or self._clock, router=self._router, config=self._config
            )
            other._state = dict(self._state)
            other._sorted_keys = list(self._sorted_keys)
            other._history = {key: list(records) for key, records in self._history.items()}
            other._events = list(self._events)
            other._height = self._height
            return other

    def event_log(self) -> list[ChaincodeEvent]:
        """Return every committed event, oldest first."""
        with self._lock:
            return list(self._events)

    def close(self) -> None:
        """Wake and end every blocking ``events`` iterator."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def config(self) -> ContractConfig:
        """The contract's settings, as the chaincode servers of a network are given them."""
        return self._config

    def run(
        self,
        identity: Identity,
        function: str,
        args: Sequence[str],
        *,
        commit: bool,
        skew_ns: int = 0,
    ) -> bytes:
        """Run one transaction as ``identity``; commit its writes when ``commit`` and it succeeds.

        ``skew_ns`` is how far the client's clock (its proposal timestamp) is off the ledger's.
        Returns the contract's payload. Raises ``ContractError`` (stage "endorse" when committing,
        "evaluate" otherwise) with the contract's message, ``GatewayError`` when the timestamp is
        outside the peers' time window, ``TypeError`` for non-str args.
        """
        for arg in args:
            if not isinstance(arg, str):
                raise TypeError(f"contract arguments are str, got {type(arg).__name__}")
        tx_id = transaction_id(secrets.token_bytes(_NONCE_BYTES), identity)
        stage = "endorse" if commit else "evaluate"
        with self._lock:
            now = self._clock()
            stamp = now + skew_ns
            window = self._config.time_window_seconds * _NANOS_PER_SECOND
            if abs(stamp - now) > window:
                raise GatewayError(
                    stage,
                    f"request unauthorized due to incorrect timestamp {stamp // _NANOS_PER_SECOND}"
                    f", peer time {now // _NANOS_PER_SECOND}, peer.authentication.timewindow "
                    f"{self._config.time_window_seconds}s",
                    tx_id=tx_id,
                )
            ctx = _MemoryContext(
                self,
                tx_id=tx_id,
                tx_timestamp=TxTimestamp(*divmod(stamp, _NANOS_PER_SECOND)),
                creator=Creator(identity.msp_id, identity.certificate_pem),
                config=self._config,
            )
            outcome = _run_to_completion(execute(self._router, ctx, function, list(args)))
            if outcome.error is not None:
                raise ContractError.of_status(
                    outcome.error, outcome.status, tx_id=tx_id, stage=stage
                )
            if commit:
                self._commit(ctx)
            return outcome.payload

    def _commit(self, ctx: TransactionContext) -> None:
        block = self._height
        for key, value in ctx.writes.items():
            if key not in self._state:
                bisect.insort(self._sorted_keys, key)
            self._state[key] = value
            record = HistoryRecord(ctx.tx_id, ctx.tx_timestamp, value, is_delete=False)
            self._history.setdefault(key, []).append(record)
        if ctx.event is not None:
            event = ChaincodeEvent(block, ctx.tx_id, ctx.event.name, ctx.event.payload)
            self._events.append(event)
        self._height = block + 1
        self._changed.notify_all()

    def _has_news(self, seen: int) -> bool:
        return self._closed or seen < len(self._events)

    def events(
        self,
        start_block: int | None = 0,
        *,
        follow: bool = True,
        timeout: float | None = None,
    ) -> Iterator[ChaincodeEvent]:
        """Yield events of blocks ``>= start_block`` (``None``: from the next block on); when
        ``follow``, block for new ones until :meth:`close` or until ``timeout`` seconds pass
        without one, else stop at the end of the log."""
        with self._lock:
            first = self._height if start_block is None else start_block
        index = 0
        while True:
            with self._changed:
                waited = True
                if follow and not self._closed and index >= len(self._events):
                    waited = self._changed.wait_for(partial(self._has_news, index), timeout)
                batch = self._events[index:]
                index += len(batch)
                finished = not follow or self._closed or not waited
            yield from (event for event in batch if event.block_number >= first)
            if finished:
                return


class InMemoryContract:
    """The ``Contract`` of one identity on an :class:`InMemoryLedger`."""

    def __init__(self, ledger: InMemoryLedger, identity: Identity, skew_ns: int = 0) -> None:
        self._ledger = ledger
        self._identity = identity
        self._skew_ns = skew_ns

    def skewed(self, seconds: int) -> InMemoryContract:
        """The same identity on a client whose clock is ``seconds`` ahead (negative: behind).

        Its proposals carry that timestamp, as a client that forges its time within (or beyond)
        the peers' time window would send.
        """
        return InMemoryContract(self._ledger, self._identity, seconds * _NANOS_PER_SECOND)

    @property
    def identity(self) -> Identity:
        """The identity this contract acts as."""
        return self._identity

    def submit(self, function: str, *args: str) -> bytes:
        """Run and commit a transaction; returns its payload, raises ``ContractError``."""
        return self._ledger.run(self._identity, function, args, commit=True, skew_ns=self._skew_ns)

    def evaluate(self, function: str, *args: str) -> bytes:
        """Run a query without committing; returns its payload, raises ``ContractError``."""
        return self._ledger.run(self._identity, function, args, commit=False, skew_ns=self._skew_ns)

    def events(
        self, start_block: int | None = 0, *, follow: bool = True, timeout: float | None = None
    ) -> Iterator[ChaincodeEvent]:
        """Yield chaincode events from ``start_block`` on (see :meth:`InMemoryLedger.events`)."""
        return self._ledger.events(start_block, follow=follow, timeout=timeout)
