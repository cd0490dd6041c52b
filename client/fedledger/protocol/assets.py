"""Schemas of the ledger's first assets, Party and Advertisement, shared by client and chaincode.

A party is identified by ``<MSP id>/<SHA-256 hex of its certificate's DER bytes>``, so anybody can
compute the id of a transaction creator from its MSP id and certificate, and the id changes when
the certificate does. The stored records (what the chaincode writes and returns) are records here;
the requests that make them are in :mod:`fedledger.protocol.asset_requests`.

Stored Party::

    {"id", "msp_id", "cert_fingerprint", "roles": [sorted], "kx_public_key": base64,
     "registered_at": seconds, "registered_tx": tx id}

Stored Advertisement::

    {"id", "owner_msp", "owner_party", "description", "samples", "goal", "labels": {label: count},
     "description_hash": hex or null, "status": "active" | "withdrawn", "version",
     "created_at", "created_tx", "updated_at", "updated_tx"}

Times are whole seconds of the transaction timestamp since the Unix epoch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fedledger.protocol.canonical import show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError

if TYPE_CHECKING:  # the requests import this module's bounds
    from fedledger.protocol.asset_requests import AdvertisementRequest, PartyRequest

__all__ = [
    "ADVERTISEMENT_ACTIVE",
    "ADVERTISEMENT_TYPE",
    "ADVERTISEMENT_WITHDRAWN",
    "KX_PUBLIC_KEY_BYTES",
    "MAX_DESCRIPTION_CHARS",
    "MAX_GOAL_CHARS",
    "MAX_LABELS",
    "MAX_LABEL_CHARS",
    "PARTY_TYPE",
    "ROLES",
    "AdvertisementRecord",
    "PartyRecord",
    "advertisement_id",
    "advertisement_record",
    "canonical_pem",
    "certificate_der",
    "certificate_fingerprint",
    "parse_advertisement_id",
    "parse_party_id",
    "party_id",
    "party_record",
]

PARTY_TYPE = "Party"
ADVERTISEMENT_TYPE = "Advertisement"
ROLES = ("consumer", "coordinator", "enricher", "provider", "trainer")
KX_PUBLIC_KEY_BYTES = 32  # X25519
MAX_DESCRIPTION_CHARS = 4096
MAX_GOAL_CHARS = 1024
MAX_LABEL_CHARS = 128
MAX_LABELS = 1024
ADVERTISEMENT_ACTIVE = "active"
ADVERTISEMENT_WITHDRAWN = "withdrawn"

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----\n"
_PEM_END = b"-----END CERTIFICATE-----\n"
_PEM_LINE = 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ADVERTISEMENT_ID = re.compile(r"adv-[0-9a-f]{32}")


def canonical_pem(der: bytes) -> bytes:
    """Return the one PEM spelling of a DER certificate: 64-character base64 lines, one newline
    after each line and after the END line, no headers (what Go's pem.Encode and OpenSSL write)."""
    text = base64.b64encode(der)
    lines = [text[i : i + _PEM_LINE] for i in range(0, len(text), _PEM_LINE)]
    return _PEM_BEGIN + b"".join(line + b"\n" for line in lines) + _PEM_END


def _der_sequence_length(der: bytes) -> int | None:
    """Return the total length a DER SEQUENCE announces in its header, None if it is not one."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count or der[2] == 0:
        return None
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def certificate_der(certificate_pem: bytes) -> bytes:
    """Return the DER bytes of a creator's certificate, which must be its whole id bytes.

    Fabric's MSP verifies the signature with the *first* PEM block of any type in the creator's
    id bytes and ignores the rest; anything this contract fingerprints must be exactly that
    certificate. So the id bytes must be exactly one canonical ``CERTIFICATE`` block (see
    :func:`canonical_pem`) holding one DER SEQUENCE. Raises ``ProtocolError``: "creator id bytes
    must be exactly one PEM CERTIFICATE block, with nothing before or after it", "creator
    certificate is not canonical PEM …", "creator certificate is not a DER certificate".
    """
    if not (
        certificate_pem.startswith(_PEM_BEGIN)
        and certificate_pem.endswith(_PEM_END)
        and certificate_pem.count(b"-----BEGIN") == 1
        and certificate_pem.count(b"-----END") == 1
    ):
        raise ProtocolError(
            "creator id bytes must be exactly one PEM CERTIFICATE block, with nothing before or "
            "after it"
        )
    body = certificate_pem[len(_PEM_BEGIN) : -len(_PEM_END)]
    try:
        der = base64.b64decode(b"".join(body.split(b"\n")), validate=True)
    except binascii.Error:
        der = b""
    if not der or canonical_pem(der) != certificate_pem:
        raise ProtocolError(
            "creator certificate is not canonical PEM: 64-character base64 lines, no headers, "
            "one newline after each line"
        )
    if _der_sequence_length(der) != len(der):
        raise ProtocolError("creator certificate is not a DER certificate")
    return der


def certificate_fingerprint(certificate_pem: bytes) -> str:
    """Return the lowercase hex SHA-256 of the certificate's DER (raises as certificate_der)."""
    return hashlib.sha256(certificate_der(certificate_pem)).hexdigest()


def party_id(msp_id: str, certificate_pem: bytes) -> str:
    """Return the party id ``<msp_id>/<fingerprint>`` of an identity (raises as certificate_der)."""
    return f"{msp_id}/{certificate_fingerprint(certificate_pem)}"


def parse_party_id(text: str) -> tuple[str, str]:
    """Split a party id into (MSP id, fingerprint).

    Raises ``ProtocolError`` "party id must look like <MSP id>/<64 hex digits>, got "x"".
    """
    msp_id, _, fingerprint = text.rpartition("/")
    if not msp_id or "\x00" in msp_id or not _HEX64.fullmatch(fingerprint):
        raise ProtocolError(f"party id must look like <MSP id>/<64 hex digits>, got {show(text)}")
    return msp_id, fingerprint


@dataclass(frozen=True)
class PartyRecord(Record):
    """A stored Party (module docstring)."""

    NAME = "party"

    id: str
    msp_id: str
    cert_fingerprint: str
    roles: tuple[str, ...]
    kx_public_key: str
    registered_at: int
    registered_tx: str


def party_record(
    request: PartyRequest, msp_id: str, fingerprint: str, *, at: int, tx_id: str
) -> PartyRecord:
    """Return the stored Party for a validated request by the identity (msp_id, fingerprint)."""
    return PartyRecord(
        id=f"{msp_id}/{fingerprint}",
        msp_id=msp_id,
        cert_fingerprint=fingerprint,
        roles=request.roles,
        kx_public_key=request.kx_public_key,
        registered_at=at,
        registered_tx=tx_id,
    )


@dataclass(frozen=True)
class AdvertisementRecord(Record):
    """A stored Advertisement (module docstring)."""

    NAME = "advertisement"

    id: str
    owner_msp: str
    owner_party: str
    description: str
    samples: int
    goal: str
    labels: dict[str, int]
    description_hash: str | None
    status: str
    version: int
    created_at: int
    created_tx: str
    updated_at: int
    updated_tx: str


def advertisement_id(tx_id: str) -> str:
    """Return the id of the advertisement created by transaction ``tx_id``: ``adv-`` + 32 hex.

    Derived by hashing so that ids have one shape whatever the transaction id looks like.
    """
    return "adv-" + hashlib.sha256(b"Advertisement\x00" + tx_id.encode("utf-8")).hexdigest()[:32]


def parse_advertisement_id(text: str) -> str:
    """Return ``text`` if it is an advertisement id; raise ``ProtocolError`` otherwise."""
    if not _ADVERTISEMENT_ID.fullmatch(text):
        raise ProtocolError(
            f"advertisement id must look like adv-<32 hex digits>, got {show(text)}"
        )
    return text


def advertisement_record(
    request: AdvertisementRequest,
    *,
    ad_id: str,
    owner_msp: str,
    owner_party: str,
    at: int,
    tx_id: str,
    previous: AdvertisementRecord | None = None,
) -> AdvertisementRecord:
    """Return the stored Advertisement: new when ``previous`` is None, else its next version."""
    return AdvertisementRecord(
        id=ad_id,
        owner_msp=owner_msp,
        owner_party=owner_party,
        description=request.description,
        samples=request.samples,
        goal=request.goal,
        labels=dict(request.labels),
        description_hash=request.description_hash,
        status=ADVERTISEMENT_ACTIVE,
        version=1 if previous is None else previous.version + 1,
        created_at=at if previous is None else previous.created_at,
        created_tx=tx_id if previous is None else previous.created_tx,
        updated_at=at,
        updated_tx=tx_id,
    )
