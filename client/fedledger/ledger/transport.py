"""The gRPC channel to a gateway peer and the five Gateway calls, with limits and timeouts.

The transport moves already-signed messages; it never sees a key. It raises ``grpc.RpcError``
unchanged: the Contract implementation decides on retries from the status code and translates
the error once (rpc_errors).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, cast

import grpc
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc

from fedledger.errors import GatewayError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "EventStream",
    "GatewayCalls",
    "GatewayTransport",
    "Timeouts",
    "open_channel",
]

# Peers and orderers accept 100 MiB messages; gRPC's 4 MiB client default would refuse the
# prepared transaction the gateway returns whole after endorsement.
MAX_MESSAGE_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Deadlines in seconds per Gateway call; CommitStatus waits for a block to be cut.

    A transaction still not committed after ``commit_status`` seconds may have been lost by the
    ordering service (a Raft leader that crashed before ordering it): the contract then probes
    its status and re-sends the same signed transaction, so this is a latency bound, not a
    failure bound.
    """

    evaluate: float = 30.0
    endorse: float = 60.0
    submit: float = 30.0
    commit_status: float = 30.0


class EventStream(Protocol):
    """A server-streaming call: iterate the responses, cancel to stop."""

    def __iter__(self) -> Iterator[gateway_pb2.ChaincodeEventsResponse]: ...

    def cancel(self) -> bool: ...


class GatewayCalls(Protocol):
    """The Gateway service of one peer, as the Contract uses it (GatewayTransport, or a fake)."""

    def evaluate(self, request: gateway_pb2.EvaluateRequest) -> gateway_pb2.EvaluateResponse: ...

    def endorse(self, request: gateway_pb2.EndorseRequest) -> gateway_pb2.EndorseResponse: ...

    def submit(self, request: gateway_pb2.SubmitRequest) -> gateway_pb2.SubmitResponse: ...

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, timeout: float | None = None
    ) -> gateway_pb2.CommitStatusResponse: ...

    def chaincode_events(
        self, request: gateway_pb2.SignedChaincodeEventsRequest, timeout: float | None = None
    ) -> EventStream: ...

    def close(self) -> None: ...


def open_channel(
    address: str,
    *,
    tls_root_certificates: bytes | None = None,
    host_name_override: str | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> grpc.Channel:
    """Open a gRPC channel to ``address`` (host:port), with TLS when a root CA PEM is given.

    ``host_name_override`` is the name checked against the peer's TLS certificate, so the peer can
    be dialled by IP address. Without ``tls_root_certificates`` the channel is plaintext (for
    in-process fakes only). Returns the channel. Raises GatewayError for an empty address.
    """
    if not address or ":" not in address:
        raise GatewayError("connect", f"peer address must be host:port, got {address!r}")
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
    ]
    if tls_root_certificates is None:
        return grpc.insecure_channel(address, options=options)
    if host_name_override:
        options.append(("grpc.ssl_target_name_override", host_name_override))
    credentials = grpc.ssl_channel_credentials(root_certificates=tls_root_certificates)
    return grpc.secure_channel(address, credentials, options=options)


class GatewayTransport:
    """The ``gateway.Gateway`` service over one channel, each call with its deadline."""

    def __init__(self, channel: grpc.Channel, timeouts: Timeouts | None = None) -> None:
        self._channel = channel
        self._stub = gateway_pb2_grpc.GatewayStub(channel)
        self.timeouts = timeouts or Timeouts()

    def evaluate(self, request: gateway_pb2.EvaluateRequest) -> gateway_pb2.EvaluateResponse:
        """Run a proposal on one peer; returns its response. Raises grpc.RpcError."""
        return cast(
            gateway_pb2.EvaluateResponse,
            self._stub.Evaluate(request, timeout=self.timeouts.evaluate),
        )

    def endorse(self, request: gateway_pb2.EndorseRequest) -> gateway_pb2.EndorseResponse:
        """Collect endorsements; returns the prepared transaction. Raises grpc.RpcError."""
        return cast(
            gateway_pb2.EndorseResponse,
            self._stub.Endorse(request, timeout=self.timeouts.endorse),
        )

    def submit(self, request: gateway_pb2.SubmitRequest) -> gateway_pb2.SubmitResponse:
        """Send a signed transaction to the orderers. Raises grpc.RpcError."""
        return cast(
            gateway_pb2.SubmitResponse,
            self._stub.Submit(request, timeout=self.timeouts.submit),
        )

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, timeout: float | None = None
    ) -> gateway_pb2.CommitStatusResponse:
        """Wait for a transaction's commit (``timeout`` seconds, default the configured one);
        returns its validation code. Raises grpc.RpcError (DEADLINE_EXCEEDED while the peer has
        not committed it)."""
        deadline = self.timeouts.commit_status if timeout is None else timeout
        return cast(
            gateway_pb2.CommitStatusResponse,
            self._stub.CommitStatus(request, timeout=deadline),
        )

    def chaincode_events(
        self, request: gateway_pb2.SignedChaincodeEventsRequest, timeout: float | None = None
    ) -> EventStream:
        """Open the event stream (no deadline unless ``timeout``); returns the cancellable call."""
        return cast(EventStream, self._stub.ChaincodeEvents(request, timeout=timeout))

    def close(self) -> None:
        """Close the channel; calls in flight end with CANCELLED."""
        self._channel.close()
