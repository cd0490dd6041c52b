"""Prepared transactions: signing the envelope and reading the chaincode's result from it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from fedledger.errors import GatewayError
from fedledger.ledger.identity import Identity
from fedledger.ledger.signing import sha256, signer_for, verify_digest
from fedledger.ledger.transaction import sign_envelope, transaction_result

KEY = ec.generate_private_key(ec.SECP256R1())
IDENTITY = Identity("Org1MSP", b"pem", signer_for(KEY))


def _envelope(result: bytes) -> common_pb2.Envelope:
    action = proposal_pb2.ChaincodeAction(
        response=proposal_response_pb2.Response(status=200, payload=result)
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=b"h", extension=action.SerializeToString()
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload.SerializeToString()
        )
    )
    transaction = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(payload=action_payload.SerializeToString())]
    )
    payload = common_pb2.Payload(data=transaction.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())


def test_transaction_result_reads_the_chaincode_response_payload() -> None:
    assert transaction_result(_envelope(b'{"id":"alice"}')) == b'{"id":"alice"}'


def test_transaction_result_names_a_transaction_without_actions() -> None:
    # Prepare
    payload = common_pb2.Payload(data=transaction_pb2.Transaction().SerializeToString())
    envelope = common_pb2.Envelope(payload=payload.SerializeToString())

    # Execute / Assert
    with pytest.raises(GatewayError, match="tx1: prepared transaction has no actions"):
        transaction_result(envelope, "tx1")


def test_transaction_result_reports_a_malformed_envelope_as_an_endorse_failure() -> None:
    # Prepare
    envelope = common_pb2.Envelope(payload=b"\xff\xff\xff")

    # Execute / Assert
    with pytest.raises(GatewayError, match="malformed prepared transaction") as caught:
        transaction_result(envelope, "tx1")
    assert (caught.value.stage, caught.value.tx_id) == ("endorse", "tx1")


def test_sign_envelope_signs_the_payload_bytes_and_leaves_the_input_unchanged() -> None:
    # Prepare
    envelope = _envelope(b"r")

    # Execute
    signed = sign_envelope(envelope, IDENTITY)

    # Assert
    assert signed.payload == envelope.payload
    assert envelope.signature == b""
    assert verify_digest(KEY.public_key(), sha256(envelope.payload), signed.signature)
