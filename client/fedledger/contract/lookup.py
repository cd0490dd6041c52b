"""Reading an asset that may not exist yet: the answer, or None when the ledger has none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fedledger.errors import AssetNotFound

__all__ = ["or_none"]

_T = TypeVar("_T")


def or_none(read: Callable[[], _T]) -> _T | None:
    """Return ``read()``, or None when the chaincode answers that the asset does not exist.

    Every other refusal is raised as it is.
    """
    try:
        return read()
    except AssetNotFound:
        return None
