"""One peer's own ledger, read through its Gateway from the query system chaincode (qscc).

qscc answers from the peer that runs it, so a reader is pinned to one org's gateway and asks
that org's peers only (``evaluate_orgs``); it never fails over, or it would read another peer's
ledger. Block hashes are recomputed here as Fabric computes them (protoutil.BlockHeaderHash:
SHA-256 of the ASN.1 DER SEQUENCE {INTEGER number, OCTET STRING previous_hash, OCTET STRING
data_hash}), so a check of "same hash on every peer" does not rest on the peers' own claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.peer import transaction_pb2
from google.protobuf.message import DecodeError

from fedledger.errors import GatewayError
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.ledger.profile import NetworkProfile, load_profile

__all__ = ["ChainInfo", "LedgerReader", "block_header_hash", "open_reader"]

QSCC = "qscc"


@dataclass(frozen=True)
class ChainInfo:
    """A peer's view of the channel: its height and the hash of its last block (hex)."""

    height: int
    current_block_hash: str
    previous_block_hash: str


def _der(tag: int, body: bytes) -> bytes:
    # Short-form lengths only: a header is a number and two SHA-256 digests, under 128 bytes.
    if len(body) >= 0x80:
        raise GatewayError("evaluate", f"block header field of {len(body)} bytes is not a digest")
    return bytes([tag, len(body)]) + body


def block_header_hash(header: common_pb2.BlockHeader) -> bytes:
    """The SHA-256 block hash Fabric chains blocks with (see the module docstring)."""
    number = int(header.number)
    # DER INTEGER: minimal two's complement; a block number is never negative.
    integer = number.to_bytes(number.bit_length() // 8 + 1, "big")
    body = (
        _der(0x02, integer)
        + _der(0x04, bytes(header.previous_hash))
        + _der(0x04, bytes(header.data_hash))
    )
    return hashlib.sha256(_der(0x30, body)).digest()


class LedgerReader:
    """Chain info, blocks and transactions from one org's peer (close it when done)."""

    def __init__(self, contract: GatewayContract, org: str) -> None:
        self._contract = contract
        self.org = org

    def chain_info(self) -> ChainInfo:
        """The peer's height and block hashes. Raises GatewayError / ContractError."""
        raw = self._evaluate("GetChainInfo", self._contract.channel)
        info = _parse(ledger_pb2.BlockchainInfo, raw, "chain info")
        return ChainInfo(
            height=int(info.height),
            current_block_hash=bytes(info.currentBlockHash).hex(),
            previous_block_hash=bytes(info.previousBlockHash).hex(),
        )

    def block(self, number: int) -> common_pb2.Block:
        """Block ``number`` of the peer's ledger. Raises ContractError when it has none."""
        raw = self._evaluate("GetBlockByNumber", self._contract.channel, str(number))
        block: common_pb2.Block = _parse(common_pb2.Block, raw, f"block {number}")
        return block

    def validation_code(self, tx_id: str) -> str:
        """The validation code the peer recorded for ``tx_id`` (e.g. "VALID").

        Raises ContractError (qscc's message) when the transaction is not on its ledger.
        """
        raw = self._evaluate("GetTransactionByID", self._contract.channel, tx_id)
        processed = _parse(transaction_pb2.ProcessedTransaction, raw, f"transaction {tx_id}")
        return str(transaction_pb2.TxValidationCode.Name(processed.validationCode))

    def close(self) -> None:
        """Close the connection to the peer."""
        self._contract.close()

    def __enter__(self) -> LedgerReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _evaluate(self, function: str, *args: str) -> bytes:
        return self._contract.evaluate(function, *args)


def _parse(kind: Any, raw: bytes, what: str) -> Any:
    try:
        return kind.FromString(raw)
    except DecodeError as exc:
        raise GatewayError("evaluate", f"qscc returned a malformed {what}: {exc}") from exc


def open_reader(
    profile: str | Path | Mapping[str, Any] | NetworkProfile, org: str, user: str = "Admin"
) -> LedgerReader:
    """A reader of ``org``'s peer as ``user`` (a channel reader). Raises LedgerError as
    ``connect`` does."""
    network = profile if isinstance(profile, NetworkProfile) else load_profile(profile)
    msp_id = network.org(org).msp_id
    contract = connect(
        network,
        org=org,
        user=user,
        chaincode=QSCC,
        gateway_orgs=[org],
        evaluate_orgs=[msp_id],
    )
    return LedgerReader(contract, org)
