"""The prediction market: offers, paid requests, receipts, reclaims and disputes.

Transactions that move credits answer with their record plus the event's ``transfers`` and
``balances`` fields; the functions here return the record alone (read the movements from the
chaincode event with :func:`fedledger.protocol.tokens.parse_transfer_event`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fedledger.contract.paging import records_of
from fedledger.ledger.interface import Contract
from fedledger.protocol.canonical import loads
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.prediction_requests import OfferListing, OfferRequest
from fedledger.protocol.predictions import (
    PredictionDispute,
    PredictionOffer,
    PredictionReceipt,
    PredictionRequest,
)

__all__ = [
    "create_offer",
    "get_dispute",
    "get_offer",
    "get_receipt",
    "get_request",
    "list_offers",
    "pay_for",
    "reclaim",
    "record_dispute",
    "submit_receipt",
    "withdraw_offer",
]

_EVENT_FIELDS = ("transfers", "balances")


def _record_of(payload: bytes) -> dict[str, Any]:
    """The record part of a transaction's answer (without the credits fields)."""
    obj = loads(payload)
    if not isinstance(obj, dict):
        raise ProtocolError("a prediction answer must be a JSON object")
    return {k: v for k, v in obj.items() if k not in _EVENT_FIELDS}


def create_offer(contract: Contract, task_id: str, request: OfferRequest) -> PredictionOffer:
    """Offer predictions of ``task_id``'s current model; returns the stored offer."""
    return PredictionOffer.from_bytes(contract.submit("CreateOffer", task_id, request.to_text()))


def withdraw_offer(contract: Contract, offer_id: str) -> PredictionOffer:
    """Withdraw one's own offer; returns it as stored."""
    return PredictionOffer.from_bytes(contract.submit("WithdrawOffer", offer_id))


def get_offer(contract: Contract, offer_id: str) -> PredictionOffer:
    """The stored offer (AssetNotFound when there is none)."""
    return PredictionOffer.from_bytes(contract.evaluate("GetOffer", offer_id))


def list_offers(
    contract: Contract, task_id: str | None = None, *, include_withdrawn: bool = False
) -> list[PredictionOffer]:
    """Offers in id order: one task's or every task's, open ones unless ``include_withdrawn``."""
    listing = OfferListing(task_id, include_withdrawn)
    return records_of(PredictionOffer, contract.evaluate("ListOffers", listing.to_text()))


def pay_for(
    contract: Contract, offer_id: str, ciphertext: bytes, ttl_seconds: int
) -> PredictionRequest:
    """Pay the offer's price into escrow for exactly ``ciphertext``; returns the request."""
    digest = hashlib.sha256(ciphertext).hexdigest()
    payload = contract.submit("RequestPrediction", offer_id, digest, str(ttl_seconds))
    return PredictionRequest.from_dict(_record_of(payload))


def get_request(contract: Contract, request_id: str) -> PredictionRequest:
    """The stored request (AssetNotFound when there is none)."""
    return PredictionRequest.from_bytes(contract.evaluate("GetPredictionRequest", request_id))


def submit_receipt(contract: Contract, request_id: str, response_sha256: str) -> PredictionReceipt:
    """The provider's receipt of its answer's digest, which releases the escrow."""
    payload = contract.submit("SubmitReceipt", request_id, response_sha256)
    return PredictionReceipt.from_dict(_record_of(payload))


def get_receipt(contract: Contract, request_id: str) -> PredictionReceipt:
    """The receipt of a request (AssetNotFound while there is none)."""
    return PredictionReceipt.from_bytes(contract.evaluate("GetPredictionReceipt", request_id))


def reclaim(contract: Contract, request_id: str) -> PredictionRequest:
    """Take the price of an unanswered request back after its deadline; returns it closed."""
    return PredictionRequest.from_dict(_record_of(contract.submit("ReclaimPrediction", request_id)))


def record_dispute(contract: Contract, first: str, second: str) -> PredictionDispute:
    """Record that two receipted requests of the caller got different answers."""
    return PredictionDispute.from_bytes(contract.submit("RecordDispute", first, second))


def get_dispute(contract: Contract, dispute_id: str) -> PredictionDispute:
    """A recorded dispute (AssetNotFound when there is none)."""
    return PredictionDispute.from_bytes(contract.evaluate("GetDispute", dispute_id))
