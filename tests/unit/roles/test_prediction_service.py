"""The provider and consumer over a real TLS gRPC endpoint on localhost (no ledger).

Every refusal comes back as a gRPC status with a clear message, and the server keeps serving
after each of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import pytest
from support.identities import new_key, private_key_pem, self_signed_pem

from fedledger.errors import PredictionError
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.messages import PredictRequest, encode_predict_request
from fedledger.inference.model import PolyMlp
from fedledger.inference.params import CkksParams
from fedledger.learning.datasets import DataSplit
from fedledger.roles.prediction.consumer import PredictionConsumer
from fedledger.roles.prediction.provider import MemoryGate, PredictionProvider
from fedledger.roles.prediction.transport import (
    MAX_MESSAGE_BYTES,
    MAX_PREDICT_BYTES,
    PredictionClient,
    ServerTls,
)

HOST_NAME = "provider.org1.fedledger.local"


class Endpoint:
    def __init__(self, provider: PredictionProvider, gate: MemoryGate, port: int, ca: bytes):
        self.provider, self.gate, self.port, self.ca = provider, gate, port, ca

    def client(self, ca: bytes | None = None) -> PredictionClient:
        # The client may send more than the server accepts, to test the server's limit.
        return PredictionClient(
            f"127.0.0.1:{self.port}",
            tls_ca_pem=ca or self.ca,
            server_name=HOST_NAME,
            timeout=30,
            max_message_bytes=2 * MAX_MESSAGE_BYTES,
        )


@pytest.fixture(scope="module")
def endpoint(encrypted_model: EncryptedMlp) -> Iterator[Endpoint]:
    key = new_key()
    certificate = self_signed_pem(key, HOST_NAME, ca=True, dns_names=[HOST_NAME, "localhost"])
    gate = MemoryGate()
    provider = PredictionProvider(encrypted_model, gate)
    port = provider.start(
        host="127.0.0.1", port=0, tls=ServerTls(certificate, private_key_pem(key))
    )
    yield Endpoint(provider, gate, port, certificate)
    provider.stop()


@pytest.fixture(scope="module")
def consumer(endpoint: Endpoint, keyholder: KeyHolder) -> Iterator[PredictionConsumer]:
    client = endpoint.client()
    consumer = PredictionConsumer(keyholder, client)
    consumer.open_session()
    yield consumer
    client.close()


def test_encrypted_predictions_over_tls_match_the_plaintext_model(
    endpoint: Endpoint,
    consumer: PredictionConsumer,
    trained_model: PolyMlp,
    mnist_split: DataSplit,
    ckks_params: CkksParams,
) -> None:
    # Prepare
    images = mnist_split.test.x[20:23]

    # Execute
    predictions = [
        consumer.send(f"ok-{i}", consumer.encrypt(image)) for i, image in enumerate(images)
    ]

    # Assert
    expected = trained_model.logits(images)
    assert [p.label for p in predictions] == list(expected.argmax(axis=1))
    for prediction, logits in zip(predictions, expected, strict=True):
        assert np.abs(prediction.logits - logits).max() < ckks_params.tolerance
        assert 0 < prediction.provider_s < prediction.round_trip_s
        assert prediction.response_bytes < 100_000 < prediction.request_bytes
    assert set(endpoint.gate.receipts) >= {"ok-0", "ok-1", "ok-2"}


def test_a_replayed_request_id_is_refused(
    consumer: PredictionConsumer, mnist_split: DataSplit
) -> None:
    ciphertext = consumer.encrypt(mnist_split.test.x[30])
    consumer.send("replay-1", ciphertext)
    with pytest.raises(PredictionError) as refused:
        consumer.send("replay-1", ciphertext)
    assert refused.value.code == "ALREADY_EXISTS"
    assert refused.value.message.endswith("request replay-1 was already served")


def test_the_receipt_records_the_hash_of_the_bytes_returned(
    endpoint: Endpoint, consumer: PredictionConsumer, mnist_split: DataSplit
) -> None:
    session = consumer.session
    assert session is not None
    message = encode_predict_request(
        PredictRequest(session.session_id, "hash-1", consumer.encrypt(mnist_split.test.x[31]))
    )
    with endpoint.client() as client:
        reply = client.call("Predict", message)
    result = reply[4 + 1 + 8 :]
    assert endpoint.gate.receipts["hash-1"] == hashlib.sha256(result).hexdigest()


def _refusal(endpoint: Endpoint, method: str, payload: bytes) -> PredictionError:
    with endpoint.client() as client, pytest.raises(PredictionError) as refused:
        client.call(method, payload)
    return refused.value


def _predict_message(session_id: bytes, ciphertext: bytes, request_id: str = "bad-1") -> bytes:
    return encode_predict_request(PredictRequest(session_id, request_id, ciphertext))


def test_bad_input_gets_a_clear_status_and_the_server_keeps_serving(
    endpoint: Endpoint, consumer: PredictionConsumer, mnist_split: DataSplit
) -> None:
    session = consumer.session
    assert session is not None
    good = consumer.encrypt(mnist_split.test.x[40])
    cases = [
        ("OpenSession", b"FLCK\x01", "INVALID_ARGUMENT", "public context is truncated"),
        ("Predict", b"nonsense", "INVALID_ARGUMENT", "predict request has the wrong magic bytes"),
        (
            "Predict",
            _predict_message(b"\x00" * 16, good),
            "NOT_FOUND",
            "unknown or expired session; open a session first",
        ),
        (
            "Predict",
            _predict_message(session.session_id, good[:-5]),
            "INVALID_ARGUMENT",
            "input ciphertext claims",
        ),
        (
            "Predict",
            _predict_message(session.session_id, b"\x00" * (MAX_PREDICT_BYTES + 1)),
            "RESOURCE_EXHAUSTED",
            f"the limit is {MAX_PREDICT_BYTES}",
        ),
        (
            "OpenSession",
            b"\x00" * (MAX_MESSAGE_BYTES + 1),
            "RESOURCE_EXHAUSTED",
            "Received message larger than max",
        ),
    ]
    for method, payload, code, message in cases:
        refusal = _refusal(endpoint, method, payload)
        assert (refusal.code, message in refusal.message) == (code, True), refusal
    assert consumer.send("after-errors", good).request_id == "after-errors"


def test_a_client_that_trusts_another_ca_cannot_connect(endpoint: Endpoint) -> None:
    stranger = self_signed_pem(new_key(), HOST_NAME, ca=True, dns_names=[HOST_NAME])
    with endpoint.client(ca=stranger) as client, pytest.raises(PredictionError) as refused:
        client.call("OpenSession", b"")
    assert refused.value.code == "UNAVAILABLE"


class _FailingGate(MemoryGate):
    def served(self, request_id: str, input_sha256: str, response_sha256: str) -> None:
        raise RuntimeError("ledger unreachable")


def test_a_failure_inside_the_provider_is_internal_and_releases_the_request(
    encrypted_model: EncryptedMlp, keyholder: KeyHolder, mnist_split: DataSplit
) -> None:
    key = new_key()
    certificate = self_signed_pem(key, HOST_NAME, ca=True, dns_names=[HOST_NAME])
    gate = _FailingGate()
    provider = PredictionProvider(encrypted_model, gate)
    port = provider.start(
        host="127.0.0.1", port=0, tls=ServerTls(certificate, private_key_pem(key))
    )
    try:
        client = PredictionClient(
            f"127.0.0.1:{port}", tls_ca_pem=certificate, server_name=HOST_NAME
        )
        consumer = PredictionConsumer(keyholder, client)
        ciphertext = consumer.encrypt(mnist_split.test.x[41])
        with pytest.raises(PredictionError) as failed:
            consumer.send("fails-1", ciphertext)
        assert failed.value.code == "INTERNAL"
        assert "Predict failed inside the provider" in failed.value.message
        with pytest.raises(PredictionError) as again:
            consumer.send("fails-1", ciphertext)  # released: refused for the same reason again
        assert again.value.code == "INTERNAL"
        client.close()
    finally:
        provider.stop()
