"""Paid predictions: RequestPrediction, SubmitReceipt, ReclaimPrediction, RecordDispute and queries.

The money of one prediction, every move through :mod:`fedledger_chaincode.credits.movements`:

- ``RequestPrediction(offer_id, input_sha256, ttl_seconds)``: a registered consumer pays the open
  offer's price into ``escrow:request:<request id>`` and binds the SHA-256 of the exact input
  ciphertext it will send. The deadline is the transaction's time plus ``ttl_seconds``.
- ``SubmitReceipt(request_id, response_sha256)``: the offer's provider, before the deadline, once,
  records the SHA-256 of the response it returned; the escrow pays the provider
  ``price * fee_bp // 10000`` and the rest to the task's participants pro rata to their declared
  samples (largest remainder, :func:`fedledger.protocol.prorata.split_pro_rata`).
- ``ReclaimPrediction(request_id)``: the consumer, from the deadline on, when there is no receipt,
  takes the whole price back.

Exactly once: the receipt and the reclaim both read the request record and rewrite its status in
the same transaction, so of two concurrent ones Fabric commits one (MVCC) and the other is
rebuilt against the new status and refused. Time is the transaction timestamp: a receipt is
accepted while ``timestamp < deadline``, a reclaim once ``timestamp ≥ deadline``.

``RecordDispute(first_request_id, second_request_id)``: a consumer that bought the same model
digest's prediction from two providers records that it disputes their answers; both requests
must be its own and receipted. Nothing is paid back: the dispute is public evidence, naming both
providers and the response digests they signed for.
"""

from __future__ import annotations

import dataclasses

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.predictions import (
    DISPUTE_TYPE,
    OFFER_WITHDRAWN,
    RECEIPT_TYPE,
    REQUEST_ESCROW_KIND,
    REQUEST_OPEN,
    REQUEST_RECEIPTED,
    REQUEST_RECLAIMED,
    REQUEST_TYPE,
    PredictionDispute,
    PredictionReceipt,
    PredictionRequest,
    parse_dispute_id,
    parse_request_id,
    parse_request_seconds,
    parse_sha256,
    split_payment,
)
from fedledger.protocol.predictions import dispute_id as derive_dispute_id
from fedledger.protocol.predictions import request_id as derive_request_id
from fedledger.protocol.tokens import escrow_account
from fedledger_chaincode.core.context import TransactionContext, create_composite_key, load
from fedledger_chaincode.core.parties import require_registered_caller
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.credits.movements import token_movements
from fedledger_chaincode.prediction.offers import load_offer
from fedledger_chaincode.training.state import load_task, put_record

__all__ = ["register"]

REQUESTED = "PredictionRequested"
RECEIPTED = "PredictionReceipted"
RECLAIMED = "PredictionReclaimed"
DISPUTED = "PredictionDisputed"


def _key(object_type: str, ident: str) -> str:
    return create_composite_key(object_type, (ident,))


async def _load_request(ctx: TransactionContext, request: str) -> PredictionRequest:
    parse_request_id(request)
    return await load(
        ctx,
        PredictionRequest,
        _key(REQUEST_TYPE, request),
        f"prediction request {request} does not exist",
    )


async def _caller(ctx: TransactionContext) -> str:
    return (await require_registered_caller(ctx)).id


def _closed(request: PredictionRequest, ctx: TransactionContext, status: str) -> PredictionRequest:
    return dataclasses.replace(
        request, status=status, closed_at=ctx.tx_timestamp.seconds, closed_tx=ctx.tx_id
    )


async def request_prediction(
    ctx: TransactionContext, offer_id: str, input_sha256: str, ttl_seconds: str
) -> bytes:
    """RequestPrediction: pay an open offer's price into the request's escrow.

    Returns the event payload: the PredictionRequest's fields plus ``transfers`` and
    ``balances``. Raises ``ProtocolError``: the hash and duration messages, an unregistered
    caller, "prediction offer O is withdrawn; it takes no requests", the token's "insufficient
    balance: …"; ``NotFoundError`` for an unknown offer.
    """
    digest = parse_sha256(input_sha256, "input_sha256")
    seconds = parse_request_seconds(ttl_seconds)
    offer = await load_offer(ctx, offer_id)
    consumer = await _caller(ctx)
    if offer.status == OFFER_WITHDRAWN:
        raise ProtocolError(f"prediction offer {offer.id} is withdrawn; it takes no requests")
    new_id = derive_request_id(ctx.tx_id)
    if await ctx.get_state(_key(REQUEST_TYPE, new_id)):
        raise ProtocolError(f"prediction request {new_id} already exists")
    now = ctx.tx_timestamp.seconds
    request = PredictionRequest(
        id=new_id,
        offer_id=offer.id,
        task_id=offer.task_id,
        provider=offer.provider,
        consumer=consumer,
        weights_hash=offer.weights_hash,
        input_sha256=digest,
        price=offer.price,
        escrow=escrow_account(REQUEST_ESCROW_KIND, new_id),
        status=REQUEST_OPEN,
        created_at=now,
        created_tx=ctx.tx_id,
        deadline=now + seconds,
    )
    async with token_movements(ctx) as book:
        await book.fund(request.escrow, consumer, request.price)
        book.announce(REQUESTED, request.to_dict())
    put_record(ctx, _key(REQUEST_TYPE, new_id), request)
    return book.payload


def _require_open(request: PredictionRequest) -> None:
    if request.status == REQUEST_RECEIPTED:
        raise ProtocolError(f"prediction request {request.id} already has a receipt")
    if request.status == REQUEST_RECLAIMED:
        raise ProtocolError(f"prediction request {request.id} was reclaimed by its consumer")


async def submit_receipt(ctx: TransactionContext, request_id: str, response_sha256: str) -> bytes:
    """SubmitReceipt: the provider's receipt, which releases the escrow (module docstring).

    Returns the event payload: the PredictionReceipt's fields plus ``transfers`` and
    ``balances``. Raises ``ProtocolError``: "only the provider P of prediction request R may
    submit its receipt; Q may not", "prediction request R already has a receipt", "… was
    reclaimed by its consumer", "prediction request R expired at D; a receipt at T is too late".
    """
    digest = parse_sha256(response_sha256, "response_sha256")
    request = await _load_request(ctx, request_id)
    caller = await _caller(ctx)
    if caller != request.provider:
        raise ProtocolError(
            f"only the provider {request.provider} of prediction request {request.id} may "
            f"submit its receipt; {caller} may not"
        )
    _require_open(request)
    now = ctx.tx_timestamp.seconds
    if now >= request.deadline:
        raise ProtocolError(
            f"prediction request {request.id} expired at {request.deadline}; "
            f"a receipt at {now} is too late"
        )
    offer = await load_offer(ctx, request.offer_id)
    task = await load_task(ctx, request.task_id)
    fee, rest = split_payment(request.price, offer.fee_bp)
    samples = {p.party: p.samples for p in task.participants}
    async with token_movements(ctx) as book:
        await book.pay(request.escrow, request.provider, fee)
        shares = await book.pay_pro_rata(request.escrow, rest, samples)
        receipt = PredictionReceipt(
            request_id=request.id,
            offer_id=offer.id,
            provider=request.provider,
            response_sha256=digest,
            provider_fee=fee,
            shares=shares,
            at=now,
            tx_id=ctx.tx_id,
        )
        book.announce(RECEIPTED, receipt.to_dict())
    put_record(ctx, _key(RECEIPT_TYPE, request.id), receipt)
    put_record(ctx, _key(REQUEST_TYPE, request.id), _closed(request, ctx, REQUEST_RECEIPTED))
    return book.payload


async def reclaim_prediction(ctx: TransactionContext, request_id: str) -> bytes:
    """ReclaimPrediction: the consumer takes the price back after the deadline, without receipt.

    Returns the event payload: the closed PredictionRequest plus ``transfers`` and ``balances``.
    Raises ``ProtocolError``: "only the consumer C of prediction request R may reclaim it; Q may
    not", "prediction request R already has a receipt", "… was reclaimed by its consumer",
    "prediction request R is open until D; it cannot be reclaimed at T".
    """
    request = await _load_request(ctx, request_id)
    caller = await _caller(ctx)
    if caller != request.consumer:
        raise ProtocolError(
            f"only the consumer {request.consumer} of prediction request {request.id} may "
            f"reclaim it; {caller} may not"
        )
    _require_open(request)
    now = ctx.tx_timestamp.seconds
    if now < request.deadline:
        raise ProtocolError(
            f"prediction request {request.id} is open until {request.deadline}; "
            f"it cannot be reclaimed at {now}"
        )
    closed = _closed(request, ctx, REQUEST_RECLAIMED)
    async with token_movements(ctx) as book:
        await book.refund(request.escrow)
        book.announce(RECLAIMED, closed.to_dict())
    put_record(ctx, _key(REQUEST_TYPE, request.id), closed)
    return book.payload


async def _receipted(
    ctx: TransactionContext, request_id: str, consumer: str
) -> tuple[PredictionRequest, PredictionReceipt]:
    request = await _load_request(ctx, request_id)
    if request.consumer != consumer:
        raise ProtocolError(
            f"prediction request {request.id} belongs to {request.consumer}; "
            f"{consumer} may not dispute it"
        )
    stored = await ctx.get_state(_key(RECEIPT_TYPE, request.id))
    if request.status != REQUEST_RECEIPTED or not stored:
        raise ProtocolError(f"prediction request {request.id} has no receipt to dispute")
    return request, PredictionReceipt.from_bytes(stored)


async def record_dispute(
    ctx: TransactionContext, first_request_id: str, second_request_id: str
) -> bytes:
    """RecordDispute: two receipted requests of the caller, two providers, one model digest.

    Returns the stored PredictionDispute. Raises ``ProtocolError``: "a dispute needs two
    different requests", "prediction request R belongs to C; Q may not dispute it", "prediction
    request R has no receipt to dispute", "prediction requests R and S were served by the same
    provider P; a dispute needs two providers", "prediction requests R and S are for different
    models (h1, h2); a dispute needs one model", "the dispute of R and S is already recorded".
    """
    parse_request_id(first_request_id)
    parse_request_id(second_request_id)
    if first_request_id == second_request_id:
        raise ProtocolError("a dispute needs two different requests")
    consumer = await _caller(ctx)
    pairs = [
        await _receipted(ctx, r, consumer) for r in sorted((first_request_id, second_request_id))
    ]
    (first, first_receipt), (second, second_receipt) = pairs
    named = f"prediction requests {first.id} and {second.id}"
    if first.provider == second.provider:
        raise ProtocolError(
            f"{named} were served by the same provider {first.provider}; "
            "a dispute needs two providers"
        )
    if first.weights_hash != second.weights_hash:
        raise ProtocolError(
            f"{named} are for different models ({first.weights_hash}, {second.weights_hash}); "
            "a dispute needs one model"
        )
    new_id = derive_dispute_id(first.id, second.id)
    if await ctx.get_state(_key(DISPUTE_TYPE, new_id)):
        raise ProtocolError(f"the dispute of {first.id} and {second.id} is already recorded")
    dispute = PredictionDispute(
        id=new_id,
        consumer=consumer,
        weights_hash=first.weights_hash,
        requests=(first.id, second.id),
        offers=(first.offer_id, second.offer_id),
        providers=(first.provider, second.provider),
        response_hashes=(first_receipt.response_sha256, second_receipt.response_sha256),
        at=ctx.tx_timestamp.seconds,
        tx_id=ctx.tx_id,
    )
    payload = put_record(ctx, _key(DISPUTE_TYPE, new_id), dispute)
    ctx.set_event(DISPUTED, payload)
    return payload


async def get_prediction_request(ctx: TransactionContext, request_id: str) -> bytes:
    """GetPredictionRequest: the stored request (its status says receipted or reclaimed)."""
    return (await _load_request(ctx, request_id)).to_bytes()


async def get_prediction_receipt(ctx: TransactionContext, request_id: str) -> bytes:
    """GetPredictionReceipt: the receipt of a request; NotFoundError while there is none."""
    parse_request_id(request_id)
    receipt = await load(
        ctx,
        PredictionReceipt,
        _key(RECEIPT_TYPE, request_id),
        f"prediction request {request_id} has no receipt",
    )
    return receipt.to_bytes()


async def get_dispute(ctx: TransactionContext, dispute_id: str) -> bytes:
    """GetDispute: a recorded dispute."""
    parse_dispute_id(dispute_id)
    dispute = await load(
        ctx,
        PredictionDispute,
        _key(DISPUTE_TYPE, dispute_id),
        f"prediction dispute {dispute_id} does not exist",
    )
    return dispute.to_bytes()


def register(router: Router) -> None:
    """Route the paid-prediction transactions."""
    for object_type in (REQUEST_TYPE, RECEIPT_TYPE, DISPUTE_TYPE):
        router.add_object_type(object_type)
    router.add("RequestPrediction", request_prediction)
    router.add("SubmitReceipt", submit_receipt)
    router.add("ReclaimPrediction", reclaim_prediction)
    router.add("RecordDispute", record_dispute)
    router.add("GetPredictionRequest", get_prediction_request)
    router.add("GetPredictionReceipt", get_prediction_receipt)
    router.add("GetDispute", get_dispute)
