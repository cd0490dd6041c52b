"""Requests of the prediction market: CreateOffer's offer and ListOffers' options.

Each is a :class:`~fedledger.protocol.codec.Record` that the client sends as canonical JSON and
the chaincode reads with the same record's parser, then checks here (price and fee bounds, the
endpoint's shape, a known CKKS parameter set, a task id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fedledger.protocol.canonical import show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import MAX_INT64, read_int
from fedledger.protocol.predictions import BASIS_POINTS, CKKS_PARAMETER_SETS, parse_endpoint
from fedledger.protocol.training import parse_task_id

__all__ = ["OfferListing", "OfferRequest", "parse_offer_listing", "parse_offer_request"]


@dataclass(frozen=True)
class OfferRequest(Record):
    """What CreateOffer asks for (``offer_json``)."""

    NAME = "offer"

    price: int
    fee_bp: int
    endpoint: str
    params: str


def parse_offer_request(text: str, what: str = "argument 2") -> OfferRequest:
    """Parse ``{"price", "fee_bp", "endpoint", "params"}``.

    Returns the request. Raises ``ProtocolError``: the record's field messages, "price must be a
    positive integer, got 0", "fee_bp must be at most 10000, got …", the endpoint message,
    "params must be one of ckks-n8192-d3, got …".
    """
    request = OfferRequest.from_argument(text, what)
    read_int(request.price, "price", minimum=1, maximum=MAX_INT64)
    read_int(request.fee_bp, "fee_bp", minimum=0, maximum=BASIS_POINTS)
    parse_endpoint(request.endpoint)
    if request.params not in CKKS_PARAMETER_SETS:
        raise ProtocolError(
            f"params must be one of {', '.join(CKKS_PARAMETER_SETS)}, got {show(request.params)}"
        )
    return request


@dataclass(frozen=True)
class OfferListing(Record):
    """ListOffers options: one task's offers or all; withdrawn ones too or not."""

    NAME = "list options"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"task_id", "include_withdrawn"})

    task_id: str | None = None
    include_withdrawn: bool = False


def parse_offer_listing(text: str, what: str = "argument 1") -> OfferListing:
    """Parse ``{"task_id"?, "include_withdrawn"?}`` (defaults: every task, open offers only).

    Returns the options. Raises ``ProtocolError``: the record's field messages, a bad task id.
    """
    listing = OfferListing.from_argument(text, what)
    if listing.task_id is not None:
        parse_task_id(listing.task_id)
    return listing
