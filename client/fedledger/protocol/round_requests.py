"""Requests of a training round: SubmitUpdate's update and ReportResult's result.

Each is a :class:`~fedledger.protocol.codec.Record` that the client sends as canonical JSON and
the chaincode reads with the same record's parser, then checks here. A result is one of two
shapes, so all its fields are optional on the wire and :func:`parse_result_request` says which
combinations are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fedledger.protocol.canonical import quote
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import read_int, read_text
from fedledger.protocol.rounds import MAX_DECODE_ERROR_CHARS, OUTCOME_UNDECODABLE, read_hex64

__all__ = ["ResultRequest", "UpdateRequest", "parse_result_request", "parse_update_request"]


@dataclass(frozen=True)
class UpdateRequest(Record):
    """A SubmitUpdate argument: the base64 cipher vector and proof (not yet parsed), the samples.

    ``samples`` must equal the count the task declares for the submitter: it weighs the update
    in FedAvg, so a participant may not choose it per round.
    """

    NAME = "update"

    vector: str
    samples: int
    proof: str


def parse_update_request(text: str, what: str = "argument 3") -> UpdateRequest:
    """Parse ``{"vector": base64, "samples": positive int, "proof": base64}``.

    The vector and the proof are checked by the caller against the task. Returns the request.
    Raises ``ProtocolError``: the record's field messages, or bad samples.
    """
    request = UpdateRequest.from_argument(text, what)
    read_int(request.samples, "samples", minimum=1)
    return request


_WEIGHED = ("accuracy_bp", "base_accuracy_bp", "weights_hash")


@dataclass(frozen=True)
class ResultRequest(Record):
    """A ReportResult argument: the digest of the global weights a contributor derived and its
    local accuracy, or (``weights_hash`` None) why the aggregate did not decode."""

    NAME = "result"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({*_WEIGHED, "decode_error"})

    weights_hash: str | None = None
    accuracy_bp: int | None = None
    decode_error: str | None = None
    base_accuracy_bp: int | None = None

    @property
    def outcome(self) -> str:
        """What this report votes for: the weights digest, or ``"undecodable"``."""
        return self.weights_hash if self.weights_hash is not None else OUTCOME_UNDECODABLE


def parse_result_request(text: str, what: str = "argument 3") -> ResultRequest:
    """Parse ``{"weights_hash": 64 hex, "accuracy_bp": 0..10000, "base_accuracy_bp":
    0..10000}`` or ``{"decode_error": text}``.

    ``base_accuracy_bp`` is the reporter's accuracy of the round's base model on the same
    validation data, so that the acceptance rule compares like with like. Returns the request.
    Raises ``ProtocolError`` with the record's and the field readers' messages, or "a result is
    either weights_hash with accuracy_bp and base_accuracy_bp, or decode_error" for a mixture.
    """
    request = ResultRequest.from_argument(text, what)
    given = [name for name in _WEIGHED if getattr(request, name) is not None]
    if request.decode_error is not None:
        if given:
            raise ProtocolError(
                "a result is either weights_hash with accuracy_bp and base_accuracy_bp, or "
                "decode_error"
            )
        read_text(request.decode_error, "decode_error", max_chars=MAX_DECODE_ERROR_CHARS)
        return request
    missing = [name for name in _WEIGHED if name not in given]
    if missing:
        raise ProtocolError(f"result is missing field {quote(missing[0])}")
    read_hex64(request.weights_hash, "weights_hash")
    read_int(request.accuracy_bp, "accuracy_bp", minimum=0, maximum=10_000)
    read_int(request.base_accuracy_bp, "base_accuracy_bp", minimum=0, maximum=10_000)
    return request
