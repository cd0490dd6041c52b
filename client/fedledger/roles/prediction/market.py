"""The prediction market as seen by its clients: offers, paid requests, receipts and reclaims.

Typed calls of the chaincode's prediction transactions over any ``Contract`` (records from
:mod:`fedledger.protocol.predictions`), and the consumer's paid flow: :func:`buy_prediction`
encrypts one input, pays for exactly those ciphertext bytes on the ledger, sends them to the
provider and decrypts the answer. The provider answers only after its receipt has committed
(:mod:`fedledger.roles.prediction.gate`), so an answer is a paid-for answer.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from fedledger.errors import PredictionError
from fedledger.inference.layout import FloatArray
from fedledger.ledger.interface import Contract
from fedledger.protocol.predictions import (
    PredictionOffer,
    PredictionReceipt,
    PredictionRequest,
)
from fedledger.roles.prediction.consumer import Prediction, PredictionConsumer

__all__ = [
    "PaidPrediction",
    "buy_prediction",
    "create_offer",
    "get_offer",
    "get_receipt",
    "get_request",
    "list_offers",
    "pay_for",
    "reclaim",
    "withdraw_offer",
]

_EVENT_FIELDS = ("transfers", "balances")


def _record_of(payload: bytes) -> dict[str, Any]:
    """The record part of a transaction's event payload (without the credits fields)."""
    obj: dict[str, Any] = json.loads(payload)
    return {k: v for k, v in obj.items() if k not in _EVENT_FIELDS}


def create_offer(
    contract: Contract,
    task_id: str,
    *,
    price: int,
    fee_bp: int,
    endpoint: str,
    params: str,
) -> PredictionOffer:
    """Offer predictions of ``task_id``'s current model; returns the stored offer."""
    request = {"price": price, "fee_bp": fee_bp, "endpoint": endpoint, "params": params}
    return PredictionOffer.from_bytes(
        contract.submit("CreateOffer", task_id, json.dumps(request))
    )


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
    options: dict[str, Any] = {"include_withdrawn": include_withdrawn}
    if task_id is not None:
        options["task_id"] = task_id
    raw = json.loads(contract.evaluate("ListOffers", json.dumps(options)))
    return [PredictionOffer.from_dict(item) for item in raw]


def get_request(contract: Contract, request_id: str) -> PredictionRequest:
    """The stored request (AssetNotFound when there is none)."""
    return PredictionRequest.from_bytes(contract.evaluate("GetPredictionRequest", request_id))


def get_receipt(contract: Contract, request_id: str) -> PredictionReceipt:
    """The receipt of a request (AssetNotFound while there is none)."""
    return PredictionReceipt.from_bytes(contract.evaluate("GetPredictionReceipt", request_id))


def pay_for(
    contract: Contract, offer_id: str, ciphertext: bytes, ttl_seconds: int
) -> PredictionRequest:
    """Pay the offer's price into escrow for exactly ``ciphertext``; returns the request."""
    digest = hashlib.sha256(ciphertext).hexdigest()
    payload = contract.submit("RequestPrediction", offer_id, digest, str(ttl_seconds))
    return PredictionRequest.from_dict(_record_of(payload))


def reclaim(contract: Contract, request_id: str) -> PredictionRequest:
    """Take the price of an unanswered request back after its deadline; returns it closed."""
    return PredictionRequest.from_dict(
        _record_of(contract.submit("ReclaimPrediction", request_id))
    )


@dataclass(frozen=True, eq=False)
class PaidPrediction:
    """One bought prediction: the paid request, the decrypted answer and the time paying took."""

    request: PredictionRequest
    prediction: Prediction
    pay_s: float


def buy_prediction(
    contract: Contract,
    consumer: PredictionConsumer,
    offer: PredictionOffer,
    x: FloatArray,
    *,
    ttl_seconds: int,
) -> PaidPrediction:
    """Encrypt ``x``, pay for its ciphertext, send it to the provider and decrypt the answer.

    Raises ContractError when the ledger refuses the payment (e.g. insufficient balance),
    PredictionError when the provider refuses or fails (the payment can then be reclaimed
    after the deadline with :func:`reclaim`).
    """
    ciphertext = consumer.encrypt(x)
    started = time.perf_counter()
    request = pay_for(contract, offer.id, ciphertext, ttl_seconds)
    paid_s = time.perf_counter() - started
    try:
        prediction = consumer.send(request.id, ciphertext)
    except PredictionError as exc:
        raise PredictionError(
            exc.code,
            f"{exc.message}; the paid request {request.id} can be reclaimed from "
            f"{request.deadline} (Unix time) if it stays unanswered",
        ) from exc
    return PaidPrediction(request, prediction, paid_s)
