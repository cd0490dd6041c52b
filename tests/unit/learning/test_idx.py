"""Tests for the IDX reader: every header field and the payload length are checked."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from fedledger.errors import DatasetError
from fedledger.learning.idx import parse_idx, read_idx

from .idx_files import idx_bytes, write_idx


@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-3, 0, 7], dtype=np.int8),
        np.array([[-300, 2], [5, 30000]], dtype=np.int16),
        np.array([1, -(2**31)], dtype=np.int32),
        np.array([0.5, -1.25], dtype=np.float32),
        np.array([[1e-300], [2.0]], dtype=np.float64),
    ],
)
def test_parse_returns_values_shape_and_type(array: np.ndarray) -> None:
    # Execute
    parsed = parse_idx(idx_bytes(array))

    # Assert
    assert parsed.shape == array.shape
    assert parsed.dtype == array.dtype
    np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize("name", ["labels", "labels.gz"])
def test_read_handles_plain_and_gzip_files(tmp_path: Path, name: str) -> None:
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = write_idx(tmp_path / name, labels)
    np.testing.assert_array_equal(read_idx(path), labels)


def test_mnist_image_header_is_magic_2051() -> None:
    # The published MNIST image magic number, as a cross-check of the writer used in these tests.
    header = idx_bytes(np.zeros((1, 28, 28), dtype=np.uint8))[:4]
    assert int.from_bytes(header, "big") == 2051


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "too short for an IDX header"),
        (b"\x1f\x8b\x08\x01" + bytes(8), r"bad magic number 0x1f8b0801"),
        (b"\x00\x00\x07\x01" + bytes(8), "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "header truncated; 3 dimensions need 16 bytes"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05" + bytes(4), "5 bytes of data.*holds 4 bytes"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02" + bytes(3), "2 bytes of data.*holds 3 bytes"),
        (b"\x00\x00\x0b\x01\x00\x00\x00\x02" + bytes(2), "4 bytes of data.*holds 2 bytes"),
    ],
)
def test_malformed_idx_is_rejected_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_idx(data)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_idx(tmp_path / "absent")


def test_corrupt_gzip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(10, dtype=np.uint8)))[:-12])
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(path)


def test_file_that_is_not_gzip_despite_its_name_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(idx_bytes(np.zeros(10, dtype=np.uint8)))
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(path)
