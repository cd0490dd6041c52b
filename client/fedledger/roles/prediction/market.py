"""The prediction market as seen by its clients: offers, paid requests, receipts and reclaims.

The typed calls of the prediction transactions are :mod:`fedledger.contract.prediction` (named
here too, for the roles and commands that import them from the market), and the consumer's paid
flow: :func:`buy_prediction` encrypts one input, pays for exactly those ciphertext bytes on the
ledger, sends them to the provider and decrypts the answer. The provider answers only after its
receipt has committed (:mod:`fedledger.roles.prediction.gate`), so an answer is a paid-for answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fedledger.contract import prediction
from fedledger.contract.prediction import (
    get_offer,
    get_receipt,
    get_request,
    list_offers,
    pay_for,
    reclaim,
    withdraw_offer,
)
from fedledger.errors import PredictionError
from fedledger.inference.layout import FloatArray
from fedledger.ledger.interface import Contract
from fedledger.protocol.prediction_requests import OfferRequest
from fedledger.protocol.predictions import PredictionOffer, PredictionRequest
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
    return prediction.create_offer(contract, task_id, OfferRequest(price, fee_bp, endpoint, params))


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
