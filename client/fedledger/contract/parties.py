"""Parties, advertisements and asset history: RegisterParty … ListAdvertisements, GetHistory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedledger.contract.paging import records_of
from fedledger.errors import AssetNotFound
from fedledger.ledger.interface import Contract
from fedledger.protocol.asset_requests import (
    AdvertisementListing,
    AdvertisementRequest,
    PartyRequest,
)
from fedledger.protocol.assets import AdvertisementRecord, PartyRecord
from fedledger.protocol.canonical import dumps, loads
from fedledger.protocol.errors import ProtocolError

__all__ = [
    "create_advertisement",
    "find_party",
    "get_advertisement",
    "get_history",
    "get_party",
    "list_advertisements",
    "list_parties",
    "register_party",
    "update_advertisement",
    "withdraw_advertisement",
]


def register_party(contract: Contract, request: PartyRequest) -> PartyRecord:
    """Register the contract's identity; returns the stored Party (ContractError if refused)."""
    return PartyRecord.from_bytes(contract.submit("RegisterParty", request.to_text()))


def get_party(contract: Contract, party_id: str) -> PartyRecord:
    """The registered party ``party_id``; raises AssetNotFound when it is not registered."""
    return PartyRecord.from_bytes(contract.evaluate("GetParty", party_id))


def find_party(contract: Contract, party_id: str) -> PartyRecord | None:
    """The registered party ``party_id``, or None when it is not registered."""
    try:
        return get_party(contract, party_id)
    except AssetNotFound:
        return None


def list_parties(contract: Contract) -> list[PartyRecord]:
    """Every registered party, by MSP id then fingerprint."""
    return records_of(PartyRecord, contract.evaluate("ListParties"))


def create_advertisement(contract: Contract, request: AdvertisementRequest) -> AdvertisementRecord:
    """Advertise data of the contract's (registered) identity; returns the stored advertisement."""
    return AdvertisementRecord.from_bytes(contract.submit("CreateAdvertisement", request.to_text()))


def update_advertisement(
    contract: Contract, ad_id: str, request: AdvertisementRequest
) -> AdvertisementRecord:
    """Replace one's own advertisement's fields; returns its next version."""
    return AdvertisementRecord.from_bytes(
        contract.submit("UpdateAdvertisement", ad_id, request.to_text())
    )


def withdraw_advertisement(contract: Contract, ad_id: str) -> AdvertisementRecord:
    """Withdraw one's own advertisement; returns it marked withdrawn."""
    return AdvertisementRecord.from_bytes(contract.submit("WithdrawAdvertisement", ad_id))


def get_advertisement(contract: Contract, ad_id: str) -> AdvertisementRecord:
    """The stored advertisement (withdrawn or not); raises AssetNotFound for an unknown id."""
    return AdvertisementRecord.from_bytes(contract.evaluate("GetAdvertisement", ad_id))


def list_advertisements(
    contract: Contract, listing: AdvertisementListing | None = None
) -> list[AdvertisementRecord]:
    """Advertisements in id order: active ones, or every one if the listing includes withdrawn.

    The default listing is sent as no argument at all, as the chaincode's default.
    """
    chosen = listing or AdvertisementListing()
    args = () if chosen == AdvertisementListing() else (chosen.to_text(),)
    return records_of(AdvertisementRecord, contract.evaluate("ListAdvertisements", *args))


def get_history(
    contract: Contract, object_type: str, key_parts: Sequence[str]
) -> list[dict[str, Any]]:
    """Every committed version of one asset, newest first (GetHistory).

    Returns the entries as JSON objects (``tx_id``, ``timestamp``, ``is_delete`` and the value),
    since a history holds whichever asset type was asked for. Raises ``ProtocolError`` when
    the answer is not a JSON array of objects.
    """
    raw = contract.evaluate("GetHistory", object_type, dumps(list(key_parts)).decode("utf-8"))
    entries = loads(raw)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ProtocolError("a history must be a JSON array of objects")
    return entries
