"""Prediction as a service on the ledger: offers, paid requests, receipts and disputes.

Shared by the chaincode (``fedledger_chaincode.prediction.requests``) and the clients (the
provider's ledger gate, the consumer, the CLI). Records are typed
:class:`~fedledger.protocol.codec.Record` dataclasses; requests (what a client sends) are parsed
strictly here. Times are whole seconds of the transaction timestamp since the Unix epoch; amounts
are whole credits.

- ``PredictionOffer`` (key: offer id): a participant of a task sells predictions of the task's
  current global model (``weights_hash``, ``round``) at ``price`` credits each, keeping
  ``fee_bp`` basis points as its fee; the rest goes to the task's participants pro rata to their
  declared samples. It names the TLS gRPC ``endpoint`` (host:port) and the CKKS parameter set.
- ``PredictionRequest`` (key: request id): a consumer paid ``price`` into the escrow
  ``escrow:request:<id>`` for one input whose ciphertext bytes hash to ``input_sha256``; the
  provider may answer and submit a receipt until ``deadline``, after which the consumer may
  reclaim the payment. Status open → receipted | reclaimed, each exactly once.
- ``PredictionReceipt`` (key: request id): the provider's statement of the SHA-256 of the response
  bytes it returned, with how the payment was split.
- ``PredictionDispute`` (key: dispute id): a consumer that asked two providers of the same model
  digest records that it disputes their answers (both requests its own and receipted).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from fedledger.protocol.canonical import loads, show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import read_int

__all__ = [
    "BASIS_POINTS",
    "CKKS_PARAMETER_SETS",
    "DISPUTE_TYPE",
    "MAX_REQUEST_SECONDS",
    "MIN_REQUEST_SECONDS",
    "OFFER_OPEN",
    "OFFER_STATUSES",
    "OFFER_TYPE",
    "OFFER_WITHDRAWN",
    "RECEIPT_TYPE",
    "REQUEST_ESCROW_KIND",
    "REQUEST_OPEN",
    "REQUEST_RECEIPTED",
    "REQUEST_RECLAIMED",
    "REQUEST_TYPE",
    "PredictionDispute",
    "PredictionOffer",
    "PredictionReceipt",
    "PredictionRequest",
    "dispute_id",
    "offer_id",
    "parse_dispute_id",
    "parse_endpoint",
    "parse_offer_id",
    "parse_request_id",
    "parse_request_seconds",
    "parse_sha256",
    "request_id",
    "split_payment",
]

OFFER_TYPE = "PredictionOffer"
REQUEST_TYPE = "PredictionRequest"
RECEIPT_TYPE = "PredictionReceipt"
DISPUTE_TYPE = "PredictionDispute"
REQUEST_ESCROW_KIND = "request"

OFFER_OPEN = "open"
OFFER_WITHDRAWN = "withdrawn"
OFFER_STATUSES = (OFFER_OPEN, OFFER_WITHDRAWN)
REQUEST_OPEN = "open"
REQUEST_RECEIPTED = "receipted"
REQUEST_RECLAIMED = "reclaimed"

BASIS_POINTS = 10_000
# How long a provider has to answer a paid request. Short deadlines let a test watch a reclaim;
# a day is plenty for a service answering in a fraction of a second. A client may stamp its
# transaction anywhere within the peers' time window, so either side can move the deadline by
# up to one window (README, "Encrypted prediction").
MIN_REQUEST_SECONDS = 5
MAX_REQUEST_SECONDS = 86_400
# The CKKS parameter sets an offer may name: the names of fedledger.inference.params
# (PARAMETER_SETS), repeated here because the chaincode imports only this package; a unit test
# keeps the two lists equal.
CKKS_PARAMETER_SETS = ("ckks-n8192-d3",)
MAX_HOST_CHARS = 253

_OFFER_ID = re.compile(r"offer-[0-9a-f]{32}")
_REQUEST_ID = re.compile(r"req-[0-9a-f]{32}")
_DISPUTE_ID = re.compile(r"dispute-[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]{2,45}\]")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


def _derived_id(prefix: str, kind: str, text: str) -> str:
    digest = hashlib.sha256(kind.encode("ascii") + b"\x00" + text.encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:32]}"


def offer_id(tx_id: str) -> str:
    """The id of the offer created by transaction ``tx_id``: ``offer-`` + 32 hex."""
    return _derived_id("offer", OFFER_TYPE, tx_id)


def request_id(tx_id: str) -> str:
    """The id of the request paid by transaction ``tx_id``: ``req-`` + 32 hex."""
    return _derived_id("req", REQUEST_TYPE, tx_id)


def dispute_id(first: str, second: str) -> str:
    """The id of the dispute of two requests (in either order): ``dispute-`` + 32 hex."""
    low, high = sorted((first, second))
    return _derived_id("dispute", DISPUTE_TYPE, f"{low}\x00{high}")


def _parse_id(text: object, pattern: re.Pattern[str], what: str, shape: str) -> str:
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise ProtocolError(f"{what} must look like {shape}, got {show(text)}")
    return text


def parse_offer_id(text: object) -> str:
    """Return ``text`` if it is an offer id; "offer id must look like offer-<32 hex digits>"."""
    return _parse_id(text, _OFFER_ID, "offer id", "offer-<32 hex digits>")


def parse_request_id(text: object) -> str:
    """Return ``text`` if it is a request id; "request id must look like req-<32 hex digits>"."""
    return _parse_id(text, _REQUEST_ID, "request id", "req-<32 hex digits>")


def parse_dispute_id(text: object) -> str:
    """Return ``text`` if it is a dispute id; raise ``ProtocolError`` otherwise."""
    return _parse_id(text, _DISPUTE_ID, "dispute id", "dispute-<32 hex digits>")


def parse_sha256(text: object, what: str) -> str:
    """Return ``text`` if it is a SHA-256 digest in lowercase hex.

    Raises ``ProtocolError`` "<what> must be 64 lowercase hex digits, got …".
    """
    if not isinstance(text, str) or not _SHA256.fullmatch(text):
        raise ProtocolError(f"{what} must be 64 lowercase hex digits, got {show(text)}")
    return text


def parse_endpoint(value: object) -> str:
    """Return ``value`` if it is ``host:port`` (a DNS name, IPv4 or [IPv6] literal; port 1-65535).

    Raises ``ProtocolError`` "endpoint must be host:port …, got …".
    """
    shape = "endpoint must be host:port (a host name or IP address and a port 1-65535)"
    if not isinstance(value, str) or len(value) > MAX_HOST_CHARS + 6:
        raise ProtocolError(f"{shape}, got {show(value)}")
    host, sep, port = value.rpartition(":")
    if not sep or not _PORT.fullmatch(port) or int(port) > 65535:
        raise ProtocolError(f"{shape}, got {show(value)}")
    if not (_HOST_NAME.fullmatch(host) or _IPV6.fullmatch(host)):
        raise ProtocolError(f"{shape}, got {show(value)}")
    return value


def parse_request_seconds(text: str) -> int:
    """Parse the RequestPrediction duration: JSON integer text, MIN to MAX_REQUEST_SECONDS.

    Raises ``ProtocolError``: "ttl_seconds must be a JSON integer: …", "ttl_seconds must be an
    integer of at least 5, got 2", "ttl_seconds must be at most 86400, got …".
    """
    try:
        value = loads(text)
    except ProtocolError as exc:
        raise ProtocolError(f"ttl_seconds must be a JSON integer: {exc}") from None
    return read_int(value, "ttl_seconds", minimum=MIN_REQUEST_SECONDS, maximum=MAX_REQUEST_SECONDS)


def split_payment(price: int, fee_bp: int) -> tuple[int, int]:
    """Return (provider fee, participants' part) of ``price``: fee = price * fee_bp // 10000."""
    fee = price * fee_bp // BASIS_POINTS
    return fee, price - fee


@dataclass(frozen=True)
class PredictionOffer(Record):
    """An offer of predictions (module docstring)."""

    NAME = "prediction offer"

    id: str
    task_id: str
    provider: str
    provider_msp: str
    model: str
    weights_hash: str
    round: int
    price: int
    fee_bp: int
    endpoint: str
    params: str
    status: str
    created_at: int
    created_tx: str
    withdrawn_at: int | None = None
    withdrawn_tx: str | None = None


@dataclass(frozen=True)
class PredictionRequest(Record):
    """A paid request for one prediction (module docstring)."""

    NAME = "prediction request"

    id: str
    offer_id: str
    task_id: str
    provider: str
    consumer: str
    weights_hash: str
    input_sha256: str
    price: int
    escrow: str
    status: str
    created_at: int
    created_tx: str
    deadline: int
    closed_at: int | None = None
    closed_tx: str | None = None


@dataclass(frozen=True)
class PredictionReceipt(Record):
    """The provider's receipt of a request and how its payment was split."""

    NAME = "prediction receipt"

    request_id: str
    offer_id: str
    provider: str
    response_sha256: str
    provider_fee: int
    shares: dict[str, int]
    at: int
    tx_id: str


@dataclass(frozen=True)
class PredictionDispute(Record):
    """A consumer's record that two providers of one model digest answered differently."""

    NAME = "prediction dispute"

    id: str
    consumer: str
    weights_hash: str
    requests: tuple[str, ...]
    offers: tuple[str, ...]
    providers: tuple[str, ...]
    response_hashes: tuple[str, ...]
    at: int
    tx_id: str
