"""A reader for the IDX files MNIST is distributed in (optionally gzip-compressed).

Format: two zero bytes, a type code, the number of dimensions ``d``; then ``d`` big-endian
unsigned 32-bit sizes; then the values, big-endian, in C order. Every header field and the
payload length are checked, so a truncated or foreign file fails with a clear DatasetError
instead of yielding garbage.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from fedledger.errors import DatasetError

__all__ = ["IDX_TYPES", "parse_idx", "read_idx"]

# Type code -> big-endian NumPy dtype.
IDX_TYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` files are decompressed) and return its array.

    Raises DatasetError when the file is missing, unreadable, not valid gzip, or not valid IDX.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                data = handle.read()
        else:
            data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no such file") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    return parse_idx(data, source=str(path))


def parse_idx(data: bytes, *, source: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an IDX file and return its array in native byte order.

    Raises DatasetError for a bad magic number, an unknown type code, a zero dimension count,
    or a payload shorter or longer than the sizes in the header say.
    """
    if len(data) < 4:
        raise DatasetError(f"{source}: {len(data)} bytes is too short for an IDX header")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise DatasetError(
            f"{source}: bad magic number 0x{data[:4].hex()}; an IDX file starts with two zero bytes"
        )
    dtype_name = IDX_TYPES.get(type_code)
    if dtype_name is None:
        raise DatasetError(f"{source}: unknown IDX type code 0x{type_code:02x}")
    if ndim == 0:
        raise DatasetError(f"{source}: IDX header declares zero dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DatasetError(
            f"{source}: header truncated; {ndim} dimensions need {header_size} bytes"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = np.dtype(dtype_name)
    expected = math.prod(shape) * dtype.itemsize
    payload = len(data) - header_size
    if payload != expected:
        raise DatasetError(
            f"{source}: header says shape {shape} ({expected} bytes of data) "
            f"but the file holds {payload} bytes of data"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
