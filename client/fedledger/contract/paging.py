"""Reading a whole listing: every page of a bookmark-paged query, and JSON arrays of records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from fedledger.protocol.canonical import loads
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError

__all__ = ["all_pages", "records_of"]

_R = TypeVar("_R", bound=Record)
_T = TypeVar("_T")


def records_of(kind: type[_R], payload: bytes) -> list[_R]:
    """Read a JSON array of ``kind`` records (what List* transactions return).

    Raises ``ProtocolError`` when the payload is not an array or an element is not a ``kind``.
    """
    items = loads(payload)
    if not isinstance(items, list):
        raise ProtocolError(f"a list of {kind.NAME} records must be a JSON array")
    return [kind.from_dict(item, f"{kind.NAME}[{index}]") for index, item in enumerate(items)]


def all_pages(read_page: Callable[[str | None], tuple[list[_T], str | None]]) -> Iterator[_T]:
    """Yield every item of a paged listing, page after page, until no bookmark comes back.

    ``read_page(bookmark)`` returns one page's items and the bookmark of the next page (None
    on the last); the first call gets None.
    """
    bookmark: str | None = None
    while True:
        items, bookmark = read_page(bookmark)
        yield from items
        if bookmark is None:
            return
