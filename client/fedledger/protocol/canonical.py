"""Canonical JSON: exactly one byte string per value, and a strict parser for JSON arguments.

Canonical form (what the chaincode stores and returns, so every endorsing peer produces the same
bytes): UTF-8, object keys sorted by Unicode code point, no insignificant whitespace, non-ASCII
characters written as themselves, and only null, booleans, integers, strings, arrays and objects
with string keys. Floats are refused outright: nothing that decides ledger state may depend on
floating-point rounding.

The strict parser rejects what ``json.loads`` lets through: duplicate object keys, ``NaN`` and
``Infinity``. Numbers with a fraction or an exponent are returned as :class:`decimal.Decimal` so
that a schema can say exactly which field should have been an integer ("samples must be a
positive integer, got 1.5"); :func:`dumps` refuses them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fedledger.protocol.errors import ProtocolError

__all__ = ["dumps", "loads", "parse_array", "parse_object", "quote", "show"]

# Longest rendering of a user-supplied value inside an error message: messages must stay short
# even when the offending value is megabytes long.
_SHOW_LIMIT = 64


class _Rejected(Exception):
    """Raised inside the decoder hooks; turned into a ProtocolError by :func:`loads`."""


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Rejected(f"duplicate key {quote(key)}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise _Rejected(f"{name} is not allowed")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs_without_duplicates,
    parse_constant=_no_constants,
    parse_float=Decimal,
)


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly.

    Returns the value, with non-integer numbers as ``Decimal``. Raises ``ProtocolError`` whose
    message is the reason only (callers add what was being parsed): malformed JSON, duplicate keys,
    NaN/Infinity, integers too long to convert, nesting too deep, or bytes that are not UTF-8.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"not valid UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        return _DECODER.decode(text)
    except _Rejected as exc:
        raise ProtocolError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(str(exc)) from None
    except RecursionError:
        raise ProtocolError("nesting is too deep") from None
    except ValueError as exc:  # int() refuses integers longer than sys.get_int_max_str_digits()
        raise ProtocolError(f"a number is too long: {exc}") from None


def parse_object(text: str, what: str) -> dict[str, Any]:
    """Parse ``text`` as a strict JSON object; ``what`` names it in messages ("argument 1").

    Returns the object. Raises ``ProtocolError``: "argument 1 must be a JSON object: <reason>" for
    malformed JSON, "argument 1 must be a JSON object, got an array" for other JSON values.
    """
    value: dict[str, Any] = _parse_as(text, what, dict, "object")
    return value


def parse_array(text: str, what: str) -> list[Any]:
    """Parse ``text`` as a strict JSON array; messages as for :func:`parse_object`."""
    value: list[Any] = _parse_as(text, what, list, "array")
    return value


def _parse_as(text: str, what: str, kind: type, noun: str) -> Any:
    """Parse ``text`` as strict JSON that must be a ``kind`` (a JSON ``noun``)."""
    try:
        value = loads(text)
    except ProtocolError as exc:
        raise ProtocolError(f"{what} must be a JSON {noun}: {exc}") from None
    if not isinstance(value, kind):
        raise ProtocolError(f"{what} must be a JSON {noun}, got {show(value)}")
    return value


def _check_canonical(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_canonical(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProtocolError(f"canonical JSON needs string keys, got {key!r} at {path}")
            _check_canonical(item, f"{path}.{key}")
        return
    raise ProtocolError(f"canonical JSON cannot hold {type(value).__name__} at {path}")


def dumps(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes.

    Returns UTF-8 bytes. Raises ``ProtocolError`` for floats, decimals, tuples, non-string keys,
    any other non-JSON type, and strings that cannot be encoded as UTF-8 (lone surrogates).
    """
    _check_canonical(value, "$")
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProtocolError(f"canonical JSON needs valid Unicode text: {exc.reason}") from None


def show(value: Any) -> str:
    """Render a JSON value for an error message: JSON-like, and cut to a bounded length.

    Returns e.g. ``-3``, ``1.5``, ``true``, ``"Org1"``, ``an array``, ``an object``.
    """
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int):
        # str() of a huge integer is slow and may be refused outright; its size is what matters.
        bits = value.bit_length()
        text = str(value) if bits < 200 else f"an integer of {bits} bits"
    else:
        text = str(value)
    if len(text) > _SHOW_LIMIT:
        text = text[: _SHOW_LIMIT - 1] + "…"
    return text


def quote(name: str) -> str:
    """Render a name (field, key, role, function) for an error message: ``'name'``, cut short."""
    if len(name) > _SHOW_LIMIT:
        name = name[: _SHOW_LIMIT - 1] + "…"
    return f"'{name}'"
