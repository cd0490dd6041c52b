"""SEAL objects to bytes and back, with the checks a server needs before it parses anything.

TenSEAL's SEAL binding saves and loads only through files, so each conversion goes through a
private temporary file (never holding a secret key: only ciphertexts and public evaluation keys
are serialised here). Untrusted bytes are checked before SEAL sees them: a maximum size, SEAL's
16-byte header (magic 0xA15E, header size 16, version 4.x, a known compression mode, and a total
size equal to the byte count). SEAL's own ``load`` then checks the object against the context
(parameters, coefficient ranges); any failure becomes an InferenceError naming what was wrong.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Callable
from typing import Any

from fedledger.errors import InferenceError

__all__ = ["check_header", "load_object", "save_object"]

_HEADER = struct.Struct("<HBBBBHQ")
_MAGIC = 0xA15E
_COMPRESSION_MODES = (0, 1, 2)  # none, zlib, zstd


def save_object(obj: Any) -> bytes:
    """The bytes SEAL writes for ``obj`` (a ciphertext, key set, or Serializable of one)."""
    fd, path = tempfile.mkstemp(prefix="fedledger-seal-")
    os.close(fd)
    try:
        obj.save(path)
        with open(path, "rb") as handle:
            return handle.read()
    finally:
        os.unlink(path)


def check_header(data: bytes, what: str, max_bytes: int) -> None:
    """Raise InferenceError unless ``data`` starts with a plausible SEAL header of its length."""
    if len(data) > max_bytes:
        raise InferenceError(f"{what} is {len(data)} bytes; the limit is {max_bytes}")
    if len(data) < _HEADER.size:
        raise InferenceError(f"{what} is truncated: {len(data)} bytes, no SEAL header")
    magic, header_size, major, _minor, compression, _reserved, size = _HEADER.unpack_from(data)
    if magic != _MAGIC or header_size != _HEADER.size:
        raise InferenceError(f"{what} is not a SEAL object (bad magic or header)")
    if major != 4:
        raise InferenceError(f"{what} has SEAL version {major}; expected 4")
    if compression not in _COMPRESSION_MODES:
        raise InferenceError(f"{what} names unknown compression mode {compression}")
    if size != len(data):
        raise InferenceError(f"{what} claims {size} bytes but has {len(data)}")


def load_object(
    data: bytes, what: str, max_bytes: int, make: Callable[[], Any], context: Any
) -> Any:
    """Parse untrusted ``data`` into a new object from ``make()`` loaded against ``context``.

    Returns the object. Raises InferenceError naming ``what`` when the size, the header or SEAL's
    own validation against the context fails.
    """
    check_header(data, what, max_bytes)
    fd, path = tempfile.mkstemp(prefix="fedledger-seal-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        obj = make()
        try:
            obj.load(context, path)
        except (RuntimeError, ValueError, TypeError, MemoryError) as exc:
            raise InferenceError(f"{what} does not parse for these CKKS parameters: {exc}") from exc
        return obj
    finally:
        os.unlink(path)
