"""The fedledger Contract on a real Fabric network, through a peer's Gateway service.

submit = build and sign a proposal -> Endorse -> sign the prepared envelope -> Submit ->
CommitStatus -> check the validation code -> the chaincode's result.

Retries (FABRIC_NOTES): a Submit or CommitStatus that times out (or finds no orderer) is re-sent
with the same signed transaction, which cannot commit twice (a duplicate tx id is invalidated);
an MVCC or phantom read conflict means the endorsement read stale state, so a fresh proposal is
built and endorsed again; a chaincode rejection (ContractError) is never retried. Every error
carries the transaction id and the stage that failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import transaction_pb2

from fedledger.errors import CommitError, GatewayError, LedgerError
from fedledger.ledger.identity import Identity, identity_from_profile
from fedledger.ledger.interface import ChaincodeEvent
from fedledger.ledger.profile import NetworkProfile, load_profile
from fedledger.ledger.proposal import (
    Proposal,
    build_proposal,
    serialize_identity,
    sign_proposal,
)
from fedledger.ledger.rpc_errors import status_code, translate_rpc_error
from fedledger.ledger.signing import sha256
from fedledger.ledger.transaction import sign_envelope, transaction_result
from fedledger.ledger.transport import GatewayTransport, Timeouts, open_channel

__all__ = ["GatewayContract", "RetryPolicy", "connect"]

_T = TypeVar("_T")
_RESEND_CODES = frozenset({grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE})
_REBUILD_CODES = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"})
_VALID = transaction_pb2.TxValidationCode.Value("VALID")


@dataclass(frozen=True)
class RetryPolicy:
    """How often to re-send one signed transaction, and how often to rebuild after a conflict."""

    resend_attempts: int = 3
    conflict_attempts: int = 8
    backoff_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.resend_attempts < 1 or self.conflict_attempts < 1 or self.backoff_seconds < 0:
            raise LedgerError("retry attempts must be at least 1 and the backoff non-negative")


_DIVERGED = "ProposalResponsePayloads do not match"


class GatewayContract:
    """fedledger's chaincode seen by one identity through one gateway peer (a ``Contract``)."""

    def __init__(
        self,
        transport: GatewayTransport,
        identity: Identity,
        channel: str,
        chaincode: str,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if identity.signer is None:
            raise LedgerError(f"identity of {identity.msp_id} has no signer: it cannot transact")
        self._transport = transport
        self.identity = identity
        self.channel = channel
        self.chaincode = chaincode
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._creator = serialize_identity(identity)

    def evaluate(self, function: str, *args: str) -> bytes:
        """Run ``function(*args)`` on one peer without ordering; returns the chaincode's result.

        Raises ContractError (stage "evaluate") with the contract's message when it rejects the
        call, GatewayError when the gateway or the peer fails.
        """
        proposal = self._proposal(function, args)
        request = gateway_pb2.EvaluateRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.channel,
            proposed_transaction=sign_proposal(proposal, self.identity),
        )
        try:
            response = self._transport.evaluate(request)
        except grpc.RpcError as error:
            raise translate_rpc_error(error, "evaluate", proposal.tx_id) from error
        return bytes(response.result.payload)

    def submit(self, function: str, *args: str) -> bytes:
        """Endorse, order and commit ``function(*args)``; returns the chaincode's result.

        Raises ContractError (stage "endorse") when the contract rejects it, CommitError when the
        committed transaction is invalid (after bounded rebuilds for read conflicts), GatewayError
        when a stage fails.
        """
        attempt = 1
        while True:
            proposal = self._proposal(function, args)
            try:
                envelope = self._endorse(proposal)
            except GatewayError as error:
                # Endorsers at different block heights return different results; the proposal
                # was never ordered, so a fresh one is safe once the peers have caught up.
                if _DIVERGED not in error.details or attempt >= self._retry.conflict_attempts:
                    raise
                self._sleep(self._retry.backoff_seconds * attempt)
                attempt += 1
                continue
            self._submit(proposal.tx_id, envelope)
            status = self._commit_status(proposal.tx_id)
            if status.result == _VALID:
                return transaction_result(envelope, proposal.tx_id)
            code = _validation_code_name(status.result)
            if code not in _REBUILD_CODES or attempt >= self._retry.conflict_attempts:
                raise CommitError(proposal.tx_id, code, status.block_number)
            self._sleep(self._retry.backoff_seconds * attempt)
            attempt += 1

    def endorse_only(self, function: str, *args: str) -> bytes:
        """Collect endorsements for ``function(*args)`` without ordering it; returns its result.

        Proves that discovery finds enough endorsers for the policy (used to tell when a freshly
        started network is ready). Raises as ``submit`` would at the endorse stage.
        """
        proposal = self._proposal(function, args)
        return transaction_result(self._endorse(proposal), proposal.tx_id)

    def events(
        self, start_block: int | None = 0, *, timeout: float | None = None
    ) -> Iterator[ChaincodeEvent]:
        """Yield this chaincode's events from block ``start_block`` on (``None``: from the
        newest block), blocking for new ones.

        The stream ends when the contract is closed, the generator is closed, or ``timeout``
        seconds pass. Raises GatewayError (stage "events") when the stream fails.
        """
        if start_block is None:
            position = ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())
        elif start_block < 0:
            raise LedgerError(f"start_block must be non-negative, got {start_block}")
        else:
            position = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
        request = gateway_pb2.ChaincodeEventsRequest(
            channel_id=self.channel,
            chaincode_id=self.chaincode,
            identity=self._creator,
            start_position=position,
        ).SerializeToString()
        signed = gateway_pb2.SignedChaincodeEventsRequest(
            request=request, signature=self.identity.sign(sha256(request))
        )
        stream = self._transport.chaincode_events(signed, timeout=timeout)
        try:
            yield from _stream_events(stream)
        finally:
            stream.cancel()

    def close(self) -> None:
        """Close the connection to the gateway peer; open event streams end."""
        self._transport.close()

    def __enter__(self) -> GatewayContract:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _proposal(self, function: str, args: tuple[str, ...]) -> Proposal:
        return build_proposal(self.identity, self.channel, self.chaincode, function, args)

    def _endorse(self, proposal: Proposal) -> common_pb2.Envelope:
        request = gateway_pb2.EndorseRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.channel,
            proposed_transaction=sign_proposal(proposal, self.identity),
        )
        try:
            response = self._transport.endorse(request)
        except grpc.RpcError as error:
            raise translate_rpc_error(error, "endorse", proposal.tx_id) from error
        if not response.prepared_transaction.payload:
            raise GatewayError("endorse", "no prepared transaction returned", tx_id=proposal.tx_id)
        return sign_envelope(response.prepared_transaction, self.identity)

    def _submit(self, tx_id: str, envelope: common_pb2.Envelope) -> None:
        request = gateway_pb2.SubmitRequest(
            transaction_id=tx_id, channel_id=self.channel, prepared_transaction=envelope
        )
        self._resending("submit", tx_id, lambda: self._transport.submit(request))

    def _commit_status(self, tx_id: str) -> gateway_pb2.CommitStatusResponse:
        request = gateway_pb2.CommitStatusRequest(
            transaction_id=tx_id, channel_id=self.channel, identity=self._creator
        ).SerializeToString()
        signed = gateway_pb2.SignedCommitStatusRequest(
            request=request, signature=self.identity.sign(sha256(request))
        )
        return self._resending("commit", tx_id, lambda: self._transport.commit_status(signed))

    def _resending(self, stage: str, tx_id: str, call: Callable[[], _T]) -> _T:
        attempt = 1
        while True:
            try:
                return call()
            except grpc.RpcError as error:
                retryable = status_code(error) in _RESEND_CODES
                if not retryable or attempt >= self._retry.resend_attempts:
                    raise translate_rpc_error(error, stage, tx_id) from error
            self._sleep(self._retry.backoff_seconds * attempt)
            attempt += 1


def _stream_events(stream: Any) -> Iterator[ChaincodeEvent]:
    try:
        for response in stream:
            for event in response.events:
                yield ChaincodeEvent(
                    block_number=response.block_number,
                    tx_id=event.tx_id,
                    name=event.event_name,
                    payload=bytes(event.payload),
                )
    except grpc.RpcError as error:
        if status_code(error) in (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED):
            return
        raise translate_rpc_error(error, "events") from error


def _validation_code_name(code: int) -> str:
    try:
        return str(transaction_pb2.TxValidationCode.Name(code))
    except ValueError:
        return f"UNKNOWN_VALIDATION_CODE_{code}"


def connect(
    profile: str | Path | Mapping[str, Any] | NetworkProfile,
    org: str = "Org1",
    user: str = "User1",
    *,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    identity: Identity | None = None,
) -> GatewayContract:
    """Connect ``user`` of ``org`` to the chaincode through the org's gateway peer, over TLS.

    ``profile`` is a NetworkProfile, a network.json path or its state folder, or the parsed dict.
    ``identity`` replaces the user's MSP folder as the signing identity (e.g. a key held
    elsewhere); the connection still goes to ``org``'s peer.
    Returns the GatewayContract (close it, or use it as a context manager). The connection is
    lazy: an unreachable peer surfaces as GatewayError on the first call. Raises LedgerError when
    the profile, org, user, identity files or TLS CA certificate are missing or invalid.
    """
    network = profile if isinstance(profile, NetworkProfile) else load_profile(profile)
    org_profile = network.org(org)
    identity = identity or identity_from_profile(network, org, user)
    try:
        tls_ca = org_profile.peer.tls_ca.read_bytes()
    except OSError as exc:
        raise LedgerError(
            f"cannot read the TLS CA certificate of {org}: {org_profile.peer.tls_ca} ({exc})"
        ) from exc
    channel = open_channel(
        org_profile.peer.address,
        tls_root_certificates=tls_ca,
        host_name_override=org_profile.peer.host,
    )
    transport = GatewayTransport(channel, timeouts)
    return GatewayContract(transport, identity, network.channel, network.chaincode, retry=retry)
