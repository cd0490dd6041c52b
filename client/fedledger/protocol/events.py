"""The names of the chaincode events, defined once for the contract and the roles that wait on them.

Fabric keeps one event per transaction. Every event of a task carries ``task_id`` in its JSON
payload and every round event also ``round``, so a client can follow one task's rounds by
filtering the channel's chaincode events and query the ledger only when something happened.
"""

from __future__ import annotations

__all__ = [
    "ADVERTISEMENT_CREATED",
    "ADVERTISEMENT_UPDATED",
    "ADVERTISEMENT_WITHDRAWN",
    "ENRICHMENT_DELIVERED",
    "ENRICHMENT_REPORTED",
    "KEY_ENVELOPE_STORED",
    "MODEL_WEIGHTS_STORED",
    "PARTY_REGISTERED",
    "PLAN_ACTIVATED",
    "PLAN_APPROVED",
    "PLAN_EVENTS",
    "PLAN_MODEL_SEALED",
    "PLAN_PROPOSED",
    "PLAN_SETTLED",
    "RESULT_REPORTED",
    "ROUND_CLOSED",
    "ROUND_DECRYPTED",
    "ROUND_EVENTS",
    "ROUND_FAILED",
    "ROUND_OPENED",
    "SHARES_READY",
    "SHARE_SUBMITTED",
    "TASK_ACTIVATED",
    "TASK_APPROVED",
    "TASK_PROPOSED",
    "UPDATE_SUBMITTED",
]

PARTY_REGISTERED = "PartyRegistered"
ADVERTISEMENT_CREATED = "AdvertisementCreated"
ADVERTISEMENT_UPDATED = "AdvertisementUpdated"
ADVERTISEMENT_WITHDRAWN = "AdvertisementWithdrawn"
TASK_PROPOSED = "TaskProposed"
TASK_APPROVED = "TaskApproved"
TASK_ACTIVATED = "TaskActivated"
MODEL_WEIGHTS_STORED = "ModelWeightsStored"
KEY_ENVELOPE_STORED = "KeyEnvelopeStored"
ROUND_OPENED = "RoundOpened"
UPDATE_SUBMITTED = "UpdateSubmitted"
ROUND_CLOSED = "RoundClosed"
SHARE_SUBMITTED = "DecryptionShareSubmitted"
SHARES_READY = "SharesReady"
RESULT_REPORTED = "ResultReported"
ROUND_DECRYPTED = "RoundDecrypted"
ROUND_FAILED = "RoundFailed"

# Every event that moves a round forward, for clients that wait on rounds.
ROUND_EVENTS = frozenset(
    {
        ROUND_OPENED,
        UPDATE_SUBMITTED,
        ROUND_CLOSED,
        SHARE_SUBMITTED,
        SHARES_READY,
        RESULT_REPORTED,
        ROUND_DECRYPTED,
        ROUND_FAILED,
    }
)

# Paid enrichment (fedledger.protocol.enrichment); every payload carries plan_id and task_id.
PLAN_PROPOSED = "PlanProposed"
PLAN_APPROVED = "PlanApproved"
PLAN_ACTIVATED = "PlanActivated"
PLAN_MODEL_SEALED = "PlanModelSealed"
ENRICHMENT_DELIVERED = "EnrichmentDelivered"
ENRICHMENT_REPORTED = "EnrichmentReported"
PLAN_SETTLED = "PlanSettled"
PLAN_EVENTS = frozenset(
    {
        PLAN_PROPOSED,
        PLAN_APPROVED,
        PLAN_ACTIVATED,
        PLAN_MODEL_SEALED,
        ENRICHMENT_DELIVERED,
        ENRICHMENT_REPORTED,
        PLAN_SETTLED,
    }
)
