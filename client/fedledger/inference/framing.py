"""Reading strict length-prefixed binary messages: every byte accounted for, or an error."""

from __future__ import annotations

import struct

from fedledger.errors import InferenceError

__all__ = ["Reader"]


class Reader:
    """Reads fields of ``what`` from ``data`` in order; InferenceError on truncation or excess."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.what = what
        self.offset = 0

    def take(self, count: int, field: str) -> bytes:
        """The next ``count`` bytes, named ``field`` in the error if they are missing."""
        if self.offset + count > len(self.data):
            raise InferenceError(f"{self.what} is truncated in its {field}")
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def uint(self, size: int, field: str) -> int:
        """The next unsigned big-endian integer of ``size`` bytes (1, 2 or 4)."""
        fmt = {1: ">B", 2: ">H", 4: ">I"}[size]
        value: int = struct.unpack(fmt, self.take(size, field))[0]
        return value

    def prefixed(self, size: int, field: str) -> bytes:
        """Bytes preceded by their length as a ``size``-byte unsigned integer."""
        return self.take(self.uint(size, f"{field} length"), field)

    def expect(self, magic: bytes, version: int) -> None:
        """Check the message's magic bytes and version byte."""
        if self.take(len(magic), "magic") != magic:
            raise InferenceError(f"{self.what} has the wrong magic bytes")
        found = self.uint(1, "version")
        if found != version:
            raise InferenceError(
                f"{self.what} version {found} is not supported (expected {version})"
            )

    def finish(self) -> None:
        """Raise InferenceError if bytes are left over."""
        if self.offset != len(self.data):
            raise InferenceError(f"{self.what} has {len(self.data) - self.offset} trailing bytes")
