"""The prediction service's messages, as bytes: strict framing, one encoding per message.

The service (fedledger.roles.prediction.provider) runs over gRPC without generated code: each
method takes and returns one of these byte strings. Integers are unsigned big-endian; version 1::

    OpenSession   request   the consumer's public context (fedledger.inference.public_context)
                  response  "FLSS" | 1 | session id (16 bytes)
    Predict       request   "FLPQ" | 1 | session id (16) | request id (u8 length, 1..128 printable
                            ASCII) | input ciphertext (u32 length)
                  response  "FLPA" | 1 | provider compute microseconds u32 | result (u32 length)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from fedledger.errors import InferenceError
from fedledger.inference.framing import Reader

__all__ = [
    "SESSION_ID_BYTES",
    "PredictReply",
    "PredictRequest",
    "decode_predict_reply",
    "decode_predict_request",
    "decode_session_reply",
    "encode_predict_reply",
    "encode_predict_request",
    "encode_session_reply",
]

VERSION = 1
SESSION_ID_BYTES = 16
MAX_REQUEST_ID = 128
_SESSION_MAGIC = b"FLSS"
_REQUEST_MAGIC = b"FLPQ"
_REPLY_MAGIC = b"FLPA"


@dataclass(frozen=True)
class PredictRequest:
    """One prediction: the session, the consumer's request id, the input ciphertext."""

    session_id: bytes
    request_id: str
    ciphertext: bytes


@dataclass(frozen=True)
class PredictReply:
    """The encrypted result and the provider's compute time for it."""

    compute_micros: int
    result: bytes


def _check_request_id(request_id: str) -> bytes:
    raw = request_id.encode("ascii", errors="replace")
    if not 1 <= len(raw) <= MAX_REQUEST_ID or not all(0x21 <= b <= 0x7E for b in raw):
        raise InferenceError(f"request id must be 1 to {MAX_REQUEST_ID} printable ASCII characters")
    return raw


def encode_session_reply(session_id: bytes) -> bytes:
    return _SESSION_MAGIC + bytes([VERSION]) + session_id


def decode_session_reply(data: bytes) -> bytes:
    """The session id in an OpenSession reply; raises InferenceError if malformed."""
    reader = Reader(data, "session reply")
    reader.expect(_SESSION_MAGIC, VERSION)
    session_id = reader.take(SESSION_ID_BYTES, "session id")
    reader.finish()
    return session_id


def encode_predict_request(request: PredictRequest) -> bytes:
    raw_id = _check_request_id(request.request_id)
    return b"".join(
        [
            _REQUEST_MAGIC,
            bytes([VERSION]),
            request.session_id,
            bytes([len(raw_id)]),
            raw_id,
            struct.pack(">I", len(request.ciphertext)),
            request.ciphertext,
        ]
    )


def decode_predict_request(data: bytes) -> PredictRequest:
    """Parse a Predict request; raises InferenceError naming the malformed field."""
    reader = Reader(data, "predict request")
    reader.expect(_REQUEST_MAGIC, VERSION)
    session_id = reader.take(SESSION_ID_BYTES, "session id")
    request_id = reader.prefixed(1, "request id").decode("ascii", errors="replace")
    _check_request_id(request_id)
    ciphertext = reader.prefixed(4, "input ciphertext")
    reader.finish()
    return PredictRequest(session_id, request_id, ciphertext)


def encode_predict_reply(reply: PredictReply) -> bytes:
    return b"".join(
        [
            _REPLY_MAGIC,
            bytes([VERSION]),
            struct.pack(">II", reply.compute_micros, len(reply.result)),
            reply.result,
        ]
    )


def decode_predict_reply(data: bytes) -> PredictReply:
    """Parse a Predict reply; raises InferenceError if malformed."""
    reader = Reader(data, "predict reply")
    reader.expect(_REPLY_MAGIC, VERSION)
    micros = reader.uint(4, "compute time")
    result = reader.prefixed(4, "result")
    reader.finish()
    return PredictReply(micros, result)
