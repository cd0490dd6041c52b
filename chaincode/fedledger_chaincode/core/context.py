"""The transaction context that contract code is written against, independent of any shim.

Two implementations exist: ``shim_context.ShimContext`` over fabric-chaincode-python's stub, and
the in-memory ledger's context in ``fedledger.ledger.memory``. Both share the semantics Fabric gives
a transaction:

- reads (``get_state``, ``get_range``, ``history``) see the committed world state, never the
  transaction's own pending writes;
- writes (``put_state``) and the event (``set_event``; Fabric keeps one per transaction, the last
  one set) are buffered here and only leave the context after the transaction function returned
  successfully, so a rejected transaction writes nothing;
- the creator, transaction id and timestamp come from the signed proposal, never from a clock;
- ``config`` holds the contract's network-wide settings (:mod:`fedledger_chaincode.core.config`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fedledger.protocol.canonical import show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import NotFoundError, ProtocolError
from fedledger_chaincode.core.config import ContractConfig

__all__ = [
    "COMPOSITE_KEY_NAMESPACE",
    "Creator",
    "Event",
    "HistoryRecord",
    "TransactionContext",
    "TxTimestamp",
    "composite_key_range_end",
    "create_composite_key",
    "key_after",
    "load",
    "load_record",
    "split_composite_key",
]

_R = TypeVar("_R", bound=Record)

# Fabric's composite key layout: U+0000, object type, U+0000, each attribute followed by U+0000.
COMPOSITE_KEY_NAMESPACE = "\x00"
_MIN_RUNE = "\x00"
_MAX_RUNE = "\U0010ffff"


@dataclass(frozen=True, order=True)
class TxTimestamp:
    """The transaction timestamp from the proposal's channel header."""

    seconds: int
    nanos: int


@dataclass(frozen=True)
class Creator:
    """The transaction's creator: its MSP id and its certificate as PEM bytes."""

    msp_id: str
    certificate_pem: bytes


@dataclass(frozen=True)
class HistoryRecord:
    """One committed modification of a key."""

    tx_id: str
    timestamp: TxTimestamp
    value: bytes
    is_delete: bool


@dataclass(frozen=True)
class Event:
    """The chaincode event a transaction sets."""

    name: str
    payload: bytes


def _check_attribute(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{what} must be a non-empty string, got {show(value)}")
    if _MIN_RUNE in value or _MAX_RUNE in value:
        raise ProtocolError(f"{what} must not contain U+0000 or U+10FFFF")
    return value


def create_composite_key(object_type: str, attributes: Sequence[str]) -> str:
    """Return Fabric's composite key for ``object_type`` and ``attributes``.

    Raises ``ProtocolError`` when the type or an attribute is empty, not a string, or contains
    U+0000 or U+10FFFF (they delimit composite keys and ranges).
    """
    parts = [_check_attribute(object_type, "object type")]
    parts += [_check_attribute(a, "key attribute") for a in attributes]
    return COMPOSITE_KEY_NAMESPACE + "".join(part + _MIN_RUNE for part in parts)


def composite_key_range_end(start_key: str) -> str:
    """Return the exclusive end of the range of keys that start with ``start_key``."""
    return start_key + _MAX_RUNE


def key_after(key: str) -> str:
    """Return the smallest string greater than ``key``: where a page after ``key`` starts."""
    return key + _MIN_RUNE


def split_composite_key(key: str) -> tuple[str, list[str]]:
    """Return (object type, attributes) of a composite key.

    Raises ``ProtocolError`` when ``key`` is not a composite key.
    """
    if not key.startswith(COMPOSITE_KEY_NAMESPACE) or not key.endswith(_MIN_RUNE) or len(key) < 3:
        raise ProtocolError(f"{show(key)} is not a composite key")
    parts = key[1:-1].split(_MIN_RUNE)
    return parts[0], parts[1:]


class TransactionContext(ABC):
    """What a transaction function may see and do. Subclasses provide the reads."""

    def __init__(
        self,
        *,
        tx_id: str,
        tx_timestamp: TxTimestamp,
        creator: Creator,
        config: ContractConfig | None = None,
    ) -> None:
        self._config = config if config is not None else ContractConfig()
        self._tx_id = tx_id
        self._tx_timestamp = tx_timestamp
        self._creator = creator
        self._writes: dict[str, bytes] = {}
        self._event: Event | None = None

    @property
    def config(self) -> ContractConfig:
        """The contract's network-wide settings."""
        return self._config

    @property
    def tx_id(self) -> str:
        """The transaction id."""
        return self._tx_id

    @property
    def tx_timestamp(self) -> TxTimestamp:
        """The transaction timestamp chosen by the client and signed in the proposal."""
        return self._tx_timestamp

    @property
    def creator(self) -> Creator:
        """The identity that signed the proposal."""
        return self._creator

    @abstractmethod
    async def get_state(self, key: str) -> bytes:
        """Return the committed value of ``key``, ``b""`` when absent."""

    @abstractmethod
    async def get_range(
        self, object_type: str, attributes: Sequence[str]
    ) -> list[tuple[str, bytes]]:
        """Return committed (key, value) pairs under a partial composite key, in key order."""

    @abstractmethod
    async def get_range_page(
        self, object_type: str, attributes: Sequence[str], *, after: str | None, limit: int
    ) -> list[tuple[str, bytes]]:
        """Return at most ``limit`` committed pairs under a partial composite key, in key order,
        starting after the state key ``after`` (from the first key when None)."""

    @abstractmethod
    async def history(self, key: str) -> list[HistoryRecord]:
        """Return the committed modifications of ``key``, newest first (Fabric's order)."""

    def put_state(self, key: str, value: bytes) -> None:
        """Buffer a write of ``value`` to ``key``; the last write of a key wins.

        Raises ``ValueError`` for an empty key or value: Fabric treats an empty value as a delete,
        which contract code must ask for explicitly, never by accident.
        """
        if not key:
            raise ValueError("a state key must not be empty")
        if not isinstance(value, bytes) or not value:
            raise ValueError(f"the value written to {key!r} must be non-empty bytes")
        self._writes[key] = value

    def set_event(self, name: str, payload: bytes) -> None:
        """Set the transaction's event, replacing any event set before (Fabric keeps one)."""
        if not name:
            raise ValueError("an event name must not be empty")
        self._event = Event(name, bytes(payload))

    @property
    def writes(self) -> dict[str, bytes]:
        """The buffered writes, in the order their keys were first written."""
        return dict(self._writes)

    @property
    def event(self) -> Event | None:
        """The buffered event, if any."""
        return self._event


async def load_bytes(ctx: TransactionContext, state_key: str, missing: str) -> bytes:
    """Return the bytes committed under ``state_key``, as a Get transaction answers them.

    Raises ``NotFoundError(missing)`` when the key has no value: callers pass the exact message
    the client sees, which is part of the chaincode's interface.
    """
    stored = await ctx.get_state(state_key)
    if not stored:
        raise NotFoundError(missing)
    return stored


async def load_record(ctx: TransactionContext, state_key: str, missing: str) -> dict[str, Any]:
    """Return the JSON record committed under ``state_key``.

    Raises ``NotFoundError(missing)`` when the key has no value: callers pass the exact message
    the client sees, which is part of the chaincode's interface.
    """
    record: dict[str, Any] = json.loads(await load_bytes(ctx, state_key, missing))
    return record


async def load(ctx: TransactionContext, kind: type[_R], state_key: str, missing: str) -> _R:
    """Return the typed record committed under ``state_key``.

    Raises ``NotFoundError(missing)`` when the key has no value (callers pass the exact message
    the client sees).
    """
    return kind.from_bytes(await load_bytes(ctx, state_key, missing))
