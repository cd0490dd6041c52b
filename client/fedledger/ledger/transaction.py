"""Prepared transactions: the envelope Endorse returns, its signature and the chaincode's result.

The gateway assembles the endorsed transaction but cannot sign it for the client: the client
signs the envelope's payload bytes (as they are, never re-serialised) before Submit.
"""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2
from google.protobuf.message import DecodeError

from fedledger.errors import GatewayError
from fedledger.ledger.identity import Identity
from fedledger.ledger.signing import sha256

__all__ = ["sign_envelope", "transaction_result"]


def sign_envelope(envelope: common_pb2.Envelope, identity: Identity) -> common_pb2.Envelope:
    """Return a copy of ``envelope`` carrying the identity's signature of its payload.

    Raises LedgerError when the identity cannot sign.
    """
    signed = common_pb2.Envelope()
    signed.CopyFrom(envelope)
    signed.signature = identity.sign(sha256(envelope.payload))
    return signed


def transaction_result(envelope: common_pb2.Envelope, tx_id: str = "") -> bytes:
    """Return the chaincode's response payload recorded in a prepared transaction envelope.

    Envelope.payload -> Payload.data -> Transaction.actions[0].payload -> ChaincodeActionPayload
    .action.proposal_response_payload -> ProposalResponsePayload.extension -> ChaincodeAction
    .response.payload. Raises GatewayError (stage "endorse") when the envelope is malformed.
    """
    try:
        payload = common_pb2.Payload.FromString(envelope.payload)
        transaction = transaction_pb2.Transaction.FromString(payload.data)
        if not transaction.actions:
            raise GatewayError("endorse", "prepared transaction has no actions", tx_id=tx_id)
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
            transaction.actions[0].payload
        )
        response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
            action_payload.action.proposal_response_payload
        )
        action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    except DecodeError as exc:
        raise GatewayError(
            "endorse", f"malformed prepared transaction: {exc}", tx_id=tx_id
        ) from exc
    return bytes(action.response.payload)
