"""Transaction proposals: the signed request that asks peers to run a chaincode function.

Layout (Fabric's peer/proposal.proto)::

    SignedProposal{proposal_bytes = Proposal{
        header  = Header{channel_header   = ChannelHeader{ENDORSER_TRANSACTION, tx_id, timestamp,
                                                         channel, ChaincodeHeaderExtension},
                         signature_header = SignatureHeader{creator, nonce}},
        payload = ChaincodeProposalPayload{input = ChaincodeInvocationSpec{...args}}},
      signature = sign(sha256(proposal_bytes))}

The transaction id is hex(sha256(nonce || creator)): the peer recomputes it and rejects a proposal
whose id does not match, which also makes ids unguessable and unique per fresh nonce.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from fedledger.errors import LedgerError
from fedledger.ledger.identity import Identity
from fedledger.ledger.signing import sha256

__all__ = [
    "NONCE_SIZE",
    "Proposal",
    "build_proposal",
    "encode_args",
    "new_nonce",
    "serialize_identity",
    "sign_proposal",
    "transaction_id",
]

NONCE_SIZE = 24


@dataclass(frozen=True)
class Proposal:
    """An unsigned proposal and the ids the Gateway requests repeat beside it."""

    tx_id: str
    channel: str
    chaincode: str
    proposal_bytes: bytes


def serialize_identity(identity: Identity) -> bytes:
    """Return the creator bytes: a serialized ``msp.SerializedIdentity{mspid, id_bytes=PEM}``."""
    message = identities_pb2.SerializedIdentity(
        mspid=identity.msp_id, id_bytes=identity.certificate_pem
    )
    return message.SerializeToString()


def new_nonce() -> bytes:
    """Return 24 fresh random bytes from ``secrets`` (the proposal's replay protection)."""
    return secrets.token_bytes(NONCE_SIZE)


def transaction_id(nonce: bytes, creator: bytes) -> str:
    """Return the transaction id of ``nonce`` and ``creator``: hex(sha256(nonce || creator))."""
    return hashlib.sha256(nonce + creator).hexdigest()


def encode_args(function: str, args: Sequence[str | bytes]) -> list[bytes]:
    """Return the chaincode input ``[function, *args]`` as bytes (text as UTF-8).

    Raises LedgerError for an empty function name or an argument that is neither str nor bytes.
    """
    if not function:
        raise LedgerError("a chaincode function name is required")
    encoded = [function.encode("utf-8")]
    for index, arg in enumerate(args):
        if isinstance(arg, bytes):
            encoded.append(arg)
        elif isinstance(arg, str):
            encoded.append(arg.encode("utf-8"))
        else:
            raise LedgerError(
                f"argument {index} of {function} must be str or bytes, got {type(arg).__name__}"
            )
    return encoded


def build_proposal(
    identity: Identity,
    channel: str,
    chaincode: str,
    function: str,
    args: Sequence[str | bytes] = (),
    *,
    nonce: bytes | None = None,
    timestamp_ns: int | None = None,
    transient: Mapping[str, bytes] | None = None,
) -> Proposal:
    """Build the proposal that invokes ``function(*args)`` of ``chaincode`` on ``channel``.

    ``nonce`` and ``timestamp_ns`` default to fresh random bytes and the current time (tests pin
    them). Returns the Proposal with its transaction id. Raises LedgerError for bad arguments.
    """
    if not channel or not chaincode:
        raise LedgerError("a channel and a chaincode name are required")
    nonce = new_nonce() if nonce is None else nonce
    if len(nonce) != NONCE_SIZE:
        raise LedgerError(f"the nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")
    creator = serialize_identity(identity)
    tx_id = transaction_id(nonce, creator)
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    header = common_pb2.Header(
        channel_header=_channel_header(tx_id, channel, chaincode_id, timestamp_ns),
        signature_header=common_pb2.SignatureHeader(
            creator=creator, nonce=nonce
        ).SerializeToString(),
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            # The peer ignores the language for chaincode-as-a-service; GOLANG is Fabric's default.
            type=chaincode_pb2.ChaincodeSpec.GOLANG,
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(args=encode_args(function, args)),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=invocation.SerializeToString(), TransientMap=dict(transient or {})
    )
    message = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return Proposal(tx_id, channel, chaincode, message.SerializeToString())


def _channel_header(
    tx_id: str, channel: str, chaincode_id: chaincode_pb2.ChaincodeID, timestamp_ns: int | None
) -> bytes:
    timestamp = Timestamp()
    timestamp.FromNanoseconds(time.time_ns() if timestamp_ns is None else timestamp_ns)
    extension = proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_id)
    header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        tx_id=tx_id,
        timestamp=timestamp,
        channel_id=channel,
        extension=extension.SerializeToString(),
    )
    return header.SerializeToString()


def sign_proposal(proposal: Proposal, identity: Identity) -> proposal_pb2.SignedProposal:
    """Return the SignedProposal: the proposal bytes and the identity's signature of their digest.

    Raises LedgerError when the identity cannot sign.
    """
    signature = identity.sign(sha256(proposal.proposal_bytes))
    return proposal_pb2.SignedProposal(proposal_bytes=proposal.proposal_bytes, signature=signature)
