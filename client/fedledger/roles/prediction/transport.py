"""The prediction service on the wire: gRPC over TLS, no generated code, bytes in and bytes out.

Service ``fedledger.prediction.v1.Prediction`` has two unary methods, ``OpenSession`` and
``Predict``, whose payloads are the byte strings of :mod:`fedledger.inference.messages`. The
server presents the provider org's TLS certificate; a client trusts only the TLS CA it is given
(the provider org's CA from the network's crypto material) and checks the server's host name.
A refusal travels as a gRPC status code and message, which the client turns back into
:class:`PredictionError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc

from fedledger.errors import PredictionError
from fedledger.inference.ciphertext import MAX_CIPHERTEXT_BYTES
from fedledger.inference.public_context import MAX_CONTEXT_BYTES

__all__ = ["SERVICE", "PredictionClient", "ServerTls", "start_server"]

SERVICE = "fedledger.prediction.v1.Prediction"
# The largest message either side accepts: a public context with a little framing. Larger ones
# gRPC itself refuses with RESOURCE_EXHAUSTED before any of our code runs.
MAX_MESSAGE_BYTES = MAX_CONTEXT_BYTES + 4096
MAX_PREDICT_BYTES = MAX_CIPHERTEXT_BYTES + 4096
_LOG = logging.getLogger(__name__)

Handler = Callable[[bytes], bytes]


@dataclass(frozen=True)
class ServerTls:
    """The provider's TLS certificate chain and private key, PEM."""

    certificate_pem: bytes
    private_key_pem: bytes


def _unary(handler: Handler, method: str) -> grpc.RpcMethodHandler:
    def call(request: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            return handler(request)
        except PredictionError as exc:
            context.abort(getattr(grpc.StatusCode, exc.code), exc.message)
        except Exception:  # a bug must not take the server down; the client gets a status
            _LOG.exception("%s failed", method)
            context.abort(grpc.StatusCode.INTERNAL, f"{method} failed inside the provider")
        raise AssertionError("unreachable: abort raises")

    return grpc.unary_unary_rpc_method_handler(call)


def start_server(
    handlers: dict[str, Handler], *, host: str, port: int, tls: ServerTls, workers: int = 2
) -> tuple[grpc.Server, int]:
    """Start a TLS gRPC server for ``handlers`` (method name -> bytes handler).

    Returns the running server and the port it listens on (``port`` 0 picks a free one). Raises
    PredictionError when the address cannot be bound.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    generic = grpc.method_handlers_generic_handler(
        SERVICE, {name: _unary(fn, name) for name, fn in handlers.items()}
    )
    server.add_generic_rpc_handlers((generic,))
    credentials = grpc.ssl_server_credentials([(tls.private_key_pem, tls.certificate_pem)])
    try:
        bound = server.add_secure_port(f"{host}:{port}", credentials)
    except RuntimeError as exc:
        raise PredictionError("UNAVAILABLE", f"cannot listen on {host}:{port}: {exc}") from exc
    if bound == 0:
        raise PredictionError("UNAVAILABLE", f"cannot listen on {host}:{port}")
    server.start()
    return server, bound


class PredictionClient:
    """A TLS channel to one provider endpoint."""

    def __init__(
        self,
        address: str,
        *,
        tls_ca_pem: bytes,
        server_name: str,
        timeout: float = 120.0,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.ssl_target_name_override", server_name),
        ]
        credentials = grpc.ssl_channel_credentials(root_certificates=tls_ca_pem)
        self._channel = grpc.secure_channel(address, credentials, options=options)
        self.address = address
        self.timeout = timeout

    def call(self, method: str, payload: bytes) -> bytes:
        """Call ``method`` with ``payload``; raises PredictionError with the gRPC status."""
        stub = self._channel.unary_unary(f"/{SERVICE}/{method}")
        try:
            reply: bytes = stub(payload, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise PredictionError(code.name, f"{method} at {self.address}: {details}") from exc
        return reply

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> PredictionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
