"""The fedledger Contract on a real Fabric network, through the peers' Gateway services.

submit = build and sign a proposal -> Endorse -> sign the prepared envelope -> Submit ->
CommitStatus -> check the validation code -> the chaincode's result.

Failover: the contract holds a list of gateway peers (its own org's first, then the others; see
``failover.PeerList``). A call that finds its peer unreachable (UNAVAILABLE) moves to the next;
so does an Endorse that the gateway's own org could not endorse (its chaincode server is down:
Fabric's gateway always endorses on its own org's peers first).

Retries (Fabric's rules, FABRIC_NOTES):
- Evaluate and Endorse order nothing, so after UNAVAILABLE the same signed request goes to the
  next peer;
- once a Submit has been attempted the transaction may be ordered, even if the call failed. A
  fresh proposal (a new transaction id) could then commit the same change twice, so after any
  transient failure (UNAVAILABLE, DEADLINE_EXCEEDED) of Submit or CommitStatus the client first
  asks CommitStatus by transaction id on the next peer, for at most ``probe_seconds``. A status
  ends the retry; no status means the transaction is not (yet) on that peer's ledger, and the
  same signed envelope is submitted again: a transaction id commits at most once (a second copy
  is invalidated as DUPLICATE_TXID, and CommitStatus reports the first);
- an MVCC or phantom read conflict means the endorsement read stale state, so a fresh proposal
  is built and endorsed again; so is a proposal whose endorsers disagree (they were at
  different block heights);
- a chaincode rejection (ContractError) is never retried.
Every error carries the transaction id and the stage that failed.

The retry settings and the classification of failures live in :mod:`fedledger.ledger.retry`,
the signed CommitStatus and ChaincodeEvents requests in :mod:`fedledger.ledger.signed_requests`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2

from fedledger.errors import CommitError, GatewayError, LedgerError
from fedledger.ledger.failover import GatewayPeer, PeerList
from fedledger.ledger.identity import Identity, identity_from_profile
from fedledger.ledger.interface import ChaincodeEvent
from fedledger.ledger.profile import NetworkProfile, load_profile
from fedledger.ledger.proposal import (
    Proposal,
    build_proposal,
    serialize_identity,
    sign_proposal,
)
from fedledger.ledger.retry import (
    DIVERGED,
    REBUILD_CODES,
    RESEND_CODES,
    RetryCounts,
    RetryPolicy,
    endorser_failed,
    unreachable,
)
from fedledger.ledger.rpc_errors import status_code, translate_rpc_error
from fedledger.ledger.signed_requests import (
    commit_status_request,
    events_of,
    events_request,
    validation_code_name,
)
from fedledger.ledger.transaction import sign_envelope, transaction_result
from fedledger.ledger.transport import GatewayCalls, GatewayTransport, Timeouts, open_channel

__all__ = ["GatewayContract", "RetryCounts", "RetryPolicy", "connect"]

_T = TypeVar("_T")
_VALID = transaction_pb2.TxValidationCode.Value("VALID")


class GatewayContract:
    """fedledger's chaincode seen by one identity through a list of gateway peers (a
    ``Contract``)."""

    def __init__(
        self,
        peers: GatewayCalls | Sequence[GatewayPeer] | PeerList,
        identity: Identity,
        channel: str,
        chaincode: str,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        evaluate_orgs: Sequence[str] = (),
    ) -> None:
        if identity.signer is None:
            raise LedgerError(f"identity of {identity.msp_id} has no signer: it cannot transact")
        if isinstance(peers, PeerList):
            self._peers = peers
        elif isinstance(peers, Sequence):
            self._peers = PeerList(peers)
        else:
            self._peers = PeerList([GatewayPeer("gateway", peers)])
        self.identity = identity
        self.channel = channel
        self.chaincode = chaincode
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._creator = serialize_identity(identity)
        self._evaluate_orgs = list(evaluate_orgs)
        self.retries = RetryCounts()

    @property
    def gateway(self) -> str:
        """The name (address) of the gateway peer calls go to now."""
        return self._peers.current.name

    def evaluate(self, function: str, *args: str) -> bytes:
        """Run ``function(*args)`` on one peer without ordering; returns the chaincode's result.

        Raises ContractError (stage "evaluate") with the contract's message when it rejects the
        call, GatewayError when the gateway or the peer fails (on every peer, if unreachable).
        """
        proposal = self._proposal(function, args)
        request = gateway_pb2.EvaluateRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.channel,
            proposed_transaction=sign_proposal(proposal, self.identity),
            target_organizations=self._evaluate_orgs,
        )
        response = self._unordered(
            "evaluate", proposal.tx_id, lambda t: t.evaluate(request), unreachable
        )
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
                if DIVERGED not in error.details or attempt >= self._retry.conflict_attempts:
                    raise
                self.retries.divergent += 1
                self._sleep(self._retry.backoff_seconds * attempt)
                attempt += 1
                continue
            status = self._order(proposal.tx_id, envelope)
            if status.result == _VALID:
                return transaction_result(envelope, proposal.tx_id)
            code = validation_code_name(status.result)
            if code not in REBUILD_CODES or attempt >= self._retry.conflict_attempts:
                raise CommitError(proposal.tx_id, code, status.block_number)
            self.retries.conflicts += 1
            self._sleep(self._retry.conflict_backoff_seconds * attempt * random.random())
            attempt += 1

    def endorse_only(self, function: str, *args: str) -> bytes:
        """Collect endorsements for ``function(*args)`` without ordering it; returns its result.

        Proves that discovery finds enough endorsers for the policy (used to tell when a freshly
        started network is ready). Raises as ``submit`` would at the endorse stage.
        """
        proposal = self._proposal(function, args)
        return transaction_result(self._endorse(proposal), proposal.tx_id)

    def commit_status(self, tx_id: str, *, timeout: float | None = None) -> str | None:
        """The validation code name of transaction ``tx_id`` on the current gateway peer's ledger.

        Waits up to ``timeout`` seconds (default: the probe time of the retry policy) and
        returns None when the peer has not committed it by then. Raises GatewayError when the
        peer fails otherwise.
        """
        wait = self._retry.probe_seconds if timeout is None else timeout
        try:
            status = self._probe(self._peers.current, tx_id, wait)
        except grpc.RpcError as error:
            raise translate_rpc_error(error, "commit", tx_id) from error
        return None if status is None else validation_code_name(status.result)

    def events(
        self, start_block: int | None = 0, *, timeout: float | None = None
    ) -> Iterator[ChaincodeEvent]:
        """Yield this chaincode's events from block ``start_block`` on (``None``: from the
        newest block), blocking for new ones.

        A stream whose peer becomes unreachable resumes on the next peer after the last block
        it delivered. The stream ends when the contract is closed, the generator is closed, or
        ``timeout`` seconds pass on one peer. Raises GatewayError (stage "events") when the
        stream fails on every peer.
        """
        if start_block is not None and start_block < 0:
            raise LedgerError(f"start_block must be non-negative, got {start_block}")
        next_block, failures = start_block, 0
        while True:
            peer = self._peers.current
            stream = None
            try:
                stream = peer.transport.chaincode_events(
                    events_request(
                        self.identity, self._creator, self.channel, self.chaincode, next_block
                    ),
                    timeout=timeout,
                )
                for response in stream:
                    failures = 0
                    yield from events_of(response)
                    next_block = response.block_number + 1
                return
            except grpc.RpcError as error:
                code = status_code(error)
                if code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED):
                    return
                failures += 1
                if code != grpc.StatusCode.UNAVAILABLE or failures >= len(self._peers):
                    raise translate_rpc_error(error, "events") from error
                self._fail_over(peer)
            finally:
                if stream is not None:
                    stream.cancel()

    def close(self) -> None:
        """Close the connections to the gateway peers; open event streams end."""
        self._peers.close()

    def __enter__(self) -> GatewayContract:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail_over(self, failed: GatewayPeer) -> None:
        if len(self._peers) > 1:
            self.retries.failovers += 1
        self._peers.fail_over(failed)

    def _proposal(self, function: str, args: tuple[str, ...]) -> Proposal:
        return build_proposal(self.identity, self.channel, self.chaincode, function, args)

    def _unordered(
        self,
        stage: str,
        tx_id: str,
        call: Callable[[GatewayCalls], _T],
        moves_on: Callable[[grpc.RpcError, LedgerError], bool],
    ) -> _T:
        """Make a call that orders nothing, on each peer in turn while ``moves_on`` says the
        failure is the peer's (given the gRPC error and its translation)."""
        tried = 0
        while True:
            peer = self._peers.current
            try:
                return call(peer.transport)
            except grpc.RpcError as error:
                tried += 1
                translated = translate_rpc_error(error, stage, tx_id)
                if tried >= len(self._peers) or not moves_on(error, translated):
                    raise translated from error
                self._fail_over(peer)

    def _endorse(self, proposal: Proposal) -> common_pb2.Envelope:
        request = gateway_pb2.EndorseRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.channel,
            proposed_transaction=sign_proposal(proposal, self.identity),
        )
        response = self._unordered(
            "endorse", proposal.tx_id, lambda t: t.endorse(request), endorser_failed
        )
        if not response.prepared_transaction.payload:
            raise GatewayError("endorse", "no prepared transaction returned", tx_id=proposal.tx_id)
        return sign_envelope(response.prepared_transaction, self.identity)

    def _order(self, tx_id: str, envelope: common_pb2.Envelope) -> gateway_pb2.CommitStatusResponse:
        """Submit the signed envelope and wait for its commit; return the commit status.

        After a transient failure of Submit or CommitStatus, the next attempt (on the next peer)
        asks for the transaction's status before it submits the same envelope again.
        """
        request = gateway_pb2.SubmitRequest(
            transaction_id=tx_id, channel_id=self.channel, prepared_transaction=envelope
        )
        may_be_ordered = False
        attempt = 1
        while True:
            peer = self._peers.current
            stage = "commit"
            try:
                if may_be_ordered:
                    self.retries.probes += 1
                    status = self._probe(peer, tx_id, self._retry.probe_seconds)
                    if status is not None:
                        return status
                    self.retries.resubmits += 1
                stage = "submit"
                may_be_ordered = True
                peer.transport.submit(request)
                stage = "commit"
                return peer.transport.commit_status(self._commit_status_request(tx_id))
            except grpc.RpcError as error:
                if status_code(error) not in RESEND_CODES or attempt >= self._retry.resend_attempts:
                    raise translate_rpc_error(error, stage, tx_id) from error
            self._fail_over(peer)
            self._sleep(self._retry.backoff_seconds * attempt)
            attempt += 1

    def _probe(
        self, peer: GatewayPeer, tx_id: str, seconds: float
    ) -> gateway_pb2.CommitStatusResponse | None:
        """CommitStatus for ``seconds``; None when the peer has not committed ``tx_id`` by then."""
        try:
            return peer.transport.commit_status(self._commit_status_request(tx_id), seconds)
        except grpc.RpcError as error:
            if status_code(error) == grpc.StatusCode.DEADLINE_EXCEEDED:
                return None
            raise

    def _commit_status_request(self, tx_id: str) -> gateway_pb2.SignedCommitStatusRequest:
        return commit_status_request(self.identity, self._creator, self.channel, tx_id)


def connect(
    profile: str | Path | Mapping[str, Any] | NetworkProfile,
    org: str = "Org1",
    user: str = "User1",
    *,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    gateway_orgs: Sequence[str] | None = None,
    evaluate_orgs: Sequence[str] = (),
    chaincode: str | None = None,
    identity: Identity | None = None,
) -> GatewayContract:
    """Connect ``user`` of ``org`` to the chaincode through gateway peers, over TLS.

    ``profile`` is a NetworkProfile, a network.json path or its state folder, or the parsed dict.
    ``gateway_orgs`` names the orgs whose gateway peers the contract may use, in order (default:
    ``org``'s own first, then every other org of the profile); ``[org]`` pins the contract to its
    own peer. ``evaluate_orgs`` restricts which orgs' peers run evaluations (default: the
    gateway's choice, its own org first). ``chaincode`` defaults to the profile's. ``identity``
    replaces the user's MSP folder as the signing identity (e.g. a key held elsewhere).

    Returns the GatewayContract (close it, or use it as a context manager). Connections are
    lazy: an unreachable peer surfaces on the first call. Raises LedgerError when the profile,
    an org, the user, identity files or a TLS CA certificate are missing or invalid.
    """
    network = profile if isinstance(profile, NetworkProfile) else load_profile(profile)
    identity = identity or identity_from_profile(network, org, user)
    names = network.gateway_orgs(org) if gateway_orgs is None else list(gateway_orgs)
    peers = [_gateway_peer(network, name, timeouts) for name in names]
    return GatewayContract(
        peers,
        identity,
        network.channel,
        network.chaincode if chaincode is None else chaincode,
        retry=retry,
        evaluate_orgs=evaluate_orgs,
    )


def _gateway_peer(network: NetworkProfile, org: str, timeouts: Timeouts | None) -> GatewayPeer:
    peer = network.org(org).peer
    try:
        tls_ca = peer.tls_ca.read_bytes()
    except OSError as exc:
        raise LedgerError(
            f"cannot read the TLS CA certificate of {org}: {peer.tls_ca} ({exc})"
        ) from exc
    channel = open_channel(peer.address, tls_root_certificates=tls_ca, host_name_override=peer.host)
    return GatewayPeer(peer.address, GatewayTransport(channel, timeouts))
