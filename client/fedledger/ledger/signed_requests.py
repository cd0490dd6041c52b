"""The signed Gateway requests that follow a transaction after its proposal: CommitStatus and
ChaincodeEvents, and what their answers decode to.

Like proposals (:mod:`fedledger.ledger.proposal`), each request is serialised once and signed
as sha256 of those bytes by the identity; the transport never sees a key.
"""

from __future__ import annotations

from collections.abc import Iterator

from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import transaction_pb2

from fedledger.ledger.identity import Identity
from fedledger.ledger.interface import ChaincodeEvent
from fedledger.ledger.signing import sha256

__all__ = ["commit_status_request", "events_of", "events_request", "validation_code_name"]


def commit_status_request(
    identity: Identity, creator: bytes, channel: str, tx_id: str
) -> gateway_pb2.SignedCommitStatusRequest:
    """Return the signed request for the commit status of ``tx_id`` on ``channel``;
    ``creator`` is the identity serialised as in its proposals."""
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=tx_id, channel_id=channel, identity=creator
    ).SerializeToString()
    return gateway_pb2.SignedCommitStatusRequest(
        request=request, signature=identity.sign(sha256(request))
    )


def events_request(
    identity: Identity, creator: bytes, channel: str, chaincode: str, start_block: int | None
) -> gateway_pb2.SignedChaincodeEventsRequest:
    """Return the signed request for ``chaincode``'s events from block ``start_block`` on
    (None: from the newest block)."""
    if start_block is None:
        position = ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())
    else:
        position = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
    request = gateway_pb2.ChaincodeEventsRequest(
        channel_id=channel,
        chaincode_id=chaincode,
        identity=creator,
        start_position=position,
    ).SerializeToString()
    return gateway_pb2.SignedChaincodeEventsRequest(
        request=request, signature=identity.sign(sha256(request))
    )


def events_of(response: gateway_pb2.ChaincodeEventsResponse) -> Iterator[ChaincodeEvent]:
    """Yield the chaincode events of one block of an events stream."""
    for event in response.events:
        yield ChaincodeEvent(
            block_number=response.block_number,
            tx_id=event.tx_id,
            name=event.event_name,
            payload=bytes(event.payload),
        )


def validation_code_name(code: int) -> str:
    """Return the name of a transaction validation code (``UNKNOWN_VALIDATION_CODE_<n>`` for a
    code this Fabric version does not know)."""
    try:
        return str(transaction_pb2.TxValidationCode.Name(code))
    except ValueError:
        return f"UNKNOWN_VALIDATION_CODE_{code}"
