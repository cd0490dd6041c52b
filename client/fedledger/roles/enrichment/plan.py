"""The participants' side of a compensation plan before delivery: propose, approve, seal the model.

These are the ledger steps of :mod:`fedledger.protocol.enrichment` written as functions over any
``Contract`` (the Gateway client or the in-memory ledger), plus the envelope helpers both sides
of the key exchange use: :func:`seal_weights` seals canonical float32 weights to a party's
registered X25519 key, bound to the plan and recipient; :func:`open_weights` opens them and
checks their length and digest against what the ledger says, so a model that is not the one the
plan names is never trained on, evaluated or adopted.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from fedledger.contract import enrichment, parties
from fedledger.contract.enrichment import approve_plan, get_plan, settle_plan
from fedledger.crypto.envelope import open_envelope, seal
from fedledger.errors import EnrichmentError
from fedledger.ledger.interface import Contract
from fedledger.protocol.enrichment import PLAN_ACTIVE, PlanRecord, PlanTier, envelope_context
from fedledger.protocol.enrichment_requests import PlanRequest
from fedledger.roles.model_io import FloatVector, weights_bytes, weights_from_bytes, weights_hash

__all__ = [
    "approve_plan",
    "get_plan",
    "open_weights",
    "party_public_key",
    "propose_plan",
    "seal_model_to_enricher",
    "seal_weights",
    "settle_plan",
]


def propose_plan(
    contract: Contract,
    task_id: str,
    enricher: str,
    tiers: Sequence[tuple[int, int]],
    *,
    delivery_deadline: int,
    evaluation_deadline: int,
) -> PlanRecord:
    """Propose a plan (``tiers`` as (min gain bp, payment) pairs); return the stored plan.

    Raises ContractError with the chaincode's message when the plan is refused.
    """
    request = PlanRequest(
        task_id=task_id,
        enricher=enricher,
        tiers=tuple(PlanTier(gain, payment) for gain, payment in tiers),
        delivery_deadline=delivery_deadline,
        evaluation_deadline=evaluation_deadline,
    )
    return enrichment.propose_plan(contract, request)


def party_public_key(contract: Contract, party: str) -> bytes:
    """The 32-byte X25519 key-exchange key ``party`` registered."""
    return base64.b64decode(parties.get_party(contract, party).kx_public_key)


def seal_weights(public_key: bytes, plan_id: str, recipient: str, weights: FloatVector) -> str:
    """Base64 of ``weights`` (canonical float32) sealed to ``recipient`` for ``plan_id``."""
    sealed = seal(
        public_key, weights_bytes(weights), associated_data=envelope_context(plan_id, recipient)
    )
    return base64.b64encode(sealed).decode("ascii")


def open_weights(
    private_key: bytes,
    envelope_b64: str,
    *,
    plan_id: str,
    recipient: str,
    value_count: int,
    expected_hash: str,
) -> FloatVector:
    """Open weights sealed to ``recipient`` and check them against the ledger's digest.

    Returns the weights. Raises EnvelopeError when the envelope does not open with this key (or
    was sealed for another plan or recipient), EnrichmentError when the weights have the wrong
    length or digest.
    """
    raw = open_envelope(
        private_key,
        base64.b64decode(envelope_b64),
        associated_data=envelope_context(plan_id, recipient),
    )
    if len(raw) != 4 * value_count:
        raise EnrichmentError(
            f"the weights sealed for {plan_id} are {len(raw)} bytes, not {value_count} float32"
        )
    weights = weights_from_bytes(raw)
    digest = weights_hash(weights)
    if digest != expected_hash:
        raise EnrichmentError(
            f"the weights sealed for {plan_id} hash to {digest}, the ledger names {expected_hash}"
        )
    return weights


def seal_model_to_enricher(
    contract: Contract, plan_id: str, weights: FloatVector
) -> dict[str, Any]:
    """Seal the plan's base model to its enricher (the proposer does this once it is active).

    Checks first that ``weights`` are the model the plan improves (their digest is the plan's
    ``base_weights_hash``). Returns the stored record's summary. Raises EnrichmentError for a
    plan that is not active or weights that are not its base model; ContractError when refused.
    """
    plan = get_plan(contract, plan_id).plan
    if plan.status != PLAN_ACTIVE:
        raise EnrichmentError(f"{plan_id} is {plan.status}; its model is sealed once it is active")
    digest = weights_hash(weights)
    if digest != plan.base_weights_hash:
        raise EnrichmentError(
            f"these weights hash to {digest}; {plan_id} improves {plan.base_weights_hash}"
        )
    public_key = party_public_key(contract, plan.enricher)
    envelope = seal_weights(public_key, plan_id, plan.enricher, weights)
    return enrichment.seal_plan_model(contract, plan_id, envelope)
