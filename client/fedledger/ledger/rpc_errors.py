"""Translate the Gateway's gRPC errors into fedledger errors, once, at the edge.

The gateway reports failures as a gRPC status whose ``grpc-status-details-bin`` trailer holds a
``google.rpc.Status`` with one ``gateway.ErrorDetail{address, msp_id, message}`` per peer or
orderer that failed. A chaincode rejection reads ``chaincode response 500, <message>`` there (and
in the status message of Evaluate); the contract's message after that prefix is part of
fedledger's interface, so it is returned verbatim in a ContractError.

``google.rpc.Status`` is declared here in a private descriptor pool because the googleapis protos
are not a dependency; the wire format is fixed, so the declaration is three fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from fabric_protos.gateway import gateway_pb2
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from fedledger.errors import ContractError, GatewayError, LedgerError

__all__ = [
    "STATUS_DETAILS_KEY",
    "ErrorDetail",
    "chaincode_message",
    "chaincode_response",
    "decode_status_details",
    "encode_status_details",
    "error_details",
    "translate_rpc_error",
]

STATUS_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_DETAIL_TYPE = "type.googleapis.com/gateway.ErrorDetail"
_CHAINCODE_RESPONSE = re.compile(r"chaincode response (\d+), (.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class ErrorDetail:
    """One node's part of a gateway failure."""

    address: str
    msp_id: str
    message: str


def _status_class() -> Any:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="fedledger/google_rpc_status.proto",
        package="google.rpc",
        dependency=["google/protobuf/any.proto"],
        syntax="proto3",
    )
    status = file.message_type.add(name="Status")
    field = descriptor_pb2.FieldDescriptorProto
    status.field.add(name="code", number=1, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL)
    status.field.add(name="message", number=2, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    status.field.add(
        name="details",
        number=3,
        type=field.TYPE_MESSAGE,
        type_name=".google.protobuf.Any",
        label=field.LABEL_REPEATED,
    )
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.Status"))


_Status = _status_class()


def encode_status_details(code: int, message: str, details: Iterable[ErrorDetail]) -> bytes:
    """Return the ``grpc-status-details-bin`` bytes for a status with gateway error details.

    The gateway writes these; fedledger uses this for in-process fakes of the gateway.
    """
    status = _Status(code=code, message=message)
    for detail in details:
        entry = status.details.add()
        entry.type_url = _ERROR_DETAIL_TYPE
        entry.value = gateway_pb2.ErrorDetail(
            address=detail.address, msp_id=detail.msp_id, message=detail.message
        ).SerializeToString()
    result: bytes = status.SerializeToString()
    return result


def decode_status_details(blob: bytes) -> list[ErrorDetail]:
    """Return the gateway ErrorDetail entries of a ``google.rpc.Status``; others are skipped.

    Raises LedgerError when the bytes are not a Status message.
    """
    try:
        status = _Status.FromString(blob)
        return [
            _detail(gateway_pb2.ErrorDetail.FromString(entry.value))
            for entry in status.details
            if entry.type_url.endswith("/gateway.ErrorDetail")
        ]
    except DecodeError as exc:
        raise LedgerError(f"malformed gRPC status details: {exc}") from exc


def _detail(message: gateway_pb2.ErrorDetail) -> ErrorDetail:
    return ErrorDetail(address=message.address, msp_id=message.msp_id, message=message.message)


def error_details(error: grpc.RpcError) -> list[ErrorDetail]:
    """Return the gateway ErrorDetail entries carried by a failed call (empty when none)."""
    trailers = _call_attr(error, "trailing_metadata") or ()
    for key, value in trailers:
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return decode_status_details(value)
            except LedgerError:
                return []
    return []


def chaincode_message(text: str) -> str | None:
    """Return the contract's own message from ``... chaincode response <status>, <message>``.

    Returns None when ``text`` does not carry a chaincode response.
    """
    response = chaincode_response(text)
    return response[1] if response else None


def chaincode_response(text: str) -> tuple[int, str] | None:
    """Return (status, message) from ``... chaincode response <status>, <message>``, or None."""
    match = _CHAINCODE_RESPONSE.search(text)
    return (int(match.group(1)), match.group(2)) if match else None


def translate_rpc_error(error: grpc.RpcError, stage: str, tx_id: str = "") -> LedgerError:
    """Return the fedledger error for a failed gateway call at ``stage``.

    A chaincode rejection becomes ContractError with the contract's exact message; any other
    failure becomes GatewayError whose details name the gRPC code and every node's message.
    """
    details = error_details(error)
    status_message = str(_call_attr(error, "details") or "")
    for text in [detail.message for detail in details] + [status_message]:
        response = chaincode_response(text)
        if response is not None:
            status, message = response
            return ContractError.of_status(message, status, tx_id=tx_id, stage=stage)
    return GatewayError(stage, describe(error, details), tx_id=tx_id)


def describe(error: grpc.RpcError, details: Sequence[ErrorDetail] = ()) -> str:
    """Return a one-line account of a failed call: code, status message and node messages."""
    code = _call_attr(error, "code")
    name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
    text = f"{name}: {_call_attr(error, 'details') or error}"
    nodes = "; ".join(f"{d.msp_id or '?'} {d.address or '?'}: {d.message}" for d in details)
    return f"{text} [{nodes}]" if nodes else text


def status_code(error: grpc.RpcError) -> grpc.StatusCode | None:
    """Return the gRPC status code of a failed call, or None when it has none."""
    code = _call_attr(error, "code")
    return code if isinstance(code, grpc.StatusCode) else None


def _call_attr(error: grpc.RpcError, name: str) -> Any:
    # Failed calls are also grpc.Call objects, but a bare RpcError (e.g. from a test) is not.
    method = getattr(error, name, None)
    return method() if callable(method) else None
