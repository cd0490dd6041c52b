"""Helpers for contract tests: request builders, a rejection check and shim messages."""

from __future__ import annotations

import base64
import json
from typing import Any

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger
from fedledger_chaincode.fabric.protos import (
    chaincode_pb2,
    chaincode_shim_pb2,
    common_pb2,
    identities_pb2,
    proposal_pb2,
)


def kx_key(seed: int = 7) -> str:
    """Return base64 of a 32-byte stand-in for an X25519 public key."""
    return base64.b64encode(bytes([seed]) * 32).decode("ascii")


def party_json(roles: list[str] | None = None, seed: int = 7) -> str:
    return json.dumps({"roles": roles or ["trainer"], "kx_public_key": kx_key(seed)})


def ad_json(**overrides: object) -> str:
    fields: dict[str, object] = {
        "description": "chest X-rays, de-identified",
        "samples": 1200,
        "goal": "pneumonia classifier",
        "labels": {"normal": 700, "pneumonia": 500},
    }
    fields.update(overrides)
    return json.dumps({k: v for k, v in fields.items() if v is not None})


def snapshot(ledger: InMemoryLedger) -> tuple[Any, ...]:
    """Everything a transaction could change: height, world state, histories and events."""
    return ledger.snapshot()


def reject(ledger: InMemoryLedger, contract: InMemoryContract, function: str, *args: str) -> str:
    """Submit a call that must be rejected; check that it changed nothing; return its message."""
    before = snapshot(ledger)
    try:
        contract.submit(function, *args)
    except ContractError as exc:
        if snapshot(ledger) != before:
            raise AssertionError("a rejected transaction changed the ledger") from None
        if exc.stage != "endorse" or len(exc.tx_id) != 64:
            raise AssertionError(f"unexpected stage or tx id: {exc.stage} {exc.tx_id}") from None
        return exc.message
    raise AssertionError(f"{function} was accepted")


MSG = chaincode_shim_pb2.ChaincodeMessage
TX_ID = "cd" * 32


def signed_proposal(identity: Identity, seconds: int = 1_900_000_000, nanos: int = 42) -> Any:
    channel_header = common_pb2.ChannelHeader(type=3, tx_id=TX_ID, channel_id="fedledger")
    channel_header.timestamp.seconds = seconds
    channel_header.timestamp.nanos = nanos
    creator = identities_pb2.SerializedIdentity(
        mspid=identity.msp_id, id_bytes=identity.certificate_pem
    )
    signature_header = common_pb2.SignatureHeader(
        creator=creator.SerializeToString(), nonce=b"n" * 24
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(),
        payload=proposal_pb2.ChaincodeProposalPayload(input=b"x").SerializeToString(),
    )
    return proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString(), signature=b"s")


def transaction(identity: Identity, *args: bytes) -> Any:
    return MSG(
        type=MSG.TRANSACTION,
        payload=chaincode_pb2.ChaincodeInput(args=list(args)).SerializeToString(),
        txid=TX_ID,
        channel_id="fedledger",
        proposal=signed_proposal(identity),
    )
