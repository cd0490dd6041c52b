"""Proposal building: transaction id, headers, invocation spec and signature."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2

from fedledger.errors import LedgerError
from fedledger.ledger.identity import Identity
from fedledger.ledger.proposal import (
    NONCE_SIZE,
    build_proposal,
    encode_args,
    serialize_identity,
    sign_proposal,
    transaction_id,
)
from fedledger.ledger.signing import is_low_s, sha256, signer_for, verify_digest

KEY = ec.generate_private_key(ec.SECP256R1())
IDENTITY = Identity("Org1MSP", b"-----BEGIN CERTIFICATE-----\nfake\n", signer_for(KEY))
NONCE = bytes(range(NONCE_SIZE))
TIMESTAMP_NS = 1_700_000_000_123_456_789


def _parse(
    proposal_bytes: bytes,
) -> tuple[common_pb2.ChannelHeader, common_pb2.SignatureHeader, chaincode_pb2.ChaincodeSpec]:
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    return channel_header, signature_header, spec


def test_transaction_id_is_hex_sha256_of_nonce_then_creator() -> None:
    # Prepare: a known vector, sha256 of the 3 bytes "abc" split as nonce "a" + creator "bc"
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    # Execute / Assert
    assert transaction_id(b"a", b"bc") == expected


def test_serialize_identity_is_an_msp_serialized_identity() -> None:
    # Execute
    creator = identities_pb2.SerializedIdentity.FromString(serialize_identity(IDENTITY))

    # Assert
    assert creator.mspid == "Org1MSP"
    assert creator.id_bytes == IDENTITY.certificate_pem


def test_proposal_parses_back_to_the_fields_it_was_built_from() -> None:
    # Execute
    proposal = build_proposal(
        IDENTITY,
        "fedledger",
        "fedcc",
        "RegisterParty",
        ["alice", b"\x00\xff"],
        nonce=NONCE,
        timestamp_ns=TIMESTAMP_NS,
    )
    channel_header, signature_header, spec = _parse(proposal.proposal_bytes)

    # Assert
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    assert channel_header.type == common_pb2.ENDORSER_TRANSACTION
    assert channel_header.channel_id == "fedledger"
    assert channel_header.tx_id == proposal.tx_id
    assert channel_header.timestamp.ToNanoseconds() == TIMESTAMP_NS
    assert extension.chaincode_id.name == "fedcc"
    assert signature_header.nonce == NONCE
    assert signature_header.creator == serialize_identity(IDENTITY)
    assert spec.chaincode_id.name == "fedcc"
    assert list(spec.input.args) == [b"RegisterParty", b"alice", b"\x00\xff"]
    assert (proposal.channel, proposal.chaincode) == ("fedledger", "fedcc")


def test_proposal_tx_id_matches_its_own_nonce_and_creator() -> None:
    # Execute
    proposal = build_proposal(IDENTITY, "ch", "cc", "Ping")
    channel_header, signature_header, _ = _parse(proposal.proposal_bytes)

    # Assert
    recomputed = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
    assert channel_header.tx_id == recomputed == proposal.tx_id
    assert len(signature_header.nonce) == NONCE_SIZE


def test_fresh_proposals_have_fresh_nonces_and_tx_ids() -> None:
    # Execute
    first = build_proposal(IDENTITY, "ch", "cc", "Ping")
    second = build_proposal(IDENTITY, "ch", "cc", "Ping")

    # Assert
    assert _parse(first.proposal_bytes)[1].nonce != _parse(second.proposal_bytes)[1].nonce
    assert first.tx_id != second.tx_id


def test_sign_proposal_signs_the_digest_of_the_proposal_bytes() -> None:
    # Prepare
    proposal = build_proposal(IDENTITY, "ch", "cc", "Ping")

    # Execute
    signed = sign_proposal(proposal, IDENTITY)

    # Assert
    assert signed.proposal_bytes == proposal.proposal_bytes
    assert verify_digest(KEY.public_key(), sha256(proposal.proposal_bytes), signed.signature)
    assert is_low_s(signed.signature)


def test_sign_proposal_refuses_an_identity_without_signer() -> None:
    # Prepare
    proposal = build_proposal(IDENTITY, "ch", "cc", "Ping")

    # Execute / Assert
    with pytest.raises(LedgerError, match="has no signer"):
        sign_proposal(proposal, Identity("Org1MSP", b"pem"))


@pytest.mark.parametrize("size", [0, 16, 23, 25, 32])
def test_build_proposal_refuses_a_nonce_of_the_wrong_size(size: int) -> None:
    with pytest.raises(LedgerError, match=f"nonce must be 24 bytes, got {size}"):
        build_proposal(IDENTITY, "ch", "cc", "Ping", nonce=bytes(size))


def test_build_proposal_refuses_an_empty_channel() -> None:
    with pytest.raises(LedgerError, match="channel and a chaincode name are required"):
        build_proposal(IDENTITY, "", "cc", "Ping")


def test_encode_args_puts_the_function_first_and_encodes_text_as_utf8() -> None:
    assert encode_args("Put", ["é", b"\x01"]) == [b"Put", "é".encode(), b"\x01"]


def test_encode_args_refuses_an_argument_that_is_not_text_or_bytes() -> None:
    with pytest.raises(LedgerError, match="argument 1 of Put must be str or bytes, got int"):
        encode_args("Put", ["a", 7])  # type: ignore[list-item]


def test_encode_args_refuses_an_empty_function_name() -> None:
    with pytest.raises(LedgerError, match="function name is required"):
        encode_args("", [])
