"""A prediction consumer: keeps the CKKS secret key, sends encrypted inputs, decrypts results.

One session per provider: create keys for the offer's parameter set and model layout, upload the
public context once, then per input encrypt, send with a request id, and decrypt the logits. The
encryption is a separate step so that the paid flow can hash the exact ciphertext bytes and pay
for them on the ledger before sending. Times and bytes are measured per prediction.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np

from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.layout import FloatArray
from fedledger.inference.messages import (
    PredictRequest,
    decode_predict_reply,
    decode_session_reply,
    encode_predict_request,
)
from fedledger.roles.prediction.transport import PredictionClient

__all__ = ["Prediction", "PredictionConsumer", "Session"]


@dataclass(frozen=True)
class Session:
    """An open session with one provider: its id, the context's size and upload time."""

    session_id: bytes
    context_bytes: int
    seconds: float


@dataclass(frozen=True, eq=False)
class Prediction:
    """One decrypted prediction with what it cost."""

    request_id: str
    label: int
    logits: FloatArray
    request_bytes: int
    response_bytes: int
    round_trip_s: float
    provider_s: float
    decrypt_s: float
    response_sha256: str = ""  # of the encrypted result, as the provider's receipt states it


class PredictionConsumer:
    """A consumer's session with one provider endpoint."""

    def __init__(self, keyholder: KeyHolder, client: PredictionClient) -> None:
        self.keyholder = keyholder
        self.client = client
        self.session: Session | None = None

    def open_session(self) -> Session:
        """Upload the public context; raises PredictionError if the provider refuses it."""
        context = self.keyholder.public_context()
        started = time.perf_counter()
        reply = self.client.call("OpenSession", context)
        self.session = Session(
            decode_session_reply(reply), len(context), time.perf_counter() - started
        )
        return self.session

    def encrypt(self, x: FloatArray) -> bytes:
        """The input ciphertext of one image (hash these bytes to pay for them)."""
        return self.keyholder.encrypt(x)

    def send(self, request_id: str, ciphertext: bytes) -> Prediction:
        """Send one encrypted input and decrypt the answer; opens a session if none is open.

        Raises PredictionError when the provider refuses, InferenceError for a malformed answer.
        """
        session = self.session or self.open_session()
        message = encode_predict_request(PredictRequest(session.session_id, request_id, ciphertext))
        started = time.perf_counter()
        raw = self.client.call("Predict", message)
        round_trip = time.perf_counter() - started
        reply = decode_predict_reply(raw)
        started = time.perf_counter()
        logits = self.keyholder.decrypt(reply.result)
        decrypt_s = time.perf_counter() - started
        return Prediction(
            request_id=request_id,
            label=int(np.argmax(logits)),
            logits=logits,
            request_bytes=len(message),
            response_bytes=len(raw),
            round_trip_s=round_trip,
            provider_s=reply.compute_micros / 1e6,
            decrypt_s=decrypt_s,
            response_sha256=hashlib.sha256(reply.result).hexdigest(),
        )
