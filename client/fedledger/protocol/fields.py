"""Strict readers for the fields of parsed JSON objects, each failing with one clear sentence.

Every reader either returns a value of exactly the promised type or raises ``ProtocolError`` whose
message names the field and shows what was received, e.g. "samples must be a positive integer,
got -3". Booleans are never accepted as integers and numbers with a fraction never as integers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from fedledger.protocol.canonical import quote, show
from fedledger.protocol.errors import ProtocolError

__all__ = [
    "MAX_INT64",
    "check_fields",
    "decode_base64",
    "read_base64",
    "read_int",
    "read_text",
]

# Integers on the ledger stay within a signed 64-bit range so that clients in any language (Go,
# Java, JavaScript with BigInt) read them exactly.
MAX_INT64 = 2**63 - 1


def check_fields(
    obj: dict[str, Any], what: str, required: Iterable[str], optional: Iterable[str] = ()
) -> None:
    """Check that ``obj`` has every required field and nothing unknown.

    Returns nothing. Raises ``ProtocolError``: "<what> has unknown field 'x'" or "<what> is missing
    field 'x'" (the first in sorted order, so the message is deterministic).
    """
    required_set = set(required)
    allowed = required_set | set(optional)
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ProtocolError(f"{what} has unknown field {quote(unknown[0])}")
    missing = sorted(required_set - set(obj))
    if missing:
        raise ProtocolError(f"{what} is missing field {quote(missing[0])}")


def _int_kind(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer of at least {minimum}"


def read_int(value: Any, name: str, *, minimum: int = 0, maximum: int = MAX_INT64) -> int:
    """Read an integer in ``[minimum, maximum]``.

    Returns the integer. Raises ``ProtocolError``: "<name> must be a positive integer, got -3"
    (wrong type or below the minimum), "<name> must be at most <maximum>, got <value>".
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProtocolError(f"{name} must be {_int_kind(minimum)}, got {show(value)}")
    if value > maximum:
        raise ProtocolError(f"{name} must be at most {maximum}, got {show(value)}")
    return value


def read_text(value: Any, name: str, *, max_chars: int, allow_empty: bool = False) -> str:
    """Read a string of at most ``max_chars`` characters, non-blank unless ``allow_empty``.

    Returns the string unchanged. Raises ``ProtocolError``: "<name> must be a string, got 12",
    "<name> must not be empty", "<name> must be at most 4096 characters, got 5000".
    """
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be a string, got {show(value)}")
    if not allow_empty and not value.strip():
        raise ProtocolError(f"{name} must not be empty")
    if len(value) > max_chars:
        raise ProtocolError(f"{name} must be at most {max_chars} characters, got {len(value)}")
    if "\x00" in value:
        raise ProtocolError(f"{name} must not contain NUL characters")
    return value


def decode_base64(text: str, name: str) -> bytes:
    """Decode standard, padded base64 ``text``, refusing any second spelling of the same bytes.

    Returns the decoded bytes. Raises ``ProtocolError``: "<name> is not valid base64", "<name> is
    not canonical base64" (e.g. non-zero padding bits: canonical text keeps one ledger value one
    spelling).
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ProtocolError(f"{name} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ProtocolError(f"{name} is not canonical base64")
    return raw


def read_base64(value: Any, name: str, *, length: int) -> bytes:
    """Read standard, padded, canonical base64 text that decodes to exactly ``length`` bytes.

    Returns the decoded bytes. Raises ``ProtocolError``: "<name> must be base64 text, got 12",
    "<name> is not valid base64", "<name> is not canonical base64" (e.g. non-zero padding bits, so
    that one key has one spelling), "<name> must decode to 32 bytes, got 31".
    """
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be base64 text, got {show(value)}")
    raw = decode_base64(value, name)
    if len(raw) != length:
        raise ProtocolError(f"{name} must decode to {length} bytes, got {len(raw)}")
    return raw
