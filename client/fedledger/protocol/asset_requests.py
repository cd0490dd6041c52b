"""Requests about parties and advertisements: RegisterParty, Create/UpdateAdvertisement, listings.

Each request is a :class:`~fedledger.protocol.codec.Record`: the client builds it and sends its
canonical JSON (:meth:`~fedledger.protocol.codec.Record.to_text`); the chaincode reads it with
the same record's parser (exact fields, exact types, the bad field named) and then applies the
semantic checks here (known roles, base64 key length, text bounds, label counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import ClassVar

from fedledger.protocol.assets import (
    KX_PUBLIC_KEY_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_GOAL_CHARS,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    ROLES,
)
from fedledger.protocol.canonical import quote, show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import read_base64, read_int, read_text

__all__ = [
    "AdvertisementListing",
    "AdvertisementRequest",
    "PartyRequest",
    "parse_advertisement_listing",
    "parse_advertisement_request",
    "parse_party_request",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PartyRequest(Record):
    """A RegisterParty argument: the party's roles and its X25519 public key (base64)."""

    NAME = "party"

    roles: tuple[str, ...]
    kx_public_key: str


def _check_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    if not roles:
        raise ProtocolError("roles must not be empty")
    seen: set[str] = set()
    for role in roles:
        if role not in ROLES:
            raise ProtocolError(f"unknown role {show(role)}; roles are {', '.join(ROLES)}")
        if role in seen:
            raise ProtocolError(f"role {quote(role)} is listed twice")
        seen.add(role)
    return tuple(sorted(seen))


def parse_party_request(text: str, what: str = "argument 1") -> PartyRequest:
    """Parse a RegisterParty argument ``{"roles": [...], "kx_public_key": base64}``.

    Returns the request with its roles sorted. Raises ``ProtocolError``: the record's field
    messages ("party.roles must be an array, got 5"), "roles must not be empty", "unknown role
    …", "role 'x' is listed twice", the base64 messages of ``kx_public_key``.
    """
    request = PartyRequest.from_argument(text, what)
    roles = _check_roles(request.roles)
    read_base64(request.kx_public_key, "kx_public_key", length=KX_PUBLIC_KEY_BYTES)
    return replace(request, roles=roles)


@dataclass(frozen=True)
class AdvertisementRequest(Record):
    """A Create/UpdateAdvertisement argument (labels and description_hash may be left out)."""

    NAME = "advertisement"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"labels", "description_hash"})

    description: str
    samples: int
    goal: str
    labels: dict[str, int] = field(default_factory=dict)
    description_hash: str | None = None


def _check_labels(labels: dict[str, int]) -> None:
    if len(labels) > MAX_LABELS:
        raise ProtocolError(f"labels must have at most {MAX_LABELS} entries, got {len(labels)}")
    for label, count in labels.items():
        read_text(label, f"label name {show(label)}", max_chars=MAX_LABEL_CHARS)
        read_int(count, f"labels[{show(label)}]", minimum=0)


def parse_advertisement_request(text: str, what: str = "argument 1") -> AdvertisementRequest:
    """Parse ``{"description", "samples", "goal", "labels"?, "description_hash"?}``.

    Returns the request (labels default to ``{}``, description_hash to ``None``). Raises
    ``ProtocolError``: the record's field messages, then the text, count and digest bounds.
    """
    request = AdvertisementRequest.from_argument(text, what)
    read_text(request.description, "description", max_chars=MAX_DESCRIPTION_CHARS)
    read_int(request.samples, "samples", minimum=1)
    read_text(request.goal, "goal", max_chars=MAX_GOAL_CHARS)
    _check_labels(request.labels)
    digest = request.description_hash
    if digest is not None and not _HEX64.fullmatch(digest):
        raise ProtocolError(
            f"description_hash must be 64 lowercase hex digits (SHA-256), got {show(digest)}"
        )
    return request


@dataclass(frozen=True)
class AdvertisementListing(Record):
    """ListAdvertisements options: withdrawn advertisements too or not (default not)."""

    NAME = "list options"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"include_withdrawn"})

    include_withdrawn: bool = False


def parse_advertisement_listing(text: str, what: str = "argument 1") -> AdvertisementListing:
    """Parse ``{"include_withdrawn"?: bool}``; raises ``ProtocolError`` naming the bad field."""
    return AdvertisementListing.from_argument(text, what)
