"""Prepared transaction envelopes as a Fabric gateway assembles them, for fake gateways."""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from fedledger.ledger.signing import sha256


def prepared_envelope(proposal_bytes: bytes, result: bytes) -> common_pb2.Envelope:
    """The unsigned envelope the gateway would assemble from endorsements returning ``result``."""
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    action = proposal_pb2.ChaincodeAction(
        response=proposal_response_pb2.Response(status=200, payload=result)
    )
    endorsed = transaction_pb2.ChaincodeEndorsedAction(
        proposal_response_payload=proposal_response_pb2.ProposalResponsePayload(
            proposal_hash=sha256(proposal_bytes), extension=action.SerializeToString()
        ).SerializeToString()
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal.payload, action=endorsed
    )
    transaction = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(payload=action_payload.SerializeToString())]
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header.FromString(proposal.header),
        data=transaction.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString())
