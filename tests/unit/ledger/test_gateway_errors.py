"""Translating the gateway's gRPC errors: the contract's message verbatim, or the details."""

from __future__ import annotations

import grpc
import pytest
from fabric_protos.gateway import gateway_pb2

from fedledger.errors import ContractError, GatewayError, LedgerError
from fedledger.ledger.rpc_errors import (
    STATUS_DETAILS_KEY,
    ErrorDetail,
    chaincode_message,
    decode_status_details,
    encode_status_details,
    error_details,
    translate_rpc_error,
)


class FailedCall(grpc.RpcError):
    """A failed unary call as grpc hands it to the client: code, details, trailing metadata."""

    def __init__(
        self, code: grpc.StatusCode, message: str, details: list[ErrorDetail] | None = None
    ) -> None:
        super().__init__(message)
        self._code = code
        self._message = message
        self._trailers: tuple[tuple[str, bytes], ...] = ()
        if details is not None:
            blob = encode_status_details(code.value[0], message, details)
            self._trailers = ((STATUS_DETAILS_KEY, blob),)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return self._trailers


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_decode_status_details_reads_hand_encoded_google_rpc_status() -> None:
    # Prepare: google.rpc.Status{code=10, message, details=[Any{type_url, ErrorDetail}]} by hand
    detail = gateway_pb2.ErrorDetail(
        address="peer0.org2:9051", msp_id="Org2MSP", message="chaincode response 500, no"
    ).SerializeToString()
    any_entry = _field(1, b"type.googleapis.com/gateway.ErrorDetail") + _field(2, detail)
    other = _field(1, b"type.googleapis.com/google.rpc.DebugInfo") + _field(2, b"")
    blob = b"\x08" + _varint(10) + _field(2, b"failed") + _field(3, any_entry) + _field(3, other)

    # Execute
    details = decode_status_details(blob)

    # Assert
    assert details == [ErrorDetail("peer0.org2:9051", "Org2MSP", "chaincode response 500, no")]


def test_decode_status_details_rejects_bytes_that_are_not_a_status() -> None:
    with pytest.raises(LedgerError, match="malformed gRPC status details"):
        decode_status_details(b"\xff\xff\xff\xff")


def test_error_details_round_trip_through_the_trailer() -> None:
    # Prepare
    details = [ErrorDetail("a:1", "Org1MSP", "m1"), ErrorDetail("b:2", "Org2MSP", "m2")]
    error = FailedCall(grpc.StatusCode.ABORTED, "failed", details)

    # Execute / Assert
    assert error_details(error) == details


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chaincode response 500, party already registered", "party already registered"),
        ("chaincode response 400, a, b, c", "a, b, c"),
        ("chaincode response 500, line one\nline two", "line one\nline two"),
        ("chaincode response 500, ", ""),
        (
            "evaluate call to endorser returned error: chaincode response 500, no such task: t1",
            "no such task: t1",
        ),
        ("make sure the chaincode fedledger has been successfully defined", None),
        ("chaincode response five hundred, x", None),
    ],
)
def test_chaincode_message_strips_exactly_the_gateway_prefix(
    text: str, expected: str | None
) -> None:
    assert chaincode_message(text) == expected


def test_endorse_rejection_becomes_contract_error_with_the_exact_message() -> None:
    # Prepare: what the gateway sends when the first endorser's chaincode refuses
    message = "round 3 of task t1 is closed"
    error = FailedCall(
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
        [ErrorDetail("peer0.org1:7051", "Org1MSP", f"chaincode response 500, {message}")],
    )

    # Execute
    translated = translate_rpc_error(error, "endorse", "tx9")

    # Assert
    assert isinstance(translated, ContractError)
    assert (translated.message, translated.tx_id, translated.stage) == (message, "tx9", "endorse")


def test_evaluate_rejection_becomes_contract_error_from_the_status_message_alone() -> None:
    # Prepare: no details trailer, only Evaluate's status message
    error = FailedCall(
        grpc.StatusCode.UNKNOWN,
        "evaluate call to endorser returned error: chaincode response 500, unknown party bob",
    )

    # Execute
    translated = translate_rpc_error(error, "evaluate", "tx1")

    # Assert
    assert isinstance(translated, ContractError)
    assert (translated.message, translated.stage) == ("unknown party bob", "evaluate")


def test_peer_failure_becomes_gateway_error_naming_code_stage_and_every_node() -> None:
    # Prepare
    error = FailedCall(
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
        [ErrorDetail("peer0.org1:7051", "Org1MSP", "chaincode fedledger not found")],
    )

    # Execute
    translated = translate_rpc_error(error, "endorse", "tx2")

    # Assert
    assert type(translated) is GatewayError
    assert (translated.stage, translated.tx_id) == ("endorse", "tx2")
    assert "ABORTED" in translated.details
    assert "Org1MSP peer0.org1:7051: chaincode fedledger not found" in translated.details
    assert str(translated).startswith("endorse failed for transaction tx2: ")


def test_a_bare_rpc_error_still_becomes_a_gateway_error() -> None:
    # Execute
    translated = translate_rpc_error(grpc.RpcError("socket closed"), "submit")

    # Assert
    assert isinstance(translated, GatewayError)
    assert "socket closed" in translated.details
