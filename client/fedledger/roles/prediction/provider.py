"""A prediction provider: serves encrypted predictions of one model over TLS gRPC.

Flow per consumer: ``OpenSession`` with its public CKKS context (parsed and checked once, kept
in a bounded table of sessions), then one ``Predict`` per input carrying the session id, the
consumer's request id and the input ciphertext. Before evaluating, the provider asks its
:class:`RequestGate` to admit the request (the local gate refuses a request id it has served or is
serving; the ledger gate will also require a paid request whose input hash matches); after
evaluating, it reports the response's hash to the gate (on the ledger: the receipt) and only then
returns the encrypted logits. Every refusal is a PredictionError with a gRPC status code:

    INVALID_ARGUMENT     a message, context or ciphertext that does not parse or does not fit
    RESOURCE_EXHAUSTED   a Predict message over the size limit
    NOT_FOUND            an unknown session
    ALREADY_EXISTS       a request id already served (replay) or being served
    FAILED_PRECONDITION  a request the gate does not admit (unpaid, input hash mismatch)
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from typing import Protocol

import grpc

from fedledger.errors import InferenceError, PredictionError
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.messages import (
    PredictReply,
    decode_predict_request,
    encode_predict_reply,
    encode_session_reply,
)
from fedledger.inference.public_context import EvaluationKeys
from fedledger.roles.prediction.transport import MAX_PREDICT_BYTES, ServerTls, start_server

__all__ = ["MemoryGate", "PredictionProvider", "RequestGate"]

MAX_SESSIONS = 8


class RequestGate(Protocol):
    """Decides which requests a provider serves and records what it served."""

    def admit(self, request_id: str, input_sha256: str) -> None:
        """Reserve ``request_id`` for serving; raise PredictionError to refuse it."""

    def release(self, request_id: str) -> None:
        """Give up a reservation after a failure, so the request can be sent again."""

    def served(self, request_id: str, input_sha256: str, response_sha256: str) -> None:
        """Record that ``request_id`` was answered with a response of ``response_sha256``."""


class MemoryGate:
    """Admits any request id once: refuses one it has served or is serving (replay)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self.receipts: dict[str, str] = {}

    def admit(self, request_id: str, input_sha256: str) -> None:
        with self._lock:
            if request_id in self.receipts or request_id in self._busy:
                raise PredictionError("ALREADY_EXISTS", f"request {request_id} was already served")
            self._busy.add(request_id)

    def release(self, request_id: str) -> None:
        with self._lock:
            self._busy.discard(request_id)

    def served(self, request_id: str, input_sha256: str, response_sha256: str) -> None:
        with self._lock:
            self._busy.discard(request_id)
            self.receipts[request_id] = response_sha256


class PredictionProvider:
    """The service's logic over one encoded model; :meth:`start` puts it on a TLS endpoint."""

    def __init__(self, model: EncryptedMlp, gate: RequestGate, *, max_sessions: int = MAX_SESSIONS):
        self.model = model
        self.gate = gate
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[bytes, EvaluationKeys] = OrderedDict()
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        # One evaluation at a time: SEAL runs on one core and the measured figures assume it.
        self._compute = threading.Lock()

    def open_session(self, context: bytes) -> bytes:
        """Parse a consumer's public context; return the OpenSession reply with a session id."""
        try:
            keys = self.model.load_context(context)
        except InferenceError as exc:
            raise PredictionError("INVALID_ARGUMENT", str(exc)) from exc
        session_id = secrets.token_bytes(16)
        with self._lock:
            self._sessions[session_id] = keys
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return encode_session_reply(session_id)

    def predict(self, message: bytes) -> bytes:
        """Serve one Predict message; return the reply bytes or raise PredictionError."""
        if len(message) > MAX_PREDICT_BYTES:
            raise PredictionError(
                "RESOURCE_EXHAUSTED",
                f"predict request is {len(message)} bytes; the limit is {MAX_PREDICT_BYTES}",
            )
        try:
            request = decode_predict_request(message)
        except InferenceError as exc:
            raise PredictionError("INVALID_ARGUMENT", str(exc)) from exc
        with self._lock:
            keys = self._sessions.get(request.session_id)
        if keys is None:
            raise PredictionError("NOT_FOUND", "unknown or expired session; open a session first")
        try:
            x = self.model.load_input(request.ciphertext)
        except InferenceError as exc:
            raise PredictionError("INVALID_ARGUMENT", str(exc)) from exc
        input_sha256 = hashlib.sha256(request.ciphertext).hexdigest()
        self.gate.admit(request.request_id, input_sha256)
        try:
            with self._compute:
                started = time.perf_counter()
                result = self.model.result_bytes(self.model.evaluate(keys, x))
                micros = round((time.perf_counter() - started) * 1e6)
            self.gate.served(request.request_id, input_sha256, hashlib.sha256(result).hexdigest())
        except BaseException:
            self.gate.release(request.request_id)
            raise
        return encode_predict_reply(PredictReply(micros, result))

    def start(self, *, host: str, port: int, tls: ServerTls) -> int:
        """Listen on ``host:port`` over TLS; return the bound port (``port`` 0 picks one)."""
        handlers = {"OpenSession": self.open_session, "Predict": self.predict}
        self._server, bound = start_server(handlers, host=host, port=port, tls=tls)
        return bound

    def wait(self) -> None:
        """Block until the server stops."""
        if self._server is not None:
            self._server.wait_for_termination()

    def stop(self, grace: float = 1.0) -> None:
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
