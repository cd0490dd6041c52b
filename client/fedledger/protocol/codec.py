"""One parser and one serialiser for every record that crosses the client-chaincode boundary.

A record is a frozen dataclass deriving from :class:`Record`; its field annotations are its
schema. :meth:`Record.to_dict` / :meth:`Record.to_bytes` write it (canonical JSON, every field,
``None`` as null, tuples as arrays) and :meth:`Record.from_dict` / :meth:`Record.from_bytes` read
it strictly: exactly the declared fields, each of exactly its type (no bool for int, no float at
all), nested records and containers checked element by element. The chaincode writes records
with it and the clients read query results with it, so both sides agree on every field by
construction. Supported field types: ``int``, ``str``, ``bool``, ``X | None``, ``tuple[X, ...]``,
``dict[str, X]`` and nested records. Standard library only.

A request record may name ``OPTIONAL`` fields (they need a dataclass default): such a field may
be absent when read (it takes its default) and is left out when written while it equals its
default, so a request says only what its sender chose. Stored records declare none: they always
carry every field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any, ClassVar, Self

from fedledger.protocol.canonical import dumps, loads, parse_object, quote, show
from fedledger.protocol.errors import ProtocolError

__all__ = ["Record"]


class Record:
    """Base class of typed records (module docstring). Subclasses are frozen dataclasses."""

    NAME: ClassVar[str] = "record"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON values (optional fields at their default left out)."""
        return {
            f.name: _encode(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.name not in self.OPTIONAL or getattr(self, f.name) != _default(f)
        }

    def to_bytes(self) -> bytes:
        """Return the canonical JSON bytes of the record (what the ledger stores)."""
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: Any, what: str | None = None) -> Self:
        """Read a record from parsed JSON; raises ``ProtocolError`` naming the first bad field."""
        where = what or cls.NAME
        if not isinstance(obj, dict):
            raise ProtocolError(f"{where} must be a JSON object, got {show(obj)}")
        hints = _hints(cls)  # type: ignore[arg-type]
        unknown = sorted(set(obj) - set(hints))
        if unknown:
            raise ProtocolError(f"{where} has unknown field {quote(unknown[0])}")
        missing = sorted(set(hints) - set(obj) - cls.OPTIONAL)
        if missing:
            raise ProtocolError(f"{where} is missing field {quote(missing[0])}")
        values = {
            name: _decode(hint, obj[name], f"{where}.{name}")
            for name, hint in hints.items()
            if name in obj
        }
        return cls(**values)

    @classmethod
    def from_bytes(cls, data: bytes | str, what: str | None = None) -> Self:
        """Parse JSON bytes into a record; raises ``ProtocolError`` for malformed input."""
        where = what or cls.NAME
        try:
            obj = loads(data)
        except ProtocolError as exc:
            raise ProtocolError(f"{where} is not valid JSON: {exc}") from None
        return cls.from_dict(obj, where)

    @classmethod
    def from_argument(cls, text: str, what: str) -> Self:
        """Parse a transaction argument holding the record (``what`` names the argument).

        Returns the record. Raises ``ProtocolError``: "argument 1 must be a JSON object: <reason>"
        for malformed JSON, then the messages of :meth:`from_dict` under the record's ``NAME``.
        """
        return cls.from_dict(parse_object(text, what))

    def to_text(self) -> str:
        """Return the canonical JSON of the record as text: how a client sends it as an argument."""
        return self.to_bytes().decode("utf-8")


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


@cache
def _hints(cls: type) -> dict[str, Any]:
    names = [f.name for f in dataclasses.fields(cls)]
    hints = typing.get_type_hints(cls)
    return {name: hints[name] for name in names}


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is None:
            return None
        return _decode(options[0], value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError(f"{where} must be an array, got {show(value)}")
        item = typing.get_args(hint)[0]
        return tuple(_decode(item, entry, f"{where}[{i}]") for i, entry in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{where} must be an object, got {show(value)}")
        item = typing.get_args(hint)[1]
        return {key: _decode(item, entry, f"{where}[{quote(key)}]") for key, entry in value.items()}
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value, where)
    return _scalar(hint, value, where)


def _scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ProtocolError(f"{where} must be true or false, got {show(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"{where} must be an integer, got {show(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ProtocolError(f"{where} must be a string, got {show(value)}")
        return value
    raise TypeError(f"{where}: unsupported record field type {hint!r}")
